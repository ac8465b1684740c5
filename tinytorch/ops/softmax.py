"""softmax and log_softmax over ``dim``, and the stable core that every softmax here uses.

Softmax turns scores into probabilities, p_i = exp(x_i) / sum_j exp(x_j). Written
like that it overflows at x = 89 in float32, so every softmax in the library first
shifts by the row's max m (the shift cancels in the ratio):

    e = exp(x - m)              every entry in (0, 1], the largest exactly 1
    softmax(x)     = e / sum(e)
    log_softmax(x) = x - m - log(sum(e))
    logsumexp(x)   = m + log(sum(e))

``shifted_exp`` computes e and m, once, for all of them: Softmax and LogSoftmax
below, LogSumExp (reduction.py), and the fused ops that fold a softmax into
something larger (cross-entropy, linear + cross-entropy, attention).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..backend import array_module
from .dims import normalize_dim

#: Below these exponents exp() would land near or under the smallest normal number
#: (1.2e-38 in float32), where NumPy's exp runs many times slower and later arithmetic on
#: the denormal results slower still (NumPy cannot flush denormals to zero; measured in
#: benchmarks/README.md).
EXP_FLOOR = {"float32": -64.0, "float64": -680.0}


def flushed_exp(x, out=None):
    """exp(x) for x <= 0 (scores minus their max), raising results below exp(floor) to it.

    A probability of e^-64 = 1.6e-28 instead of something smaller is invisible next to
    the row's largest one (at least 1/C): the change is far below float32 resolution,
    and it keeps the fused ops at full speed when a confident model's logits spread over
    more than ~87. ``out`` may be ``x`` itself (in place).
    """
    xp = array_module(x)
    floor = EXP_FLOOR.get(x.dtype.name)
    if floor is None or x.size == 0:
        return xp.exp(x, out=out)
    # On the CPU, a cheap min usually shows that nothing is below the floor; on a GPU,
    # reading the min back would wait for the queued work, so the floor is always applied.
    if xp is np and not x.min() < floor:
        return xp.exp(x, out=out)
    y = xp.maximum(x, x.dtype.type(floor), out=out)
    return xp.exp(y, out=y)


def shifted_exp(x, axis=-1, shift=None, out=None, flush=False):
    """(e, m): m = the max of x along ``axis`` (kept as size 1), e = exp(x - m).

    ``shift``: use this m instead (any value works as long as no exp overflows; the
    fused attention passes the whole tensor's max, which is cheaper). ``out``: where to
    write e (may be x). ``flush``: exp through ``flushed_exp`` (the fused ops do).
    """
    xp = array_module(x)
    m = x.max(axis=axis, keepdims=True) if shift is None else shift
    e = xp.subtract(x, m, out=xp.empty_like(x) if out is None else out)  # 0-d stays an array
    return (flushed_exp(e, out=e) if flush else xp.exp(e, out=e)), m


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j) along ``dim``."""

    saves_output = True

    def forward(self, x, dim):
        if x.dtype.kind != "f":
            raise TypeError(f"softmax: needs a floating point tensor, got {x.dtype}; use x.float()")
        self.axis = normalize_dim(dim, x.ndim, "softmax")
        e, _ = shifted_exp(x, self.axis)
        e /= e.sum(axis=self.axis, keepdims=True)
        self.save(e)
        return e

    def backward(self, g):
        # dy_i/dx_k = y_i (delta_ik - y_k)  =>  dL/dx_k = sum_i g_i y_i (delta_ik - y_k)
        #                                             = y_k (g_k - sum_i g_i y_i)
        # One pass over the data instead of the n x n Jacobian.
        (y,) = self.saved
        gy = g * y
        return gy - y * gy.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Function):
    """y_i = x_i - log sum_j exp(x_j) along ``dim``."""

    saves_output = True

    def forward(self, x, dim):
        if x.dtype.kind != "f":
            raise TypeError(
                f"log_softmax: needs a floating point tensor, got {x.dtype}; use x.float()")
        xp = array_module(x)
        self.axis = normalize_dim(dim, x.ndim, "log_softmax")
        e, m = shifted_exp(x, self.axis)
        y = x - m - xp.log(e.sum(axis=self.axis, keepdims=True))
        self.save(y)
        return y

    def backward(self, g):
        # dy_i/dx_k = delta_ik - softmax_k  =>  dL/dx_k = g_k - softmax_k * sum_i g_i,
        # and softmax = exp(y).
        (y,) = self.saved
        xp = array_module(y)
        return g - xp.exp(y) * g.sum(axis=self.axis, keepdims=True)


def _check_dim(dim, op):
    if dim is None:
        raise TypeError(f"{op}: dim is required (PyTorch deprecated the implicit choice), "
                        f"e.g. {op}(x, dim=-1)")


def softmax(x, dim=None):
    _check_dim(dim, "softmax")
    return Softmax.apply(x, dim=dim)


def log_softmax(x, dim=None):
    _check_dim(dim, "log_softmax")
    return LogSoftmax.apply(x, dim=dim)
