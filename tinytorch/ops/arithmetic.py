"""+ - * / ** and unary minus, broadcasting like NumPy.

Each op computes on arrays; the engine sums broadcast gradients back to each
input's shape (``broadcasts = True``), so backward is written as if every input
had the output's shape. Either operand may be a Python number (its gradient is
simply not needed).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..backend import array_module

_F64 = np.dtype(np.float64)


def promote(out, a, b):
    """Follow PyTorch's type promotion where NumPy differs.

    NumPy gives float64 for ``int64 / int64``, ``int64 * 0.5`` and
    ``float32 + int64``; PyTorch gives the default float dtype (float32) unless an
    operand tensor already is float64. No silent upcast to float64.
    """
    if out.dtype == _F64 and not _decides_f64(a, b) and not _decides_f64(b, a):
        return out.astype(np.float32)
    return out


def _decides_f64(x, other) -> bool:
    """Is ``x`` a float64 array that makes the result float64? A 0-d one does only when the
    other operand is not a tensor with dimensions (PyTorch: dimensioned tensors win over
    0-d ones, and Python numbers never decide)."""
    if getattr(x, "dtype", None) is None or x.dtype != _F64:
        return False
    return x.ndim > 0 or getattr(other, "ndim", 0) == 0


class _Binary(Function):
    broadcasts = True
    promotes = True


class Add(_Binary):
    """y = a + b"""

    def forward(self, a, b):
        return promote(a + b, a, b)

    def backward(self, g):
        # dy/da = 1, dy/db = 1: the gradient passes through unchanged to both.
        return g, g


class Sub(_Binary):
    """y = a - b"""

    def forward(self, a, b):
        return promote(a - b, a, b)

    def backward(self, g):
        # dy/da = 1, dy/db = -1
        return g, (-g if self.needs_grad(1) else None)


class Mul(_Binary):
    """y = a * b"""

    saves_inputs = ((0, 1), (1, 0))  # b only for a's gradient, a only for b's

    def forward(self, a, b):
        self.save(a, b)
        return promote(a * b, a, b)

    def backward(self, g):
        # dy/da = b, dy/db = a
        a, b = self.saved
        return (g * b if self.needs_grad(0) else None,
                g * a if self.needs_grad(1) else None)


class Div(_Binary):
    """y = a / b"""

    saves_inputs = ((0, 1), 1)  # a only for b's gradient; b for both

    def forward(self, a, b):
        self.save(a, b)
        return promote(a / b, a, b)  # true division: int / int gives float32

    def backward(self, g):
        # dy/da = 1/b, dy/db = -a/b^2
        a, b = self.saved
        ga = g / b if self.needs_grad(0) else None
        gb = -g * a / (b * b) if self.needs_grad(1) else None
        return ga, gb


class Pow(_Binary):
    """y = a ** b"""

    saves_inputs = (0, (1, 0))  # a for both gradients; b only for a's
    saves_output = (1,)         # y only for b's

    def forward(self, a, b):
        y = promote(a ** b, a, b)
        self.save(a, b, y)
        return y

    def backward(self, g):
        # dy/da = b * a^(b-1);  dy/db = a^b * ln(a) = y * ln(a)  (taken as 0 where a == 0,
        # the limit PyTorch uses; NaN for a < 0, where a^b is not real)
        a, b, y = self.saved
        ga = gb = None
        if self.needs_grad(0):
            ga = g * b * a ** (b - 1)
        if self.needs_grad(1):
            if hasattr(a, "shape"):
                xp = array_module(a)
                log_a = xp.log(xp.where(a == 0, 1, a))
            else:  # a Python number (2 ** x): keep it a weak Python float
                log_a = math.log(a) if a > 0 else (0.0 if a == 0 else math.nan)
            gb = g * y * log_a
        return ga, gb


class Neg(Function):
    """y = -x"""

    def forward(self, x):
        return -x

    def backward(self, g):
        # dy/dx = -1
        return -g


def add(a, b, *, alpha=1):
    """a + alpha * b (``torch.add``)."""
    return Add.apply(a, b if alpha == 1 else Mul.apply(b, alpha))


def sub(a, b, *, alpha=1):
    """a - alpha * b (``torch.sub``)."""
    return Sub.apply(a, b if alpha == 1 else Mul.apply(b, alpha))


def mul(a, b):
    return Mul.apply(a, b)


def div(a, b):
    return Div.apply(a, b)


def pow(a, b):  # noqa: A001 (PyTorch's name)
    return Pow.apply(a, b)


def neg(x):
    return Neg.apply(x)
