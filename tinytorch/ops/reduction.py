"""Reductions over ``dim``: sum mean var std amax amin max min logsumexp norm argmax argmin.

A reduction maps many inputs to one output, so backward *spreads* the upstream
gradient back over the reduced axes: first reshape it with the reduced axes kept
as size 1 (``keepdim_shape``), then broadcast it to the input's shape.
"""

from __future__ import annotations

import builtins  # this module defines sum/max/min/any/all: the builtins are builtins.max etc.
from collections import namedtuple

import numpy as np

from ..autograd.function import Function, is_tensor, wrap
from ..backend import array_module
from .dims import keepdim_shape, normalize_dim, normalize_dims
from .indexing import put_along
from .softmax import shifted_exp


def _spread(g, in_shape, axes, keepdim):
    """The upstream gradient, broadcast back over the reduced axes (a read-only view)."""
    if not keepdim:
        g = g.reshape(keepdim_shape(in_shape, axes))
    return array_module(g).broadcast_to(g, in_shape)


def _require_float(x, op):
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: needs a floating point tensor, got {x.dtype}. Convert first: x.float()")


class Sum(Function):
    """y = sum of x over ``dim`` (all dims by default); bools and ints sum as int64."""

    def forward(self, x, dim=None, keepdim=False):
        self.axes = normalize_dims(dim, x.ndim, "sum")
        self.keepdim = keepdim
        self.in_shape = x.shape
        out = x.sum(axis=self.axes, keepdims=keepdim)
        if x.dtype.kind in "biu":
            out = out.astype(np.int64)  # PyTorch sums bools and ints as int64
        return out

    def backward(self, g):
        # y = sum_i x_i  =>  dy/dx_i = 1: every summed element gets the gradient g
        return _spread(g, self.in_shape, self.axes, self.keepdim)


class Mean(Function):
    """y = mean of x over ``dim`` (all dims by default); float inputs only."""

    def forward(self, x, dim=None, keepdim=False):
        _require_float(x, "mean")
        self.axes = normalize_dims(dim, x.ndim, "mean")
        self.keepdim = keepdim
        self.in_shape = x.shape
        out = x.mean(axis=self.axes, keepdims=keepdim)
        self.count = x.size // builtins.max(out.size, 1) if x.size else 0
        return out

    def backward(self, g):
        # y = (1/N) sum_i x_i  =>  dy/dx_i = 1/N
        return _spread(g / self.count, self.in_shape, self.axes, self.keepdim)


class Var(Function):
    """Variance with ``correction`` (1 = unbiased, Bessel; 0 = biased, as in LayerNorm)."""

    saves_inputs = (0,)

    def forward(self, x, dim=None, correction=1, keepdim=False):
        _require_float(x, "var")
        axes = normalize_dims(dim, x.ndim, "var")
        self.axes, self.keepdim, self.in_shape = axes, keepdim, x.shape
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        n = x.size // builtins.max(mean.size, 1)
        self.denom = builtins.max(n - correction, 0)
        self.save(centered)
        return (centered * centered).sum(axis=axes, keepdims=keepdim) / self.denom

    def backward(self, g):
        # y = sum_i (x_i - m)^2 / (N - c)  =>  dy/dx_i = 2 (x_i - m) / (N - c)
        # (the m-terms cancel: sum_i (x_i - m) = 0)
        (centered,) = self.saved
        return _spread(g, self.in_shape, self.axes, self.keepdim) * centered * (2 / self.denom)


class Amax(Function):
    """Largest value over ``dim``; ties share the gradient evenly, as in PyTorch."""

    saves_inputs = (0,)
    saves_output = True
    take = "max"

    def forward(self, x, dim=None, keepdim=False):
        op = "a" + self.take
        axes = normalize_dims(dim, x.ndim, op)
        if x.size == 0:
            raise RuntimeError(f"{op}: cannot reduce an empty tensor of shape {x.shape}")
        self.axes, self.keepdim, self.in_shape = axes, keepdim, x.shape
        y = getattr(x, self.take)(axis=axes, keepdims=keepdim)
        self.save(x, y)
        return y

    def backward(self, g):
        # dy/dx_i = 1/k for the k elements equal to the max (the min for Amin), 0 elsewhere
        x, y = self.saved
        hit = x == _spread(y, self.in_shape, self.axes, self.keepdim)
        count = hit.sum(axis=self.axes, keepdims=True)
        return _spread(g, self.in_shape, self.axes, self.keepdim) * hit / count


class Amin(Amax):
    """Smallest value over ``dim``; ties share the gradient evenly (Amax's backward)."""

    take = "min"


class MaxAlongDim(Function):
    """``x.max(dim)`` values; the gradient goes to the returned index (like PyTorch).

    ``indices`` (from argmax/argmin, with the reduced axis kept) is computed once by
    the caller and passed in, so values and indices always agree.
    """

    def forward(self, x, dim, keepdim=False, indices=None):
        xp = array_module(x)
        self.in_shape, self.keepdim = x.shape, keepdim
        if x.ndim == 0:
            return x.copy()
        self.axis = normalize_dim(dim, x.ndim, "max")
        self.save(indices)
        out = xp.take_along_axis(x, indices, axis=self.axis)
        return out if keepdim else out.squeeze(self.axis)

    def backward(self, g):
        # y = x[index]  =>  dy/dx = 1 at the chosen index, 0 elsewhere
        if not self.in_shape:
            return g
        (idx,) = self.saved
        g = g if self.keepdim else array_module(g).expand_dims(g, self.axis)
        return put_along(g, idx, self.in_shape, self.axis)


class LogSumExp(Function):
    """log(sum(exp(x), dim)), computed stably by shifting by the max first."""

    saves_inputs = (0,)
    saves_output = True

    def forward(self, x, dim, keepdim=False):
        _require_float(x, "logsumexp")
        xp = array_module(x)
        axes = normalize_dims(dim, x.ndim, "logsumexp")
        self.axes, self.keepdim, self.in_shape = axes, keepdim, x.shape
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)  # all -inf slice: shift by 0, result -inf
        e, _ = shifted_exp(x, axes, shift=m)                  # exp(x - m), softmax.py
        y = xp.log(e.sum(axis=axes, keepdims=True)) + m
        self.save(x, y)
        return y if keepdim else y.reshape(_drop(x.shape, axes))

    def backward(self, g):
        # y = log sum_j exp(x_j)  =>  dy/dx_i = exp(x_i) / sum_j exp(x_j) = exp(x_i - y)
        # (the softmax): one fused step instead of exp, sum, log and their three backwards.
        x, y = self.saved
        xp = array_module(x)
        return _spread(g, self.in_shape, self.axes, self.keepdim) * xp.exp(x - y)


def _drop(shape, axes):
    """``shape`` without ``axes`` (all axes when None)."""
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


class Norm(Function):
    """The p-norm (sum |x|^p)^(1/p) over ``dim``; p = 2 is the Euclidean/Frobenius norm."""

    saves_inputs = (0,)
    saves_output = True

    def forward(self, x, p=2, dim=None, keepdim=False):
        _require_float(x, "norm")
        xp = array_module(x)
        if p == "fro":
            p = 2
        if not isinstance(p, (int, float)) or p <= 0:
            raise ValueError(f"norm: p must be a positive number, 'fro' or inf, got {p!r}")
        axes = normalize_dims(dim, x.ndim, "norm")
        self.axes, self.keepdim, self.in_shape, self.p = axes, keepdim, x.shape, p
        ax = xp.abs(x)
        if p == float("inf"):
            y = ax.max(axis=axes, keepdims=True)
        elif p == 2:
            y = xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        else:
            y = (ax**p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        self.save(x, y)
        return y if keepdim else y.reshape(_drop(x.shape, axes))

    def backward(self, g):
        # p = 2:   dy/dx = x / y
        # p:       dy/dx = sign(x) |x|^(p-1) / y^(p-1)
        # p = inf: sign(x) at the largest |x| (ties share evenly)
        # Taken as 0 where y = 0 (the subgradient PyTorch uses at the origin).
        x, y = self.saved
        xp = array_module(x)
        p = self.p
        gk = _spread(g, self.in_shape, self.axes, self.keepdim)
        safe_y = xp.where(y == 0, 1, y)
        if p == float("inf"):
            hit = xp.abs(x) == y
            d = xp.sign(x) * hit / hit.sum(axis=self.axes, keepdims=True)
        elif p == 2:
            d = x / safe_y
        else:
            d = xp.sign(x) * xp.abs(x) ** (p - 1) / safe_y ** (p - 1)
        return gk * xp.where(y == 0, 0, d)


class Argmax(Function):
    """Index (int64) of the largest value over ``dim``, or of the flattened x: no gradient."""

    take = "argmax"

    def forward(self, x, dim=None, keepdim=False):
        xp = array_module(x)
        if dim is None:
            out = getattr(xp, self.take)(x.reshape(-1))
            return out.reshape((1,) * x.ndim) if keepdim else out
        axis = normalize_dim(dim, x.ndim, self.take)
        if x.ndim == 0:
            return xp.zeros((), dtype=np.int64)
        return getattr(xp, self.take)(x, axis=axis, keepdims=keepdim)


class Argmin(Argmax):
    """Index (int64) of the smallest value over ``dim``, or of the flattened x: no gradient."""

    take = "argmin"


class AnyAll(Function):
    """any / all over ``dim``: bool results, no gradient."""

    def forward(self, x, dim=None, keepdim=False, take="any"):
        axes = normalize_dims(dim, x.ndim, take)
        return getattr(array_module(x), take)(x, axis=axes, keepdims=keepdim)


# -- the functions users call ---------------------------------------------------------------

def sum(x, dim=None, keepdim=False):  # noqa: A001 (PyTorch's name)
    return Sum.apply(x, dim=dim, keepdim=keepdim)


def mean(x, dim=None, keepdim=False):
    return Mean.apply(x, dim=dim, keepdim=keepdim)


def _correction(correction, unbiased):
    if unbiased is not None:
        return 1 if unbiased else 0
    return 1 if correction is None else correction


def var(x, dim=None, *, correction=None, keepdim=False, unbiased=None):
    """Variance; ``correction=1`` (default) divides by N - 1, ``correction=0`` by N."""
    return Var.apply(x, dim=dim, correction=_correction(correction, unbiased), keepdim=keepdim)


def std(x, dim=None, *, correction=None, keepdim=False, unbiased=None):
    """Standard deviation: sqrt(var) (its backward is sqrt's chained with var's)."""
    from .unary import sqrt  # noqa: PLC0415

    return sqrt(var(x, dim, correction=correction, keepdim=keepdim, unbiased=unbiased))


def amax(x, dim=None, keepdim=False):
    return Amax.apply(x, dim=dim, keepdim=keepdim)


def amin(x, dim=None, keepdim=False):
    return Amin.apply(x, dim=dim, keepdim=keepdim)


MaxResult = namedtuple("max", ["values", "indices"])
MinResult = namedtuple("min", ["values", "indices"])


def _max_min(x, dim, keepdim, other, largest: bool):
    from .selection import maximum, minimum  # noqa: PLC0415

    if is_tensor(dim):  # torch.max(a, b) is the elementwise maximum
        other, dim = dim, None
    if other is not None:
        return maximum(x, other) if largest else minimum(x, other)
    if dim is None:
        return amax(x) if largest else amin(x)
    indices = (argmax if largest else argmin)(x, dim, keepdim=True)
    values = MaxAlongDim.apply(x, dim=dim, keepdim=keepdim, indices=indices.array)
    if not keepdim:
        indices = wrap(indices.array.squeeze(normalize_dim(dim, x.ndim, "max")) if x.ndim
                       else indices.array.reshape(()))
    return (MaxResult if largest else MinResult)(values, indices)


def max(x, dim=None, keepdim=False, *, other=None):  # noqa: A001
    """``x.max()`` (a value), ``x.max(dim)`` (values, indices) or ``torch.max(a, b)``."""
    return _max_min(x, dim, keepdim, other, True)


def min(x, dim=None, keepdim=False, *, other=None):  # noqa: A001
    return _max_min(x, dim, keepdim, other, False)


def logsumexp(x, dim, keepdim=False):
    return LogSumExp.apply(x, dim=dim, keepdim=keepdim)


def norm(x, p="fro", dim=None, keepdim=False):
    return Norm.apply(x, p=p, dim=dim, keepdim=keepdim)


def argmax(x, dim=None, keepdim=False):
    return Argmax.apply(x, dim=dim, keepdim=keepdim)


def argmin(x, dim=None, keepdim=False):
    return Argmin.apply(x, dim=dim, keepdim=keepdim)


def any(x, dim=None, keepdim=False):  # noqa: A001
    return AnyAll.apply(x, dim=dim, keepdim=keepdim, take="any")


def all(x, dim=None, keepdim=False):  # noqa: A001
    return AnyAll.apply(x, dim=dim, keepdim=keepdim, take="all")
