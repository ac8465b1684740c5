"""Elementwise functions of one tensor: exp log sqrt rsqrt abs sin cos tanh sigmoid relu gelu
silu clamp (and clamp with tensor bounds, which get gradients too).

Each backward multiplies the upstream gradient by the derivative, elementwise:
``dL/dx = g * f'(x)``, with ``f'`` written (where cheaper) through the output y.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, is_tensor
from ..backend import array_module, erf


def as_float(x):
    """Integer/bool input to a float function computes in float32, as in PyTorch."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


class Exp(Function):
    """y = exp(x), elementwise."""

    saves_output = True

    def forward(self, x):
        y = array_module(x).exp(as_float(x))
        self.save(y)
        return y

    def backward(self, g):
        # d exp(x)/dx = exp(x) = y
        (y,) = self.saved
        return g * y


class Log(Function):
    """y = ln(x), elementwise."""

    saves_inputs = (0,)

    def forward(self, x):
        x = as_float(x)
        self.save(x)
        return array_module(x).log(x)

    def backward(self, g):
        # d ln(x)/dx = 1/x
        (x,) = self.saved
        return g / x


class Sqrt(Function):
    """y = sqrt(x), elementwise."""

    saves_output = True

    def forward(self, x):
        y = array_module(x).sqrt(as_float(x))
        self.save(y)
        return y

    def backward(self, g):
        # d sqrt(x)/dx = 1 / (2 sqrt(x)) = 1 / (2y)
        (y,) = self.saved
        return g / (2 * y)


class Rsqrt(Function):
    """y = 1 / sqrt(x), elementwise."""

    saves_output = True

    def forward(self, x):
        y = 1 / array_module(x).sqrt(as_float(x))
        self.save(y)
        return y

    def backward(self, g):
        # y = x^(-1/2)  =>  dy/dx = -1/2 x^(-3/2) = -y^3 / 2
        (y,) = self.saved
        return g * (-0.5 * y * y * y)


class Abs(Function):
    """y = |x|, elementwise."""

    saves_inputs = (0,)

    def forward(self, x):
        self.save(x)
        return array_module(x).abs(x)

    def backward(self, g):
        # d|x|/dx = sign(x) (0 at x = 0, as PyTorch)
        (x,) = self.saved
        return g * array_module(x).sign(x)


class Sin(Function):
    """y = sin(x), elementwise."""

    saves_inputs = (0,)

    def forward(self, x):
        x = as_float(x)
        self.save(x)
        return array_module(x).sin(x)

    def backward(self, g):
        # d sin(x)/dx = cos(x)
        (x,) = self.saved
        return g * array_module(x).cos(x)


class Cos(Function):
    """y = cos(x), elementwise."""

    saves_inputs = (0,)

    def forward(self, x):
        x = as_float(x)
        self.save(x)
        return array_module(x).cos(x)

    def backward(self, g):
        # d cos(x)/dx = -sin(x)
        (x,) = self.saved
        return -g * array_module(x).sin(x)


class Tanh(Function):
    """y = tanh(x), elementwise."""

    saves_output = True

    def forward(self, x):
        y = array_module(x).tanh(as_float(x))
        self.save(y)
        return y

    def backward(self, g):
        # d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2
        (y,) = self.saved
        return g * (1 - y * y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), elementwise."""

    saves_output = True

    def forward(self, x):
        x = as_float(x)
        xp = array_module(x)
        # Stable at +-1000: exp only ever sees -|x| <= 0, so it cannot overflow.
        e = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        self.save(y)
        return y

    def backward(self, g):
        # d sigma(x)/dx = sigma(x) (1 - sigma(x)) = y (1 - y)
        (y,) = self.saved
        return g * y * (1 - y)


class Relu(Function):
    """y = max(x, 0), elementwise."""

    saves_output = True

    def forward(self, x):
        y = array_module(x).maximum(x, x.dtype.type(0))  # a typed 0: twice as fast as int 0
        self.save(y)
        return y

    def backward(self, g):
        # d relu(x)/dx = 1 where x > 0 (equivalently y > 0), else 0 (0 at the kink, as PyTorch)
        (y,) = self.saved
        return g * (y > 0)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Gelu(Function):
    """GELU(x) = x * Phi(x), Phi the standard normal CDF; 'tanh' uses the paper's approximation."""

    saves_inputs = (0,)

    def forward(self, x, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        x = as_float(x)
        xp = array_module(x)
        self.approximate = approximate
        self.save(x)
        if approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            return 0.5 * x * (1 + t)
        # asarray: on a 0-d x NumPy returns a scalar, which backend.erf takes for CuPy's
        return 0.5 * x * (1 + erf(xp.asarray(x * (1 / math.sqrt(2.0)))))

    def backward(self, g):
        # exact: y = x Phi(x)  =>  dy/dx = Phi(x) + x phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi)
        # tanh:  y = x/2 (1 + t), t = tanh(u), u = sqrt(2/pi)(x + 0.044715 x^3)
        #        =>  dy/dx = (1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi)(1 + 3 * 0.044715 x^2)
        (x,) = self.saved
        xp = array_module(x)
        if self.approximate == "tanh":
            t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        cdf = 0.5 * (1 + erf(xp.asarray(x * (1 / math.sqrt(2.0)))))
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * x * x)
        return g * (cdf + x * pdf)


class Clamp(Function):
    """y = min(max(x, min), max), elementwise (either bound may be None)."""

    saves_inputs = (0,)

    def forward(self, x, min=None, max=None):  # noqa: A002 (PyTorch's names)
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        self.save(x)
        self.bounds = (min, max)
        return array_module(x).clip(x, min, max)

    def backward(self, g):
        # dy/dx = 1 inside [min, max] (bounds included, as PyTorch), 0 where x was clipped
        (x,) = self.saved
        lo, hi = self.bounds
        inside = True
        if lo is not None:
            inside = x >= lo
        if hi is not None:
            inside = inside & (x <= hi)
        return g * inside


class ClampTensor(Function):
    """y = min(max(x, min), max) with tensor bounds (either may be None); x, min and max
    broadcast together, and the bounds get gradients too."""

    broadcasts = True
    promotes = True
    saves_inputs = (0, 1, 2)

    def forward(self, x, min=None, max=None):  # noqa: A002
        xp = array_module(x)
        self.save(x, min, max)
        y = x if min is None else xp.maximum(x, min)  # NaN anywhere stays NaN, as PyTorch
        return y if max is None else xp.minimum(y, max)

    def backward(self, g):
        # y = x where min <= x <= max; y = min where x < min (and min < max); y = max
        # where x > max or max < min: each gets g where it is the output, as PyTorch.
        # A NaN fails every comparison: no gradient to anyone there.
        x, lo, hi = self.saved
        xp, zero = array_module(g), g.dtype.type(0)
        x_wins = True if lo is None else x >= lo
        if hi is not None:
            x_wins = x_wins & (x <= hi)
        grads = [xp.where(x_wins, g, zero)]
        if lo is not None:
            lo_wins = (x < lo) if hi is None else (x < lo) & (lo < hi)
            grads.append(xp.where(lo_wins, g, zero) if self.needs_grad(1) else None)
        else:
            grads.append(None)
        if hi is not None:
            hi_wins = (x > hi) if lo is None else (x > hi) | (hi < lo)
            grads.append(xp.where(hi_wins, g, zero) if self.needs_grad(2) else None)
        else:
            grads.append(None)
        return tuple(grads)


class Silu(Function):
    """SiLU(x) = x * sigmoid(x) (also called swish)."""

    saves_inputs = (0,)

    def forward(self, x):
        x = as_float(x)
        self.save(x)
        return x * Sigmoid().forward(x)  # sigmoid's stable forward (a throwaway node)

    def backward(self, g):
        # y = x s, s = sigmoid(x), s' = s (1 - s)  =>  dy/dx = s + x s (1 - s) = s (1 + x (1 - s))
        (x,) = self.saved
        s = Sigmoid().forward(x)
        return g * (s * (1 + x * (1 - s)))


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def rsqrt(x):
    return Rsqrt.apply(x)


def abs(x):  # noqa: A001 (PyTorch's name)
    return Abs.apply(x)


def sin(x):
    return Sin.apply(x)


def cos(x):
    return Cos.apply(x)


def tanh(x):
    return Tanh.apply(x)


def sigmoid(x):
    return Sigmoid.apply(x)


def relu(x):
    return Relu.apply(x)


def gelu(x, approximate: str = "none"):
    return Gelu.apply(x, approximate=approximate)


def clamp(x, min=None, max=None):  # noqa: A002
    if is_tensor(min) or is_tensor(max):
        return ClampTensor.apply(x, min, max)
    return Clamp.apply(x, min=min, max=max)


clip = clamp


def clamp_min(x, min):  # noqa: A002
    """max(x, min) elementwise (``min`` a number or a tensor)."""
    return clamp(x, min=min)


def clamp_max(x, max):  # noqa: A002
    """min(x, max) elementwise (``max`` a number or a tensor)."""
    return clamp(x, max=max)


def silu(x, inplace: bool = False):
    """x * sigmoid(x). ``inplace`` is accepted for PyTorch's signature; the result is new."""
    return Silu.apply(x)
