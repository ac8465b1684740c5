"""Ops that move values without changing them: reshape transpose permute squeeze
unsqueeze expand contiguous, and the ones that join and cut: cat stack narrow split chunk.

Their backward moves the gradient back the same way (reshape it back, transpose
it back, cut it where cat glued): no arithmetic, so no derivation beyond "the
Jacobian is a permutation".
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function, is_tensor
from ..backend import array_module
from .dims import normalize_dim


def _shape_arg(shape):
    """PyTorch accepts x.reshape(2, 3) and x.reshape((2, 3))."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(n) for n in shape)


class Reshape(Function):
    """y = x's elements, in the same order, with a new shape (a view when possible)."""

    is_view = True

    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {tuple(shape)} is invalid for a tensor of shape {x.shape} "
                f"({x.size} elements); the sizes must multiply to {x.size} "
                f"(one -1 may stand for the rest)") from None

    def backward(self, g):
        # only the shape changed, not the elements: dL/dx = g reshaped to x's shape
        return g.reshape(self.in_shape)


class Transpose(Function):
    """y = x with dims ``dim0`` and ``dim1`` swapped: a view."""

    is_view = True

    def forward(self, x, dim0, dim1):
        self.dims = (normalize_dim(dim0, x.ndim, "transpose"), normalize_dim(dim1, x.ndim, "transpose"))
        return array_module(x).swapaxes(x, *self.dims) if x.ndim else x

    def backward(self, g):
        # swapping two axes is its own inverse
        return array_module(g).swapaxes(g, *self.dims) if g.ndim else g


class Permute(Function):
    """y = x with its dims reordered: y's dim i is x's dim ``dims[i]``; a view."""

    is_view = True

    def forward(self, x, dims):
        axes = tuple(normalize_dim(d, x.ndim, "permute") for d in dims)
        if sorted(axes) != list(range(x.ndim)):
            raise RuntimeError(
                f"permute: dims {tuple(dims)} must name each of the {x.ndim} dimensions of a "
                f"tensor of shape {x.shape} exactly once")
        self.inverse = tuple(np.argsort(axes))
        return x.transpose(axes)

    def backward(self, g):
        # undo the reordering: apply the inverse permutation (argsort of dims) to g
        return g.transpose(self.inverse)


class Expand(Function):
    """Broadcast to a larger shape without copying (size-1 dims repeat)."""

    is_view = True
    broadcasts = True  # backward returns the expanded gradient; the engine sums it back

    def forward(self, x, sizes):
        lead = len(sizes) - x.ndim
        if lead < 0:
            raise RuntimeError(
                f"expand: the number of sizes {len(sizes)} must be >= the tensor's "
                f"dimensions {x.ndim} (shape {x.shape})")
        shape = tuple(x.shape[i - lead] if (n == -1 and i >= lead) else n
                      for i, n in enumerate(sizes))
        for i, n in enumerate(x.shape):
            if n != 1 and n != shape[lead + i]:
                raise RuntimeError(
                    f"expand: cannot expand shape {x.shape} to {tuple(sizes)}: dim {i} has size "
                    f"{n}, and only size-1 dims can be expanded")
        return array_module(x).broadcast_to(x, shape)

    def backward(self, g):
        # each input element was copied to many outputs: its gradient is their sum
        # (done by the engine's sum_to, the one place broadcasting is undone)
        return g


class Contiguous(Function):
    """A C-ordered copy (``contiguous`` calls it only when x is not C-ordered already)."""

    def forward(self, x):
        return x.copy(order="C")

    def backward(self, g):
        # a copy, y = x  =>  dL/dx = g
        return g


class Cat(Function):
    """y = the inputs joined along ``dim`` (all other sizes equal)."""

    def forward(self, *arrays, dim=0):
        first = arrays[0]
        axis = normalize_dim(dim, first.ndim, "cat")
        for i, a in enumerate(arrays):
            if a.ndim != first.ndim or any(
                    n != m for j, (n, m) in enumerate(zip(a.shape, first.shape)) if j != axis):
                raise RuntimeError(
                    f"cat: tensor {i} has shape {a.shape} but tensor 0 has shape {first.shape}; "
                    f"all sizes except dim {dim} must match")
        self.axis = axis
        self.sizes = [a.shape[axis] for a in arrays]
        return array_module(first).concatenate(arrays, axis=axis)

    def backward(self, g):
        # y = [a; b; ...] along dim  =>  each input's gradient is its slice of g
        xp = array_module(g)
        cuts = np.cumsum(self.sizes)[:-1].tolist()
        return tuple(xp.split(g, cuts, axis=self.axis))


class Stack(Function):
    """y = the inputs (all one shape) stacked along a new dim ``dim``."""

    def forward(self, *arrays, dim=0):
        first = arrays[0]
        for i, a in enumerate(arrays):
            if a.shape != first.shape:
                raise RuntimeError(
                    f"stack: tensor {i} has shape {a.shape} but tensor 0 has shape "
                    f"{first.shape}; stack needs equal shapes")
        self.axis = normalize_dim(dim, first.ndim + 1, "stack")
        return array_module(first).stack(arrays, axis=self.axis)

    def backward(self, g):
        # input i became slice i along the new dim: its gradient is that slice
        xp = array_module(g)
        return tuple(xp.take(g, i, axis=self.axis) for i in range(g.shape[self.axis]))


class Narrow(Function):
    """x[..., start:start+length, ...] along ``dim``: a view."""

    is_view = True

    def forward(self, x, dim, start, length):
        self.in_shape = x.shape
        axis = normalize_dim(dim, x.ndim, "narrow")
        if -x.shape[axis] <= start < 0:
            start += x.shape[axis]  # a negative start counts from the end, as in PyTorch
        if start < 0 or length < 0 or start + length > x.shape[axis]:
            raise IndexError(
                f"narrow: start {start} + length {length} exceeds dim {dim} of size "
                f"{x.shape[axis]} (shape {x.shape})")
        self.index = (slice(None),) * axis + (slice(start, start + length),)
        return x[self.index]

    def backward(self, g):
        # the slice's elements get g, the rest of the input gets 0
        gx = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        gx[self.index] = g
        return gx


class Flip(Function):
    """y = x with the order of its elements reversed along each dim in ``dims`` (a copy)."""

    def forward(self, x, dims):
        axes = tuple(normalize_dim(d, x.ndim, "flip") for d in dims)
        if len(set(axes)) != len(axes):
            raise RuntimeError(f"flip: dims {tuple(dims)} name a dimension more than once")
        self.axes = axes if x.ndim else ()
        return array_module(x).flip(x, self.axes).copy() if self.axes else x.copy()

    def backward(self, g):
        # y_i = x_(n-1-i): a reversal is its own inverse, so dL/dx = g flipped the same way
        return array_module(g).flip(g, self.axes) if self.axes else g


class Roll(Function):
    """y = x shifted by ``shifts`` along ``dims``, elements pushed off one end coming back at
    the other (over the flattened x when ``dims`` is None)."""

    def forward(self, x, shifts, dims):
        if dims is None:
            if len(shifts) != 1:
                raise RuntimeError(
                    f"roll: without dims, shifts must be one number, got {tuple(shifts)}")
            self.shifts, self.axes = shifts, None
            return array_module(x).roll(x, shifts[0])
        if len(shifts) != len(dims):
            raise RuntimeError(
                f"roll: shifts {tuple(shifts)} and dims {tuple(dims)} must have the same "
                f"length (one shift per dim)")
        if x.ndim == 0:
            raise IndexError("roll: a 0-d tensor has no dims to roll along; leave dims out")
        self.shifts = shifts
        self.axes = tuple(normalize_dim(d, x.ndim, "roll") for d in dims)
        return array_module(x).roll(x, shifts, self.axes)

    def backward(self, g):
        # y_(i+s) = x_i: a permutation, undone by rolling g back by -s
        xp = array_module(g)
        if self.axes is None:
            return xp.roll(g, -self.shifts[0])
        return xp.roll(g, tuple(-s for s in self.shifts), self.axes)


def _seq(tensors, op):
    if is_tensor(tensors) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{op}: expected a non-empty list or tuple of tensors, e.g. "
                        f"torch.{op}([a, b], dim=0)")
    return tensors


# -- the functions users call ---------------------------------------------------------------

def reshape(x, *shape):
    return Reshape.apply(x, shape=_shape_arg(shape))


view = reshape


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    s = normalize_dim(start_dim, x.ndim, "flatten")
    e = normalize_dim(end_dim, x.ndim, "flatten")
    shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    return reshape(x, shape)


def transpose(x, dim0, dim1):
    return Transpose.apply(x, dim0=dim0, dim1=dim1)


def permute(x, *dims):
    return Permute.apply(x, dims=_shape_arg(dims))


def unsqueeze(x, dim):
    d = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:d] + (1,) + x.shape[d:])


def squeeze(x, dim=None):
    """Drop size-1 dims (all of them, or those in ``dim`` that have size 1)."""
    if dim is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = [normalize_dim(d, x.ndim, "squeeze") for d in dims]
        axes = [a for a in axes if x.ndim and x.shape[a] == 1]
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in axes))


def expand(x, *sizes):
    return Expand.apply(x, sizes=_shape_arg(sizes))


def expand_as(x, other):
    return expand(x, *other.shape)


def contiguous(x):
    """x itself when it is already C-contiguous (as PyTorch; a new tensor sharing x's memory
    would not share its version counter), else a C-ordered copy."""
    return x if x.array.flags.c_contiguous else Contiguous.apply(x)


def cat(tensors, dim=0):
    return Cat.apply(*_seq(tensors, "cat"), dim=dim)


concat = concatenate = cat


def stack(tensors, dim=0):
    return Stack.apply(*_seq(tensors, "stack"), dim=dim)


def narrow(x, dim, start, length):
    return Narrow.apply(x, dim=dim, start=start, length=length)


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or the given sizes."""
    axis = normalize_dim(dim, x.ndim, "split")
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise ValueError(
                f"split: sections {sizes} sum to {sum(sizes)} but dim {dim} has size {n}")
    starts = np.cumsum([0] + sizes[:-1]).tolist()
    return tuple(narrow(x, axis, s, m) for s, m in zip(starts, sizes))


def chunk(x, chunks, dim=0):
    """``chunks`` pieces of ceil(n / chunks) along ``dim`` (fewer if n is small), as PyTorch."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = x.shape[normalize_dim(dim, x.ndim, "chunk")]
    return split(x, max(math.ceil(n / chunks), 1), dim)


def swapaxes(x, dim0, dim1):
    return transpose(x, dim0, dim1)


def flip(x, dims, *more):
    """Reverse ``x`` along ``dims`` (``x.flip(0, 1)`` and ``torch.flip(x, (0, 1))``)."""
    dims = (dims,) + more if isinstance(dims, int) else tuple(dims) + more
    return Flip.apply(x, dims=dims)


def roll(x, shifts, dims=None):
    """Shift ``x`` along ``dims`` cyclically (``torch.roll``)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Roll.apply(x, shifts=shifts, dims=dims)


def unflatten(x, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one of them may be -1): the inverse of flatten."""
    axis = normalize_dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(n) for n in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(n for n in sizes if n != -1)
    if -1 in sizes and known:
        sizes = tuple(x.shape[axis] // known if n == -1 else n for n in sizes)
    if math.prod(sizes) != x.shape[axis]:
        raise RuntimeError(
            f"unflatten: sizes {sizes} don't multiply up to the size of dim {dim} "
            f"({x.shape[axis]}) of a tensor of shape {tuple(x.shape)}")
    return reshape(x, x.shape[:axis] + sizes + x.shape[axis + 1:])
