"""Choosing between values: where, masked_fill, maximum, minimum, tril, triu,
plus the ops that produce masks (comparisons, logical ops, isclose, one_hot) and
nonzero, which turns a mask into the positions of its True elements.

A selection routes each output element from exactly one input, so backward routes
the gradient the same way and gives 0 to the input that was not chosen. It *selects*
(``where(chosen, g, 0)``) rather than multiplying by a 0/1 mask, as PyTorch does: a NaN
or inf in g must not reach an input that was not chosen (NaN * 0 is NaN, not 0).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, is_tensor, wrap
from ..backend import array_module
from .arithmetic import promote


def _bool_mask(mask, op):
    m = mask.array if is_tensor(mask) else mask
    if not hasattr(m, "dtype") or m.dtype != np.bool_:
        raise TypeError(
            f"{op}: the mask must be a bool tensor, got "
            f"{getattr(m, 'dtype', type(m).__name__)}; build it with a comparison (x > 0) "
            f"or .bool()")
    return m


class Where(Function):
    """y = a where cond else b (cond, a and b broadcast together)."""

    broadcasts = True
    promotes = True

    def forward(self, cond, a, b):
        cond = _bool_mask(cond, "where")
        self.save(cond)
        return promote(array_module(cond).where(cond, a, b), a, b)

    def backward(self, g):
        # dy/da = 1 where cond, 0 elsewhere; dy/db the opposite
        (cond,) = self.saved
        xp, zero = array_module(g), g.dtype.type(0)
        return (None,
                xp.where(cond, g, zero) if self.needs_grad(1) else None,
                xp.where(cond, zero, g) if self.needs_grad(2) else None)


class MaskedFill(Function):
    """y = value where mask else x (mask broadcasts to x's shape)."""

    def forward(self, x, mask, value):
        mask = _bool_mask(mask, "masked_fill")
        try:
            full = array_module(x).broadcast_to(mask, x.shape)
        except ValueError:
            raise RuntimeError(
                f"masked_fill: mask of shape {mask.shape} does not broadcast to the tensor's "
                f"shape {x.shape}") from None
        if is_tensor(value):
            value = value.item()
        self.save(full)
        return array_module(x).where(full, x.dtype.type(value), x)

    def backward(self, g):
        # the filled positions no longer depend on x: their gradient is 0
        (mask,) = self.saved
        return array_module(g).where(mask, g.dtype.type(0), g)


class Maximum(Function):
    """Elementwise max(a, b); at ties each side gets half the gradient, as PyTorch."""

    broadcasts = True
    promotes = True
    saves_inputs = (0, 1)
    take_larger = True

    def forward(self, a, b):
        self.save(a, b)
        xp = array_module(a)
        return promote((xp.maximum if self.take_larger else xp.minimum)(a, b), a, b)

    def backward(self, g):
        # dy/da = 1 where a is chosen, dy/db = 1 where b is; 1/2 each at a tie
        a, b = self.saved
        # as PyTorch: g (halved at a tie), then 0 for the side that lost; a NaN input
        # compares neither equal nor smaller, so there both sides get all of g
        xp, zero = array_module(g), g.dtype.type(0)
        loses_a = (a < b) if self.take_larger else (a > b)
        loses_b = (b < a) if self.take_larger else (b > a)
        shared = xp.where(a == b, g / 2, g)
        return (xp.where(loses_a, zero, shared) if self.needs_grad(0) else None,
                xp.where(loses_b, zero, shared) if self.needs_grad(1) else None)


class Minimum(Maximum):
    """Elementwise min(a, b); at ties each side gets half the gradient, as PyTorch."""

    take_larger = False


class Triangle(Function):
    """tril / triu: keep the lower / upper triangle of the last two dims, zero the rest."""

    def forward(self, x, diagonal=0, upper=False):
        if x.ndim < 2:
            raise RuntimeError(
                f"{'triu' if upper else 'tril'}: needs at least 2 dims, got {x.shape}")
        xp = array_module(x)
        self.diagonal, self.upper = diagonal, upper
        return (xp.triu if upper else xp.tril)(x, diagonal)

    def backward(self, g):
        # y = x * M for a fixed 0/1 mask M  =>  dL/dx = g * M
        xp = array_module(g)
        return (xp.triu if self.upper else xp.tril)(g, self.diagonal)


class _NoGrad(Function):
    """Ops whose output is bool/int: recorded nowhere (Function.apply skips non-floats)."""


class Compare(_NoGrad):
    """Elementwise a == b, a < b, ..., logical and bitwise and/or/xor: bool (or int), no grad."""

    def forward(self, a, b, op):
        return getattr(array_module(a if hasattr(a, "shape") else b), op)(a, b)


class LogicalNot(_NoGrad):
    """not x for a bool x, ~x (bitwise) for an integer one: no gradient."""

    def forward(self, x):
        return array_module(x).logical_not(x) if x.dtype == np.bool_ else ~x


class OneHot(_NoGrad):
    """x (...) int64 class ids -> (..., num_classes) int64, 1 at each id: no gradient."""

    def forward(self, x, num_classes=-1):
        if x.dtype != np.int64:  # PyTorch takes int64 only
            raise RuntimeError(
                f"one_hot: expects an int64 tensor of class indices, got {x.dtype}; use .long()")
        xp = array_module(x)
        n = int(x.max()) + 1 if num_classes == -1 and x.size else max(num_classes, 0)
        if x.size and (int(x.min()) < 0 or int(x.max()) >= n):
            raise RuntimeError(
                f"one_hot: class values must be in [0, {n}), got min {int(x.min())}, max "
                f"{int(x.max())}; raise num_classes")
        return (x[..., None] == xp.arange(n)).astype(np.int64)


def where(condition, input=None, other=None):  # noqa: A002 (PyTorch's names)
    """``input`` where ``condition`` else ``other``; ``where(condition)`` alone is
    ``nonzero(condition, as_tuple=True)``."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    return Where.apply(condition, input, other)


def nonzero(input, *, as_tuple=False):  # noqa: A002
    """The positions of the non-zero (True) elements, in row-major order, as int64:
    (count, ndim) rows, or ``as_tuple=True``: one 1-D tensor per dim (a 0-d input counts
    as 1-D there, as in PyTorch). No gradient."""
    arr = input.array
    xp = array_module(arr)
    if as_tuple:
        return tuple(wrap(i.astype(np.int64)) for i in xp.nonzero(arr.reshape(arr.shape or (1,))))
    if arr.ndim == 0:  # PyTorch: a (1, 0) or (0, 0) result
        return wrap(xp.zeros((int(bool(arr)), 0), dtype=np.int64))
    return wrap(xp.argwhere(arr).astype(np.int64))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| <= atol + rtol |other|, elementwise (infinities equal only to
    themselves; NaN to NaN only with ``equal_nan``): a bool tensor, no gradient."""
    if not (is_tensor(input) and is_tensor(other)):
        raise TypeError(f"isclose: input and other must be tensors, got "
                        f"{type(input).__name__} and {type(other).__name__}")
    a, b = input.array, other.array
    if a.dtype != b.dtype:
        raise RuntimeError(f"isclose: input is {a.dtype} but other is {b.dtype}; they must have "
                           f"the same dtype (convert one with .to(dtype))")
    if rtol < 0 or atol < 0:
        raise RuntimeError(f"isclose: rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    if a.dtype == np.bool_:  # NumPy cannot subtract bools
        return wrap(a == b)
    return wrap(array_module(a).isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:  # noqa: A002
    """True when every element of ``isclose(input, other, ...)`` is (a Python bool)."""
    return bool(isclose(input, other, rtol, atol, equal_nan).array.all())


def masked_fill(x, mask, value):
    return MaskedFill.apply(x, mask, value=value)


def maximum(a, b):
    return Maximum.apply(a, b)


def minimum(a, b):
    return Minimum.apply(a, b)


def tril(x, diagonal=0):
    return Triangle.apply(x, diagonal=diagonal, upper=False)


def triu(x, diagonal=0):
    return Triangle.apply(x, diagonal=diagonal, upper=True)


def one_hot(x, num_classes=-1):
    return OneHot.apply(x, num_classes=num_classes)


def _compare(ufunc: str, name: str):
    def compare(a, b):
        return Compare.apply(a, b, op=ufunc)

    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise {name}(a, b), broadcasting; a bool (or int) tensor, no grad."
    return compare


eq = _compare("equal", "eq")
ne = _compare("not_equal", "ne")
lt = _compare("less", "lt")
le = _compare("less_equal", "le")
gt = _compare("greater", "gt")
ge = _compare("greater_equal", "ge")
logical_and = _compare("logical_and", "logical_and")
logical_or = _compare("logical_or", "logical_or")
logical_xor = _compare("logical_xor", "logical_xor")
bitwise_and = _compare("bitwise_and", "bitwise_and")
bitwise_or = _compare("bitwise_or", "bitwise_or")
bitwise_xor = _compare("bitwise_xor", "bitwise_xor")


def logical_not(x):
    return LogicalNot.apply(x)
