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
        self.n = n = math.prod(normalized_shape)
        # Work on (rows, n): row means as products with a ones vector (one BLAS GEMV is
        # several times faster than NumPy's .mean over a short last axis).
        x2 = x.reshape(-1, n)
        ones = xp.ones(n, dtype=x.dtype)
        xc = x2 - ((x2 @ ones) / n)[:, None]                       # x - mean
        var = (xp.square(xc) @ ones) / n                           # biased variance
        rstd = (1 / xp.sqrt(var + eps))[:, None]                   # (rows, 1)
        xhat = xc
        xhat *= rstd
        self.save(xhat, rstd, weight)
        if weight is None:
            y = xhat.copy() if bias is None else xhat + bias.reshape(-1)
        else:
            y = xhat * weight.reshape(-1)
            if bias is not None:
                y += bias.reshape(-1)
        return y.reshape(x.shape)

    def backward(self, g):
        # With xhat = (x - mu) * r, r = 1/sqrt(var + eps), y = xhat * gamma + beta:
        #   dL/dgamma = sum over rows of g * xhat,   dL/dbeta = sum over rows of g
        #   with h = g * gamma (the gradient w.r.t. xhat), over the normalised dims:
        #   dL/dx = r * (h - mean(h) - xhat * mean(h * xhat))
        # (mu and var depend on every x_i: the two mean terms are their contributions.)
        # Row sums are GEMVs: mean(h) = (g @ gamma) / n, mean(h xhat) = ((g xhat) @ gamma) / n.
        xhat, rstd, weight = self.saved
        xp = array_module(g)
        n = self.n
        shape = g.shape
        g2 = g.reshape(-1, n)
        w = weight.reshape(-1) if weight is not None else xp.ones(n, dtype=g.dtype)
        gxhat = g2 * xhat
        nparents = len(self.parents)
        columns = xp.ones(g2.shape[0], dtype=g.dtype)
        gw = (columns @ gxhat).reshape(weight.shape) if nparents > 1 and self.needs_grad(1) else None
        gb = (columns @ g2).reshape(weight.shape) if nparents > 2 and self.needs_grad(2) else None
        gx = None
        if self.needs_grad(0):
            mean_h = ((g2 @ w) / n)[:, None]
            mean_hx = ((gxhat @ w) / n)[:, None]
            gx = g2 * w
            gx -= mean_h
            gxhat = xp.multiply(xhat, mean_hx, out=gxhat)      # reuse the buffer
            gx -= gxhat
            gx *= rstd
            gx = gx.reshape(shape)
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
