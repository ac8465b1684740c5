"""Norms beyond ``x.norm()``: ``torch.linalg.vector_norm`` / ``matrix_norm`` / ``norm`` and
``F.normalize``, composed from the reductions (reduction.py), so their gradients are
those ops'.

    vector_norm(x, ord)   (sum_i |x_i|^ord)^(1/ord); inf: max |x_i|; -inf: min |x_i|;
                          0: the number of non-zero elements
    matrix_norm(A, ord)   'fro': sqrt(sum a_ij²); 1 / -1: the largest / smallest column
                          sum of |a_ij|; inf / -inf: the same over rows
    normalize(x, p, dim)  x / max(||x||_p, eps) along dim (rows of unit length)

Not supported: the matrix norms that need singular values ('nuc', 2, -2) and negative
finite ``ord`` (NotImplementedError says so).
"""

from __future__ import annotations

import math

from .. import dtypes
from ..autograd.function import wrap
from .dims import normalize_dim, normalize_dims
from .reduction import amax, amin, norm
from .unary import clamp


def _float_input(x, dtype, op):
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point tensor as input, got {x.dtype}; "
                           f"use x.float()")
    return x if dtype is None else x.to(dtypes.as_dtype(dtype))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """The ``ord``-norm of x's elements along ``dim`` (all of them by default), as a vector."""
    x = _float_input(x, dtype, "linalg.vector_norm")
    if ord == math.inf or (isinstance(ord, (int, float)) and ord > 0):
        return norm(x, ord, dim, keepdim)
    if ord == -math.inf:
        return amin(x.abs(), dim, keepdim)
    if ord == 0:  # a count: no gradient
        return wrap((x.array != 0).sum(axis=normalize_dims(dim, x.ndim, "linalg.vector_norm"),
                                       keepdims=keepdim).astype(x.dtype))
    raise NotImplementedError(f"linalg.vector_norm: ord={ord!r} is not supported (use a "
                              f"positive number, inf, -inf or 0)")


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002, N803
    """A matrix norm over the two dims ``dim`` ('fro', 1, -1, inf, -inf)."""
    A = _float_input(A, dtype, "linalg.matrix_norm")  # noqa: N806
    if A.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: the input must have at least 2 dims, got "
                           f"shape {tuple(A.shape)}")
    rows, cols = (normalize_dim(d, A.ndim, "linalg.matrix_norm") for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dim {tuple(dim)} must name two different dims")
    if ord == "fro":
        return norm(A, 2, (rows, cols), keepdim)
    if ord in (1, -1, math.inf, -math.inf):
        # 1: sum |a| down each column (over the rows), then the largest; inf: along rows
        over, then = (rows, cols) if abs(ord) == 1 else (cols, rows)
        pick = amax if ord > 0 else amin
        sums = A.abs().sum(dim=over, keepdim=True)
        out = pick(sums, then, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    raise NotImplementedError(f"linalg.matrix_norm: ord={ord!r} is not supported ('nuc', 2 "
                              f"and -2 need singular values); use 'fro', 1, -1, inf or -inf")


def linalg_norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: A002, N803
    """``torch.linalg.norm``: a vector norm (1-D input, an int dim, or ord=None) or a matrix
    norm (2-D input or a pair of dims with an ord)."""
    if isinstance(dim, int):
        dim = (dim,)
    if ord is None:
        if dim is not None and len(dim) == 2:
            return matrix_norm(A, "fro", dim, keepdim, dtype=dtype)
        return vector_norm(A, 2, dim, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: if dim is not given but ord is, the input must "
                               f"be 1-D or 2-D, got shape {tuple(A.shape)}")
        dim = tuple(range(A.ndim))
    if len(dim) == 2:
        return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: ord={ord!r} is a matrix norm; it needs 2 dims")
    return vector_norm(A, ord, dim, keepdim, dtype=dtype)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):  # noqa: A002
    """x / max(||x||_p, eps) along ``dim``: each slice scaled to norm 1 (zeros stay 0)."""
    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    denom = clamp(norm(input, p, dim, keepdim=True), min=eps)
    return input / denom
