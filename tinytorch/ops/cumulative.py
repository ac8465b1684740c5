"""Running sums and products along ``dim``: cumsum, cumprod.

    cumsum:  y_i = x_0 + x_1 + ... + x_i        cumprod:  y_i = x_0 * x_1 * ... * x_i

Input x_k reaches every output from i = k on, so both backwards add up the upstream
gradient *from the end*: a reversed cumulative sum, ``rcumsum(a)_k = sum_{i >= k} a_i``.
Integer and bool inputs accumulate as int64, as in PyTorch; ``dtype=`` casts first.
"""

from __future__ import annotations

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..backend import array_module
from .dims import normalize_dim


def rcumsum(a, axis):
    """sum_{i >= k} a_i along ``axis``: a cumulative sum that runs from the end."""
    xp = array_module(a)
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


def _prepare(x, dim, dtype, op):
    """x cast to ``dtype`` (ints and bools to int64 by default) and the axis."""
    axis = normalize_dim(dim, x.ndim, op)
    if dtype is not None:
        x = x.astype(dtypes.as_dtype(dtype), copy=False)
    elif x.dtype.kind in "biu":
        x = x.astype(np.int64)
    return x, axis


class Cumsum(Function):
    """y_i = sum_{j <= i} x_j along ``dim``."""

    promotes = True  # dtype= may change the dtype: the engine casts the gradient back

    def forward(self, x, dim, dtype=None):
        x, self.axis = _prepare(x, dim, dtype, "cumsum")
        if x.ndim == 0:
            return x.copy()
        return array_module(x).cumsum(x, axis=self.axis)

    def backward(self, g):
        # y_i = sum_{j <= i} x_j  =>  dy_i/dx_k = 1 for i >= k  =>  dL/dx_k = sum_{i >= k} g_i
        if g.ndim == 0:
            return g
        return rcumsum(g, self.axis)


class Cumprod(Function):
    """y_i = prod_{j <= i} x_j along ``dim``."""

    promotes = True
    saves_inputs = (0,)
    saves_output = True

    def forward(self, x, dim, dtype=None):
        x, self.axis = _prepare(x, dim, dtype, "cumprod")
        if x.ndim == 0:
            return x.copy()
        y = array_module(x).cumprod(x, axis=self.axis)
        self.save(x, y)
        return y

    def backward(self, g):
        # dL/dx_k = sum_{i >= k} g_i prod_{j <= i, j != k} x_j. Let z = the first zero in the
        # slice. k < z: the product is y_i / x_k (and y_i = 0 from z on)  =>  rcumsum(g y) / x.
        # k = z: leave x_z out, y'_i = prod_{j <= i} x_j with x_z := 1  =>  rcumsum(g y')_z.
        # k > z: every product still holds x_z = 0  =>  0. (No zero: the first case for all k.)
        if g.ndim == 0:
            return g
        x, y = self.saved
        xp, axis = array_module(g), self.axis
        zero = x == 0
        if not zero.any():  # the common case, one line
            return rcumsum(g * y, axis) / x
        zeros_so_far = xp.cumsum(zero, axis=axis)
        before = zeros_so_far == 0                     # k < z
        first = zero & (zeros_so_far == 1)             # k = z
        one = x.dtype.type(1)
        before_grad = rcumsum(g * y, axis) / xp.where(zero, one, x)
        y_without = xp.cumprod(xp.where(first, one, x), axis=axis)
        first_grad = rcumsum(g * y_without, axis)
        return xp.where(before, before_grad, xp.where(first, first_grad, g.dtype.type(0)))


def cumsum(x, dim, *, dtype=None):
    return Cumsum.apply(x, dim=dim, dtype=dtype)


def cumprod(x, dim, *, dtype=None):
    return Cumprod.apply(x, dim=dim, dtype=dtype)
