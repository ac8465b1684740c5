"""Writing values at positions: scatter, scatter_add, index_fill, and masked_select.

scatter is gather turned around. For dim = 0 (and likewise for any dim)::

    gather:       y[i][j] = x[index[i][j]][j]
    scatter:      y = x, then y[index[i][j]][j] = src[i][j]
    scatter_add:  y = x, then y[index[i][j]][j] += src[i][j]   (repeats add up)

So their backwards are gathers: src[i][j] went to one position of y, and its gradient is
g there. x's gradient is g, except where scatter overwrote x (0 there). ``index`` has
src's number of dims and may be smaller than src (only its leading corner is read) and,
except along ``dim``, smaller than x. With a repeated position scatter keeps one of the
writes (which one is not defined, as in PyTorch), and each src element that aimed there
still gets g: the gradient is only meaningful for distinct positions.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, is_tensor
from ..backend import array_module
from ..backend import scatter_add as add_at
from .dims import normalize_dim, open_grid


def _index(index, op):
    """The index array (int64 or int32, as PyTorch's scatter takes)."""
    arr = index.array if is_tensor(index) else index
    if not hasattr(arr, "dtype") or arr.dtype.kind not in "iu":
        got = getattr(arr, "dtype", type(arr).__name__)
        raise RuntimeError(f"{op}: index must be an int64 tensor, got {got}; convert with "
                           f".long()")
    return arr


def _positions(x, index, src, dim, op):
    """The positions of y that index names (a tuple of index arrays for y[...]), after
    checking index against x and src, and the corner of src that is read."""
    axis = normalize_dim(dim, x.ndim, op)
    if index.ndim != x.ndim and not (x.ndim == 0 and index.ndim == 1):
        raise RuntimeError(
            f"{op}: index has {index.ndim} dims but the tensor has {x.ndim} (shape {x.shape}); "
            f"index must have the same number of dims")
    if src is not None and src.ndim != index.ndim:
        raise RuntimeError(
            f"{op}: index has {index.ndim} dims but src has {src.ndim} (shape {src.shape}); "
            f"they must have the same number of dims")
    shape, index = x.shape or (1,), index.reshape(index.shape or (1,))
    src_shape = None if src is None else (src.shape or (1,))
    for d, m in enumerate(index.shape):
        if (d != axis and m > shape[d]) or (src_shape is not None and m > src_shape[d]):
            raise RuntimeError(
                f"{op}: index of shape {index.shape} must be no larger than the tensor "
                f"{x.shape} on every dim but {dim}, and no larger than src "
                f"{None if src is None else src.shape} on any dim")
    n = shape[axis]
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        raise RuntimeError(
            f"{op}: index out of bounds for dim {dim} of size {n} (index min "
            f"{int(index.min())}, max {int(index.max())}); indices must be in [0, {n - 1}]")
    xp = array_module(x)
    grid = open_grid(xp, index.shape)
    grid[axis] = index
    corner = tuple(slice(m) for m in index.shape)
    return tuple(grid), corner


def _check_src(x, src, op):
    if hasattr(src, "dtype") and src.dtype != x.dtype:
        raise RuntimeError(
            f"{op}: src has dtype {src.dtype} but the tensor has {x.dtype}; they must be "
            f"equal (convert one with .to(dtype))")


def scatter_into(a, dim, index, src, op="scatter", add=False):
    """Write (or with ``add``, add) src at the positions ``index`` names, in ``a`` itself.
    ``src``: an array of a's dtype, or a number. Returns the positions and the src corner."""
    index = _index(index, op)
    has_src = hasattr(src, "shape")
    if has_src:
        _check_src(a, src, op)
    pos, corner = _positions(a, index, src if has_src else None, dim, op)
    flat = a.reshape(a.shape or (1,))  # a view: writes land in a
    values = src.reshape(src.shape or (1,))[corner] if has_src else a.dtype.type(src)
    if add:
        add_at(array_module(a), flat, pos, values)
    else:
        flat[pos] = values
    return pos, corner


class Scatter(Function):
    """y = x with y[index[i][j]][j] = src[i][j] (dim 0; likewise for any dim); src may be a
    number (``value``)."""

    add = False

    def forward(self, x, src, index, dim):
        y = x.copy()
        op = "scatter_add" if self.add else "scatter"
        self.pos, self.corner = scatter_into(y, dim, index, src, op, self.add)
        self.in_shape = x.shape
        self.src_shape = getattr(src, "shape", None)
        return y

    def backward(self, g):
        # y at the scattered positions is src (x elsewhere): x gets g with those positions
        # zeroed, src[i][j] gets g at the position it was written to (a gather of g).
        # scatter_add adds instead: x gets all of g.
        xp = array_module(g)
        flat = g.reshape(g.shape or (1,))
        gx = gsrc = None
        if self.needs_grad(0):
            if self.add:
                gx = g
            else:
                gx = flat.copy()
                gx[self.pos] = 0
                gx = gx.reshape(self.in_shape)
        if self.needs_grad(1):
            gsrc = xp.zeros(self.src_shape or (1,), dtype=g.dtype)
            gsrc[self.corner] = flat[self.pos]
            gsrc = gsrc.reshape(self.src_shape)
        return gx, gsrc


class ScatterAdd(Scatter):
    """y = x with y[index[i][j]][j] += src[i][j] (dim 0; likewise for any dim); repeated
    positions add up."""

    add = True


class IndexFill(Function):
    """y = x with the slices ``index`` along ``dim`` set to ``value`` (a number, or a 0-d
    tensor that then gets a gradient)."""

    def forward(self, x, value, index, dim):
        index = index.array if is_tensor(index) else index
        if getattr(index, "dtype", None) != np.int64:
            raise IndexError(f"index_fill: index must be an int64 tensor, got "
                             f"{getattr(index, 'dtype', type(index).__name__)}; use .long()")
        if index.ndim > 1:
            raise RuntimeError(f"index_fill: index must be 1-D or 0-d, got shape {index.shape}")
        if hasattr(value, "ndim") and value.ndim:
            raise RuntimeError(
                f"index_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        axis = normalize_dim(dim, x.ndim, "index_fill")
        n = x.shape[axis] if x.ndim else 1
        index = index.reshape(-1)
        if index.size and (int(index.min()) < -n or int(index.max()) >= n):
            raise IndexError(
                f"index_fill: index out of bounds for dim {dim} of size {n} (min "
                f"{int(index.min())}, max {int(index.max())})")
        xp = array_module(x)
        filled = xp.zeros(n, dtype=bool)
        filled[index] = True  # negative indices count from the end
        shape = [1] * x.ndim
        if x.ndim:
            shape[axis] = n
        self.mask = filled.reshape(shape)
        return xp.where(self.mask, x.dtype.type(value), x)

    def backward(self, g):
        # the filled slices are the value, not x: x gets g elsewhere, and the value, used
        # at each filled position once, gets the sum of g over them
        xp, zero = array_module(g), g.dtype.type(0)
        gx = xp.where(self.mask, zero, g) if self.needs_grad(0) else None
        gv = xp.where(self.mask, g, zero).sum() if self.needs_grad(1) else None
        return gx, gv


class MaskedSelect(Function):
    """y = the elements of x where mask is True, as a 1-D tensor (x and mask broadcast)."""

    broadcasts = True  # the gradient comes back in the broadcast shape; the engine sums it

    def forward(self, x, mask):
        if getattr(mask, "dtype", None) != np.bool_:
            raise RuntimeError(f"masked_select: the mask must be a bool tensor, got "
                               f"{getattr(mask, 'dtype', type(mask).__name__)}; build it with "
                               f"a comparison (x > 0) or .bool()")
        xp = array_module(x)
        try:
            xb, self.mask = xp.broadcast_arrays(x, mask)
        except ValueError:
            raise RuntimeError(
                f"masked_select: mask of shape {mask.shape} and input of shape {x.shape} do "
                f"not broadcast together") from None
        return xb[self.mask]

    def backward(self, g):
        # y = the selected elements in order  =>  each gets its g back, the others 0
        gx = array_module(g).zeros(self.mask.shape, dtype=g.dtype)
        gx[self.mask] = g
        return gx, None


def _value_or_src(src, value, reduce, op):
    if reduce is not None:
        raise NotImplementedError(
            f"{op}: reduce= is not supported (PyTorch deprecates it too); use scatter_add "
            f"for reduce='add'")
    if (src is None) == (value is None):
        raise TypeError(f"{op}: give exactly one of src (a tensor) and value (a number)")
    if src is None:
        if is_tensor(value):
            raise TypeError(f"{op}: value must be a number; pass a tensor as src")
        return value
    return src


def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    """``input`` with ``src`` (a tensor, or a number: ``value``) written at ``index``."""
    return Scatter.apply(input, _value_or_src(src, value, reduce, "scatter"), index=index,
                         dim=dim)


def scatter_add(input, dim, index, src):  # noqa: A002
    """``input`` with ``src`` added at ``index`` (repeated positions add up)."""
    if not is_tensor(src):
        raise TypeError(f"scatter_add: src must be a tensor, got {type(src).__name__}")
    return ScatterAdd.apply(input, src, index=index, dim=dim)


def index_fill(input, dim, index, value):  # noqa: A002
    """``input`` with the slices ``index`` along ``dim`` set to ``value``."""
    return IndexFill.apply(input, value, index=index, dim=dim)


def masked_select(input, mask):  # noqa: A002
    """The elements of ``input`` where ``mask`` is True, 1-D (they broadcast together)."""
    return MaskedSelect.apply(input, mask)
