"""layer_norm: normalise each vector to mean 0 and variance 1, then scale and shift.

    y = (x - mean) / sqrt(var + eps) * gamma + beta      over the last dims

with the *biased* variance (divide by N) and eps inside the square root, exactly
as ``torch.nn.LayerNorm``. Fused: one node, and a backward that needs only the
normalised x-hat and 1/std, instead of the ~10 nodes of the composed formula
(``layer_norm_composed`` in tests/test_fused.py is the twin it is tested against).
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..backend import array_module


class LayerNorm(Function):
    """x (..., *normalized_shape), weight/bias normalized_shape or None -> y like x."""

    saves_inputs = (1,)

    def forward(self, x, weight=None, bias=None, normalized_shape=(), eps=1e-5):
        k = len(normalized_shape)
        if tuple(x.shape[x.ndim - k:]) != tuple(normalized_shape) or k > x.ndim:
            raise RuntimeError(
                f"layer_norm: input of shape {x.shape} does not end with normalized_shape "
                f"{tuple(normalized_shape)}; the last {k} dim(s) must match")
        if x.dtype.kind != "f":
            raise TypeError(f"layer_norm: needs a floating point input, got {x.dtype}")
        xp = array_module(x)
        self.axes = tuple(range(x.ndim - k, x.ndim))
        self.n = math.prod(normalized_shape)
        mean = x.mean(axis=self.axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=self.axes, keepdims=True)
        rstd = 1 / xp.sqrt(var + eps)
        xhat = xc * rstd
        self.save(xhat, rstd, weight)
        y = xhat
        if weight is not None:
            y = y * weight
        if bias is not None:
            y = y + bias
        return y

    def backward(self, g):
        # With xhat = (x - mu) * r, r = 1/sqrt(var + eps), y = xhat * gamma + beta:
        #   dL/dgamma = sum over rows of g * xhat,   dL/dbeta = sum over rows of g
        #   with h = g * gamma (the gradient w.r.t. xhat), over the normalised dims:
        #   dL/dx = r * (h - mean(h) - xhat * mean(h * xhat))
        # (mu and var depend on every x_i: the two mean terms are their contributions.)
        xhat, rstd, weight = self.saved
        nparents = len(self.parents)
        row_axes = tuple(range(g.ndim - len(self.axes)))
        gw = (g * xhat).sum(axis=row_axes) if nparents > 1 and self.needs_grad(1) else None
        gb = g.sum(axis=row_axes) if nparents > 2 and self.needs_grad(2) else None
        gx = None
        if self.needs_grad(0):
            h = g * weight if weight is not None else g
            mean_h = h.mean(axis=self.axes, keepdims=True)
            mean_hx = (h * xhat).mean(axis=self.axes, keepdims=True)
            gx = rstd * (h - mean_h - xhat * mean_hx)
        return gx, gw, gb


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``torch.nn.functional.layer_norm``: normalise over the last len(normalized_shape) dims."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    if weight is None and bias is not None:
        raise ValueError("layer_norm: a bias without a weight is not supported; pass both")
    args = (x,) if weight is None else (x, weight) if bias is None else (x, weight, bias)
    return LayerNorm.apply(*args, normalized_shape=shape, eps=eps)
