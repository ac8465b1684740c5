"""Putting values in order along ``dim``: sort, topk (values and indices) and argsort.

Sorting only moves elements: output position j of a slice holds the input element at
``indices[j]``. So backward is the move undone: the gradient of output j goes back to
input position ``indices[j]`` (a put, not an add: within one slice every index appears
once). topk keeps the first k positions of that order, and the inputs it drops get 0.

Order, as in PyTorch: NaN counts as larger than every number (last when ascending, first
when descending), and equal values keep their input order (every sort here is stable,
whatever ``stable`` says; PyTorch only promises it with ``stable=True``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Function, wrap
from ..backend import array_module
from .dims import normalize_dim
from .indexing import put_along

SortResult = namedtuple("sort", ["values", "indices"])
TopKResult = namedtuple("topk", ["values", "indices"])


def sort_indices(x, axis: int, descending: bool):
    """int64 indices that sort ``x`` along ``axis`` (stable; NaN largest).

    Descending and still stable: sort the *reversed* slice ascending, stably, then read
    that order backwards. Equal values come out in input order, and NaN (last in an
    ascending sort) comes first. Negating x instead would break for bools, unsigned
    ints and NaN.
    """
    xp = array_module(x)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(np.int64, copy=False)
    n = x.shape[axis]
    rev = xp.flip(xp.argsort(xp.flip(x, axis), axis=axis, kind="stable"), axis)
    return (n - 1 - rev).astype(np.int64, copy=False)


def _scalar(x):
    """sort/topk of a 0-d tensor: the value itself and index 0 (PyTorch's answer)."""
    return x.copy(), array_module(x).zeros((), dtype=np.int64)


class Sort(Function):
    """values, indices = x sorted along ``dim`` (ascending unless ``descending``)."""

    def forward(self, x, dim=-1, descending=False):
        axis = normalize_dim(dim, x.ndim, "sort")
        self.axis, self.in_shape = axis, x.shape
        if x.ndim == 0:
            return _scalar(x)
        idx = sort_indices(x, axis, descending)
        self.save(idx)
        return array_module(x).take_along_axis(x, idx, axis=axis), idx

    def backward(self, g):
        # y_j = x[idx_j] along dim (idx a permutation, or its first k entries for topk)
        #   =>  dL/dx[idx_j] = g_j, and 0 for the inputs no output came from
        if not self.in_shape:
            return g
        (idx,) = self.saved
        return put_along(g, idx, self.in_shape, self.axis)


class TopK(Sort):
    """values, indices = the k largest (``largest=False``: smallest) entries along ``dim``,
    in sorted order."""

    def forward(self, x, k, dim=-1, largest=True):
        axis = normalize_dim(dim, x.ndim, "topk")
        n = x.shape[axis] if x.ndim else 1
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise TypeError(f"topk: k must be an int, got {type(k).__name__}")
        if not 0 <= k <= n:
            raise RuntimeError(
                f"topk: selected index k={k} out of range: dim {dim} of a tensor of shape "
                f"{x.shape} has {n} entries (k must be in [0, {n}])")
        self.axis, self.in_shape = axis, x.shape
        if x.ndim == 0:
            return _scalar(x)
        idx = sort_indices(x, axis, descending=largest)
        idx = idx[(slice(None),) * axis + (slice(0, k),)].copy()  # own memory: saved
        self.save(idx)
        return array_module(x).take_along_axis(x, idx, axis=axis), idx


def sort(x, dim=-1, descending=False, *, stable=False):
    """(values, indices) of ``x`` sorted along ``dim``; ``values`` carries the gradient."""
    values, indices = Sort.apply(x, dim=dim, descending=descending)
    return SortResult(values, indices)


def topk(x, k, dim=None, largest=True, sorted=True):  # noqa: A002 (PyTorch's name)
    """(values, indices) of the k largest (or smallest) entries along ``dim`` (the last
    one by default).

    Always in sorted order (``sorted=False`` lets PyTorch return any order; this one is
    one of them). Ties: the earlier index first.
    """
    values, indices = TopK.apply(x, k=k, dim=-1 if dim is None else dim, largest=largest)
    return TopKResult(values, indices)


def argsort(x, dim=-1, descending=False, *, stable=False):
    """The int64 indices that sort ``x`` along ``dim`` (``sort(x)[1]``); no gradient."""
    arr = x.array
    axis = normalize_dim(dim, arr.ndim, "argsort")
    if arr.ndim == 0:
        return wrap(array_module(arr).zeros((), dtype=np.int64))
    return wrap(sort_indices(arr, axis, descending))
