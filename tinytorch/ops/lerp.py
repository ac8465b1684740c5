"""lerp: linear interpolation between two tensors, ``start + weight * (end - start)``.

weight 0 gives start, weight 1 gives end, 0.5 the midpoint; weight may be a number or a
tensor, and all three broadcast together. (The exponential moving average of weights,
``avg.lerp_(param, 1 - decay)``, is the classic use.)
"""

from __future__ import annotations

from ..autograd.function import Function
from ..backend import array_module


class Lerp(Function):
    """y = start + weight * (end - start), elementwise (all three broadcast)."""

    broadcasts = True
    promotes = True  # a float64 weight with float32 ends: gradients cast back
    saves_inputs = (0, 1, 2)

    def forward(self, start, end, weight):
        if start.dtype.kind != "f":
            raise TypeError(f"lerp: needs floating point tensors, got {start.dtype}")
        if end.dtype != start.dtype:
            raise RuntimeError(
                f"lerp: start is {start.dtype} but end is {end.dtype}; they must have the same "
                f"dtype (convert one with .to(dtype))")
        w = weight if hasattr(weight, "dtype") else start.dtype.type(weight)
        self.save(start, end, w)
        # as PyTorch: from the nearer end, so that weight 1 gives exactly end
        return array_module(start).where(w < 0.5, start + w * (end - start),
                                         end - (end - start) * (1 - w)).astype(start.dtype,
                                                                               copy=False)

    def backward(self, g):
        # y = a + w (b - a) = (1 - w) a + w b  =>  dy/da = 1 - w, dy/db = w, dy/dw = b - a
        a, b, w = self.saved
        return (g * (1 - w) if self.needs_grad(0) else None,
                g * w if self.needs_grad(1) else None,
                g * (b - a) if self.needs_grad(2) else None)


def lerp(input, end, weight):  # noqa: A002 (PyTorch's names)
    """``input + weight * (end - input)``; weight a number or a tensor."""
    return Lerp.apply(input, end, weight)
