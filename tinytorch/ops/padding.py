"""pad: add values around the last dims (``torch.nn.functional.pad``).

``pad`` lists (left, right) pairs from the last dim backwards: ``(1, 2)`` pads the last
dim, ``(1, 2, 0, 3)`` the last two. A negative amount crops instead. The modes say what
the new positions hold, for a row [a b c] padded by 2 on each side:

    constant    v v a b c v v        (``value``, 0 by default)
    reflect     c b a b c b a        (mirrored, the edge itself not repeated)
    replicate   a a a b c c c        (the edge repeated)
    circular    b c a b c a b        (wrapped around)

The last three read every output element from some input position, so each is one op
(PadIndexed) whose backward adds the gradient back to the positions read.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..backend import array_module, index_add_rows

_MODES = ("constant", "reflect", "replicate", "circular")


def _widths(x, pad, op="pad"):
    """(left, right) for every dim of x, (0, 0) for the dims ``pad`` does not reach."""
    if len(pad) % 2:
        raise RuntimeError(f"{op}: padding length must be divisible by 2 ((left, right) pairs), "
                           f"got {tuple(pad)}")
    if len(pad) // 2 > x.ndim:
        raise RuntimeError(
            f"{op}: padding length should be at most twice the input's dims: got {len(pad)} "
            f"values for a tensor of shape {x.shape}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):  # PyTorch lists the last dim first
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    for (lo, hi), n in zip(widths, x.shape):
        if n + lo + hi < 0:
            raise RuntimeError(f"{op}: padding {(lo, hi)} crops more than a dim of size {n} "
                               f"holds (tensor of shape {x.shape})")
    return widths


class Pad(Function):
    """y = x with ``value`` added around the last dims: (..., n) -> (..., left + n + right);
    negative amounts crop."""

    def forward(self, x, pad=(), value=0.0):
        widths = _widths(x, pad)
        self.in_shape = x.shape
        # cut the negative sides first, then pad the positive ones
        self.crop = tuple(slice(max(-lo, 0), n - max(-hi, 0))
                          for (lo, hi), n in zip(widths, x.shape))
        kept = x[self.crop]
        grow = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        self.index = tuple(slice(lo, lo + n) for (lo, _), n in zip(grow, kept.shape))
        self.cropped = kept.shape != x.shape
        return array_module(x).pad(kept, grow, mode="constant", constant_values=value)

    def backward(self, g):
        # the padding is constant: only the original positions lead back to x (and the
        # cropped ones got nowhere: 0)
        inner = g[self.index]
        if not self.cropped:
            return inner
        gx = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        gx[self.crop] = inner
        return gx


def _source(mode, n, lo, hi):
    """For each output position along a dim of size n padded by (lo, hi), the input
    position it copies (a negative side crops). As PyTorch: circular wraps around what
    is left after cropping; reflect mirrors at the edges of the whole dim."""
    if mode == "circular":
        start, m = max(-lo, 0), n - max(-lo, 0) - max(-hi, 0)
        return start + np.arange(-max(lo, 0), m + max(hi, 0)) % m
    pos = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(pos, 0, n - 1)
    return np.where(pos < 0, -pos, np.where(pos >= n, 2 * (n - 1) - pos, pos))  # reflect


class PadIndexed(Function):
    """y = x padded with copies of its own elements (reflect, replicate or circular): each
    output position along a padded dim copies one input position."""

    def forward(self, x, pad=(), mode="reflect"):
        widths = _widths(x, pad)
        xp = array_module(x)
        self.steps = []
        for axis, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
            if lo == hi == 0:
                continue
            if mode == "circular":
                n = n - max(-lo, 0) - max(-hi, 0)  # it wraps around what is left
            elif n + min(lo, 0) + min(hi, 0) <= 0:
                n = 0  # cropped away
            if n <= 0:
                raise RuntimeError(f"pad: cannot {mode}-pad dim {axis}: nothing is left of it "
                                   f"(shape {x.shape}, padding {(lo, hi)})")
            if mode == "reflect" and max(lo, hi) >= n:
                raise RuntimeError(
                    f"pad: reflect padding {(lo, hi)} must be less than the dim's size {n} "
                    f"(dim {axis} of shape {x.shape})")
            if mode == "circular" and max(lo, hi) > n:
                raise RuntimeError(
                    f"pad: circular padding {(lo, hi)} would wrap around more than once "
                    f"(dim {axis} of size {n}, shape {x.shape})")
            idx = xp.asarray(_source(mode, x.shape[axis], lo, hi))
            self.steps.append((axis, x.shape[axis], idx))
            x = xp.take(x, idx, axis=axis)
        return x if self.steps else x.copy()

    def backward(self, g):
        # y = x[idx] along each padded dim (idx repeats edge positions)  =>  dL/dx adds
        # g back at idx (a scatter-add: a repeated position sums), dim by dim in reverse
        xp = array_module(g)
        for axis, n, idx in reversed(self.steps):
            shape = g.shape[:axis] + (n,) + g.shape[axis + 1:]
            gx = xp.zeros(shape, dtype=g.dtype)
            index_add_rows(xp, xp.moveaxis(gx, axis, 0), idx, xp.moveaxis(g, axis, 0))
            g = gx
        return g


def pad(input, pad, mode: str = "constant", value=None):  # noqa: A002 (PyTorch's names)
    """``F.pad``: ``mode`` 'constant' (any dims, ``value``), 'reflect', 'replicate' or
    'circular' (the last 1, 2 or 3 dims of a 2-5 D tensor, no ``value``), as PyTorch."""
    if mode not in _MODES:
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; use one of {_MODES}")
    if mode == "constant":
        return Pad.apply(input, pad=tuple(pad), value=0.0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f'pad: padding mode "{mode}" doesn\'t take in value argument')
    dims = len(pad) // 2
    if len(pad) % 2 or dims not in (1, 2, 3) or input.ndim not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of a tensor with 1 or 2 more "
            f"dims (2-D/3-D, 3-D/4-D, 4-D/5-D); got {len(pad)} padding values for a "
            f"{input.ndim}-D tensor")
    return PadIndexed.apply(input, pad=tuple(pad), mode=mode)
