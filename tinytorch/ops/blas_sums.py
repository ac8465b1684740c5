"""Sums along one axis as a product with a vector of ones: one BLAS call.

NumPy sums a short last axis (``x.sum(axis=-1)`` over 32 attention keys, 256 features)
with a slow strided loop; ``x @ ones`` is one BLAS matrix-vector product and several
times faster (benchmarks/README.md). The numbers are the same up to the order of the
additions. Only the fused ops use these; the textbook paths write ``.sum(dim)``.
"""

from __future__ import annotations

from ..backend import array_module


def sum_last_axis(x):
    """x (..., n) -> (...,): each row's sum, as x @ ones(n)."""
    return x @ array_module(x).ones(x.shape[-1], dtype=x.dtype)


def sum_first_axis(x):
    """x (rows, n) -> (n,): each column's sum over the rows, as ones(rows) @ x."""
    return array_module(x).ones(x.shape[0], dtype=x.dtype) @ x
