"""The position-wise feed-forward network: the same two-layer MLP at every position.

    FFN(x) = linear2(dropout(activation(linear1(x))))     d_model -> d_ff -> d_model

Attention mixes information *between* positions; this block then transforms each
position on its own (d_ff is usually 4 * d_model).
"""

from __future__ import annotations

from tinytorch import nn

#: The activations a FeedForward can use: ReLU (the paper), GELU (BERT), and GELU's tanh
#: approximation, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2).
ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "gelu_tanh": lambda: nn.GELU(approximate="tanh")}


class FeedForward(nn.Module):
    """x (batch, len, d_model) -> (batch, len, d_model)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, activation: str = "relu"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"FeedForward: activation must be one of {', '.join(ACTIVATIONS)}, "
                             f"got {activation!r}")
        self.linear1 = nn.Linear(d_model, d_ff)
        self.activation = ACTIVATIONS[activation]()
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.linear2(self.dropout(self.activation(self.linear1(x))))
