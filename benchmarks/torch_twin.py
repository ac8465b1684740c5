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


def embeddings(module: nn.Module, vocab_size: int, d_model: int, max_len: int, pad_id: int):
    """Give ``module`` our embeddings: ``embed`` (vocab_size, d_model), initialised as
    transformer.positional.TokenEmbedding (N(0, 1/d_model), the pad row 0), and the
    sinusoidal table as the buffer ``positions`` (max_len, d_model). Both twins use it."""
    module.embed = nn.Embedding(vocab_size, d_model, padding_idx=pad_id)
    with torch.no_grad():
        nn.init.normal_(module.embed.weight, std=d_model ** -0.5)
        module.embed.weight[pad_id] = 0
    module.register_buffer("positions", torch.from_numpy(sinusoidal_table(max_len, d_model)),
                           persistent=False)


class TorchTranslator(nn.Module):
    """src (batch, src_len), tgt_in (batch, tgt_len) int64 -> logits (batch, tgt_len, vocab)."""

    def __init__(self, vocab_size: int, d_model: int, nhead: int, num_layers: int,
                 dim_feedforward: int, dropout: float = 0.0, max_len: int = 256, pad_id: int = 0):
        super().__init__()
        self.pad_id, self.scale = pad_id, math.sqrt(d_model)
        embeddings(self, vocab_size, d_model, max_len, pad_id)
        self.core = nn.Transformer(d_model, nhead, num_layers, num_layers, dim_feedforward,
                                   dropout, batch_first=True)
        self.drop = nn.Dropout(dropout)

    def _embed(self, ids):
        return self.drop(self.embed(ids) * self.scale + self.positions[: ids.shape[1]])

    def encode(self, src):
        src_pad = src == self.pad_id
        return self.core.encoder(self._embed(src), src_key_padding_mask=src_pad), src_pad

    def decode(self, tgt_in, memory, src_pad):
        n = tgt_in.shape[1]
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool, device=tgt_in.device), 1)
        y = self.core.decoder(self._embed(tgt_in), memory, tgt_mask=causal,
                              tgt_key_padding_mask=tgt_in == self.pad_id,
                              memory_key_padding_mask=src_pad)
        return y @ self.embed.weight.T

    def forward(self, src, tgt_in):
        return self.decode(tgt_in, *self.encode(src))

    @torch.no_grad()
    def greedy(self, src, bos_id: int, steps: int, eos_id: int | None = None):
        """Greedy decoding without a cache (nn.Transformer has none): (batch, <= steps) ids.
        Stops early once every row has produced ``eos_id``."""
        memory, src_pad = self.encode(src)
        prefix = torch.full((src.shape[0], 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(src.shape[0], dtype=torch.bool, device=src.device)
        for _ in range(steps):
            logits = self.decode(prefix, memory, src_pad)[:, -1]
            logits[:, self.pad_id] = -torch.inf
            nxt = logits.argmax(-1)
            prefix = torch.cat([prefix, nxt[:, None]], dim=1)
            if eos_id is not None:
                done |= nxt == eos_id
                if bool(done.all()):
                    break
        return prefix[:, 1:]

    def loss(self, src, tgt_in, tgt_out, label_smoothing: float = 0.0):
        logits = self(src, tgt_in)
        return nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=self.pad_id,
            label_smoothing=label_smoothing)


def to_tinytorch_state(model: TorchTranslator) -> dict:
    """The twin's weights under our Transformer's names (NumPy arrays), for checking that
    both compute the same function."""
    from transformer.torch_compat import convert_state_dict, torch_state_to_numpy  # noqa: PLC0415

    state = {}
    for key, value in convert_state_dict(torch_state_to_numpy(model)).items():
        if key == "embed.weight":
            key = "src_embed.embedding.weight"
        state[key.removeprefix("core.")] = value
    return state
