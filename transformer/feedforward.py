"""The position-wise feed-forward network: the same two-layer MLP at every position.

    FFN(x) = linear2(dropout(activation(linear1(x))))     d_model -> d_ff -> d_model

Attention mixes information *between* positions; this block then transforms each
position on its own (d_ff is usually 4 * d_model).
"""

from __future__ import annotations

from tinytorch import nn


class FeedForward(nn.Module):
    """x (batch, len, d_model) -> (batch, len, d_model)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "relu"):
        super().__init__()
        if activation not in ("relu", "gelu"):
            raise ValueError(f"FeedForward: activation must be 'relu' or 'gelu', got {activation!r}")
        self.linear1 = nn.Linear(d_model, d_ff)
        self.activation = nn.ReLU() if activation == "relu" else nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))
