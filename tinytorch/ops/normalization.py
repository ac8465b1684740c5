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
from functools import partial

from ..autograd.function import Function
from ..autograd.grad_mode import fast_paths_enabled
from ..backend import array_module
from ..parallel import rows_parallel
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
        x2 = x.reshape(-1, n)                                     # (rows, n)
        xhat, y = xp.empty_like(x2), xp.empty_like(x2)
        rstd = xp.empty((x2.shape[0], 1), dtype=x2.dtype)         # 1/std per row
        w = None if weight is None else weight.reshape(-1)
        b = None if bias is None else bias.reshape(-1)
        # Each row is independent: large inputs are split by rows over threads (parallel.py).
        rows_parallel(partial(_forward_rows, w=w, b=b, eps=eps), x2, xhat, rstd, y)
        self.save(xhat, rstd, weight)
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
            gx = xp.empty_like(g2)
            rows_parallel(partial(_backward_rows, w=w), g2, gxhat, xhat, rstd, gx)
            gx = gx.reshape(shape)
        return gx, gw, gb


def _forward_rows(x2, xhat, rstd, y, w, b, eps):
    """LayerNorm's forward on a block of rows: x2 (rows, n) -> xhat, rstd (rows, 1), y."""
    xp = array_module(x2)
    n = x2.shape[1]
    # Row sums are BLAS products with a ones vector (blas_sums.py).
    xp.subtract(x2, (sum_last_axis(x2) / n)[:, None], out=xhat)      # x - mean
    var = sum_last_axis(xp.square(xhat)) / n                          # biased variance
    rstd[:] = (1 / xp.sqrt(var + eps))[:, None]
    xhat *= rstd
    if w is None:
        xp.copyto(y, xhat) if b is None else xp.add(xhat, b, out=y)
    else:
        xp.multiply(xhat, w, out=y)
        if b is not None:
            y += b


def _backward_rows(g2, gxhat, xhat, rstd, gx, w):
    """dL/dx on a block of rows (the formula in LayerNorm.backward); gxhat = g2 * xhat."""
    xp = array_module(g2)
    n = g2.shape[1]
    mean_h = ((g2 @ w) / n)[:, None]                    # mean(h), one GEMV
    mean_hx = ((gxhat @ w) / n)[:, None]                # mean(h * xhat)
    xp.multiply(g2, w, out=gx)
    gx -= mean_h
    gx -= xp.multiply(xhat, mean_hx, out=gxhat)         # reuse the buffer
    gx *= rstd


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
