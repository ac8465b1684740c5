"""The translator's model in plain PyTorch: the twin the benchmarks race against.

Same architecture as ``transformer.Transformer`` with its defaults: ``nn.Transformer``
(post-LN, ReLU, final stack norms, batch_first) between token embeddings scaled by
sqrt(d_model) plus sinusoidal positions, and one embedding matrix tied to the source,
the target and the output projection. Same loss: mean cross-entropy over non-padding
targets with label smoothing. Only imported when PyTorch is installed.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from transformer.positional import sinusoidal_table


class TorchTranslator(nn.Module):
    """src (batch, src_len), tgt_in (batch, tgt_len) int64 -> logits (batch, tgt_len, vocab)."""

    def __init__(self, vocab_size: int, d_model: int, nhead: int, num_layers: int,
                 dim_feedforward: int, dropout: float = 0.0, max_len: int = 256, pad_id: int = 0):
        super().__init__()
        self.pad_id, self.scale = pad_id, math.sqrt(d_model)
        self.embed = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
        self.register_buffer("positions", torch.from_numpy(sinusoidal_table(max_len, d_model)))
        self.core = nn.Transformer(d_model, nhead, num_layers, num_layers, dim_feedforward,
                                   dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)

    def _embed(self, ids):
        return self.drop(self.embed(ids) * self.scale + self.positions[: ids.shape[1]])

    def forward(self, src, tgt_in):
        n = tgt_in.shape[1]
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
        src_pad, tgt_pad = src == self.pad_id, tgt_in == self.pad_id
        y = self.core(self._embed(src), self._embed(tgt_in), tgt_mask=causal,
                      src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                      memory_key_padding_mask=src_pad)
        return y @ self.embed.weight.T

    def loss(self, src, tgt_in, tgt_out, label_smoothing: float = 0.0):
        logits = self(src, tgt_in)
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                           ignore_index=self.pad_id, label_smoothing=label_smoothing)
