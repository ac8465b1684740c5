"""layer_norm: normalise each vector to mean 0 and variance 1, then scale and shift.

    y = (x - mean) / sqrt(var + eps) * gamma + beta      over the last dims

with the *biased* variance (divide by N) and eps inside the square root, exactly
as ``torch.nn.LayerNorm``. Two implementations, and ``tinytorch.fast_paths`` picks one:

- ``layer_norm_composed``: the formula above with primitives (mean, sub, pow, sqrt,
  div, mul, add); its backward is theirs. Read this one first.
- ``LayerNorm``: the same as one node whose backward keeps only the normalised x-hat
  and 1/std, instead of the composed graph's ten nodes and their saved arrays.
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..autograd.grad_mode import fast_paths_enabled
from ..backend import array_module
from .blas_sums import sum_first_axis, sum_last_axis
from .reduction import mean


def layer_norm_composed(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """The textbook layer norm from primitives; x (..., *normalized_shape) -> like x."""
    dims = tuple(range(-len(normalized_shape), 0))       # the normalised (last) dims
    mu = mean(x, dim=dims, keepdim=True)                 # (..., 1, ...)
    var = mean((x - mu) ** 2, dim=dims, keepdim=True)    # biased: divide by N
    y = (x - mu) / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


class LayerNorm(Function):
    """x (..., *normalized_shape), weight/bias normalized_shape or None -> y like x."""

    fast_path = True  # the fused form of layer_norm_composed
    saves_inputs = (1,)

    def forward(self, x, weight=None, bias=None, normalized_shape=(), eps=1e-5):
        xp = array_module(x)
        self.n = n = math.prod(normalized_shape)
        # Work on (rows, n); row sums are BLAS products with a ones vector (blas_sums.py).
        x2 = x.reshape(-1, n)
        xc = x2 - (sum_last_axis(x2) / n)[:, None]                # x - mean
        var = sum_last_axis(xp.square(xc)) / n                    # biased variance
        rstd = (1 / xp.sqrt(var + eps))[:, None]                  # (rows, 1)
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
        xhat, rstd, weight = self.saved
        xp = array_module(g)
        n = self.n
        shape = g.shape
        g2 = g.reshape(-1, n)
        w = weight.reshape(-1) if weight is not None else xp.ones(n, dtype=g.dtype)
        gxhat = g2 * xhat
        nparents = len(self.parents)
        want_w = nparents > 1 and self.needs_grad(1)
        want_b = nparents > 2 and self.needs_grad(2)
        gw = sum_first_axis(gxhat).reshape(weight.shape) if want_w else None
        gb = sum_first_axis(g2).reshape(weight.shape) if want_b else None
        gx = None
        if self.needs_grad(0):
            mean_h = ((g2 @ w) / n)[:, None]                    # mean(h), one GEMV
            mean_hx = ((gxhat @ w) / n)[:, None]                # mean(h * xhat)
            gx = g2 * w
            gx -= mean_h
            gxhat = xp.multiply(xhat, mean_hx, out=gxhat)      # reuse the buffer
            gx -= gxhat
            gx *= rstd
            gx = gx.reshape(shape)
        return gx, gw, gb


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """``torch.nn.functional.layer_norm``: normalise over the last len(normalized_shape) dims.

    ``layer_norm_composed`` when fast paths are off, else the fused ``LayerNorm``.
    """
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    k = len(shape)
    if k > x.ndim or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(
            f"layer_norm: input of shape {tuple(x.shape)} does not end with normalized_shape "
            f"{shape}; the last {k} dim(s) must match")
    if x.dtype.kind != "f":
        raise TypeError(f"layer_norm: needs a floating point input, got {x.dtype}")
    if weight is None and bias is not None:
        raise ValueError("layer_norm: a bias without a weight is not supported; pass both")
    if not fast_paths_enabled():
        return layer_norm_composed(x, shape, weight, bias, eps)
    args = (x,) if weight is None else (x, weight) if bias is None else (x, weight, bias)
    return LayerNorm.apply(*args, normalized_shape=shape, eps=eps)
