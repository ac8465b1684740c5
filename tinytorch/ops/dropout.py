"""dropout: during training, zero each element with probability p and scale the
survivors by 1/(1 - p), so the expected value is unchanged (inverted dropout)."""

from __future__ import annotations

from ..autograd.function import Function
from ..backend import device_of
from ..random import bernoulli_array


class Dropout(Function):
    """y = x * m / (1 - p), m a random 0/1 mask with P(m = 1) = 1 - p; y has x's shape."""

    def forward(self, x, p=0.5):
        keep = bernoulli_array(x.shape, 1.0 - p, device_of(x))
        self.scale = 1.0 / (1.0 - p)
        self.save(keep)
        return x * keep * x.dtype.type(self.scale)

    def backward(self, g):
        # y = x * m / (1 - p) for the fixed random 0/1 mask m  =>  dL/dx = g * m / (1 - p)
        (keep,) = self.saved
        return g * keep * g.dtype.type(self.scale)


def dropout(x, p: float = 0.5, training: bool = True, inplace: bool = False):
    """``torch.nn.functional.dropout``: identity when not training or p == 0."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    return Dropout.apply(x, p=p)
