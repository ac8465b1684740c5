"""pad: add constant values around the last dims (``torch.nn.functional.pad``)."""

from __future__ import annotations

from ..autograd.function import Function
from ..backend import array_module


class Pad(Function):
    """y = x with ``value`` added around the last dims: (..., n) -> (..., left + n + right)."""

    def forward(self, x, pad=(), value=0.0):
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ValueError(
                f"pad: needs pairs (left, right) for at most {x.ndim} dims (last dim first), "
                f"got {tuple(pad)} for a tensor of shape {x.shape}")
        if any(p < 0 for p in pad):
            raise ValueError(f"pad: negative padding is not supported, got {tuple(pad)}")
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):  # PyTorch lists the last dim first
            widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        self.index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return array_module(x).pad(x, widths, mode="constant", constant_values=value)

    def backward(self, g):
        # the padding is constant: only the original positions lead back to x
        return g[self.index]


def pad(x, pad, mode: str = "constant", value: float = 0.0):
    if mode != "constant":
        raise NotImplementedError(f"pad: only mode='constant' is supported, got {mode!r}")
    return Pad.apply(x, pad=tuple(pad), value=value)
