"""Where each token is: positional encodings, and token embeddings scaled by sqrt(d_model).

Attention is blind to order (permuting the keys permutes nothing in the result), so
position is added to each token's vector. The paper's sinusoidal encoding:

    PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
    PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))

``2i`` indexes *features* (pairs of columns), not positions: each pair is a clock
hand turning at its own speed, fast for the first features, slow for the last.
"""

from __future__ import annotations

import math

import numpy as np

import tinytorch as tt
from tinytorch import nn


def sinusoidal_table(max_len: int, d_model: int) -> np.ndarray:
    """(max_len, d_model) float32: the paper's table, sin in even columns, cos in odd ones."""
    pos = np.arange(max_len, dtype=np.float64)[:, None]          # (max_len, 1)
    two_i = np.arange(0, d_model, 2, dtype=np.float64)[None, :]  # (1, ceil(d_model / 2))
    angle = pos / np.power(10000.0, two_i / d_model)
    table = np.zeros((max_len, d_model))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return table.astype(np.float32)


class _Positions(nn.Module):
    def _check(self, x, offset):
        n = x.shape[1]
        if offset + n > self.max_len:
            raise ValueError(
                f"{type(self).__name__}: a sequence reaching position {offset + n} is longer than "
                f"the positional table ({self.max_len} positions); build the model with a larger "
                f"max_len or cut the input")


class PositionalEncoding(_Positions):
    """x (batch, len, d_model) -> dropout(x + PE[offset : offset + len]). No parameters."""

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
        super().__init__()
        self.max_len = max_len
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("pe", tt.from_numpy(sinusoidal_table(max_len, d_model)),
                             persistent=False)

    def forward(self, x, offset: int = 0):
        self._check(x, offset)
        pe = self.pe[offset: offset + x.shape[1]]                 # (len, d_model)
        return self.dropout(x + pe.to(x.dtype))


class LearnedPositionalEmbedding(_Positions):
    """x (batch, len, d_model) -> dropout(x + P[offset : offset + len]), P learned (GPT/BERT)."""

    def __init__(self, d_model: int, max_len: int = 512, dropout: float = 0.0):
        super().__init__()
        self.max_len = max_len
        self.embedding = nn.Embedding(max_len, d_model)
        nn.init.normal_(self.embedding.weight, std=0.02)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, offset: int = 0):
        self._check(x, offset)
        pos = tt.arange(offset, offset + x.shape[1], device=x.device)
        return self.dropout(x + self.embedding(pos))


class TokenEmbedding(nn.Module):
    """ids (batch, len) -> (batch, len, d_model), the looked-up vectors times sqrt(d_model).

    The scale (from the paper) puts the embeddings on the same footing as the
    positional encoding, whose entries have magnitude ~1. ``scale=False`` leaves the
    vectors as they are (GPT-2 and BERT: their learned positions are trained to match).
    """

    def __init__(self, vocab_size: int, d_model: int, padding_idx: int | None = None,
                 scale: bool = True):
        super().__init__()
        self.vocab_size, self.d_model = vocab_size, d_model
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=padding_idx)
        nn.init.normal_(self.embedding.weight, std=d_model ** -0.5)
        if padding_idx is not None:
            with tt.no_grad():
                self.embedding.weight[padding_idx] = 0
        self.scale = math.sqrt(d_model) if scale else 1.0

    @property
    def weight(self):
        return self.embedding.weight

    def forward(self, ids):
        # (out-of-vocabulary ids and float ids are refused by the embedding op, with the sizes)
        x = self.embedding(ids)
        return x * self.scale if self.scale != 1.0 else x
