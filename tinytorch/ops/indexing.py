"""Reading elements by position: ``x[...]``, gather, index_select.

All three copy some input elements to the output, so backward sends each output
gradient back to the element it came from. When an index repeats, that element
was read several times and its gradient is the *sum* (a scatter-add, never a
plain assignment, which would keep only the last one).
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, is_tensor
from ..backend import array_module, index_add_rows, scatter_add
from .dims import normalize_dim


def _index_array(idx, op):
    """A Tensor/list index as an integer or bool array, or a clear TypeError."""
    arr = idx.array if is_tensor(idx) else idx
    if isinstance(arr, list):
        arr = np.asarray(arr)
    if hasattr(arr, "dtype") and arr.dtype.kind not in "biu":
        raise TypeError(
            f"{op}: index tensors must be integer (int64) or bool, got {arr.dtype}; "
            f"convert with .long()")
    return arr


def _convert_key(key):
    """Tensors inside an index become arrays; note whether any advanced index is used."""
    items = key if isinstance(key, tuple) else (key,)
    out, advanced = [], False
    for k in items:
        if is_tensor(k) or isinstance(k, (list, np.ndarray)) or (
                hasattr(k, "dtype") and hasattr(k, "shape") and getattr(k, "ndim", 0) > 0):
            k = _index_array(k, "index")
            advanced = True
        elif hasattr(k, "dtype") and getattr(k, "ndim", None) == 0:  # 0-d int tensor/array
            k = int(k.item() if hasattr(k, "item") else k)
        out.append(k)
    return (tuple(out) if isinstance(key, tuple) or len(out) != 1 else out[0]), advanced


class GetItem(Function):
    """y = x[key], basic (slices, ints, None, ...) or advanced (integer/bool arrays)."""

    def forward(self, x, key):
        key, self.advanced = _convert_key(key)
        self.key, self.in_shape = key, x.shape
        try:
            return x[key]
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {x.shape})") from None

    def backward(self, g):
        # y = x[key]  =>  dL/dx = 0 everywhere except at the read positions, which get g;
        # with an advanced index the same element may be read twice: scatter-ADD.
        xp = array_module(g)
        gx = xp.zeros(self.in_shape, dtype=g.dtype)
        if self.advanced:
            scatter_add(xp, gx, self.key, g)
        else:
            gx[self.key] = g
        return gx


class BasicView(GetItem):
    """x[key] with only slices/ints/None/...: NumPy returns a view, so the versions are shared."""

    is_view = True


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] for dim = 1 (and likewise for any dim)."""

    def forward(self, x, index, dim):
        index = _index_array(index, "gather")
        axis = normalize_dim(dim, x.ndim, "gather")
        if index.ndim != x.ndim:
            raise RuntimeError(
                f"gather: index has {index.ndim} dims but input has {x.ndim} (shape {x.shape}); "
                f"they must have the same number of dims")
        if index.size and (int(index.min()) < -x.shape[axis] or int(index.max()) >= x.shape[axis]):
            raise IndexError(
                f"gather: index out of range for dim {dim} of size {x.shape[axis]} "
                f"(min {int(index.min())}, max {int(index.max())})")
        if any(m > n for i, (m, n) in enumerate(zip(index.shape, x.shape)) if i != axis):
            raise RuntimeError(
                f"gather: index of shape {index.shape} is larger than the input {x.shape} on a "
                f"dim other than {dim}; it may only be smaller there")
        self.axis, self.in_shape = axis, x.shape
        self.save(index)
        # As in PyTorch, the index may be smaller than x on the other dims: it reads from the
        # leading corner x[:m0, :m1, ...] (take_along_axis wants those sizes equal).
        corner = tuple(slice(None) if i == axis else slice(m) for i, m in enumerate(index.shape))
        return array_module(x).take_along_axis(x[corner], index, axis=axis)

    def backward(self, g):
        # each output element came from x at (..., index, ...): scatter-add g there
        (index,) = self.saved
        xp = array_module(g)
        gx = xp.zeros(self.in_shape, dtype=g.dtype)
        grid = list(xp.ogrid[tuple(slice(n) for n in index.shape)])
        grid[self.axis] = index
        scatter_add(xp, gx, tuple(grid), g)
        return gx


class IndexSelect(Function):
    """y = x.index_select(dim, index): whole slices of x picked by a 1-D index."""

    def forward(self, x, index, dim):
        index = _index_array(index, "index_select")
        if index.ndim > 1:
            raise RuntimeError(f"index_select: index must be 1-D, got shape {index.shape}")
        axis = normalize_dim(dim, x.ndim, "index_select")
        n = x.shape[axis] if x.ndim else 1
        # one truth value read back, not two: on a GPU each read waits for the queued work
        if index.size and bool((index.min() < 0) | (index.max() >= n)):
            raise IndexError(
                f"index_select: index out of range for dim {dim} of size {n} "
                f"(min {int(index.min())}, max {int(index.max())}) in a tensor of shape {x.shape}")
        self.axis, self.in_shape = axis, x.shape
        self.save(index)
        return array_module(x).take(x, index, axis=axis)

    def backward(self, g):
        # slice index[k] of x was copied to slice k of y: add g's slice k into it
        (index,) = self.saved
        xp = array_module(g)
        gx = xp.zeros(self.in_shape, dtype=g.dtype)
        moved = xp.moveaxis(gx, self.axis, 0)  # a view: writes land in gx
        index_add_rows(xp, moved, index, xp.moveaxis(g, self.axis, 0))
        return gx


class IndexPut(Function):
    """y = x with y[key] = v (the graph form of ``x[key] = v``)."""

    broadcasts = True  # v broadcasts into the indexed region
    promotes = True

    def forward(self, x, v, key):
        key, _ = _convert_key(key)
        self.key = key
        y = x.copy()
        y[key] = v
        return y

    def backward(self, g):
        # positions written by v no longer depend on x (gradient 0 there); v gets g at
        # those positions (summed back over broadcasting by the engine)
        gx = None
        if self.needs_grad(0):
            gx = array_module(g).array(g)  # a copy, and an array even when g is a 0-d scalar
            gx[self.key] = 0
        gv = g[self.key] if self.needs_grad(1) else None
        return gx, gv


def index_put(x, key, value):
    return IndexPut.apply(x, value, key=key)


def getitem(x, key):
    key_items = key if isinstance(key, tuple) else (key,)
    basic = all(k is None or k is Ellipsis or isinstance(k, (int, slice)) and not isinstance(k, bool)
                for k in key_items)
    return (BasicView if basic else GetItem).apply(x, key=key)


def gather(x, dim, index):
    return Gather.apply(x, index=index, dim=dim)


def index_select(x, dim, index):
    return IndexSelect.apply(x, index=index, dim=dim)


def put_along(values, index, shape, axis):
    """Zeros of ``shape`` with ``values`` put at ``index`` along ``axis`` (distinct indices).

    The backward of every op that picks entries along a dim (max with dim, sort, topk):
    y_j = x[index_j]  =>  dL/dx[index_j] = g_j, and 0 where no output came from.
    """
    xp = array_module(values)
    out = xp.zeros(shape, dtype=values.dtype)
    xp.put_along_axis(out, index, values, axis=axis)
    return out
