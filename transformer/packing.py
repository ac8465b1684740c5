"""Packing: the ops that leave padding positions out of the position-wise layers.

A batch of sentences of different lengths is padded to one length, (batch, len, d_model),
and in our batches about a fifth of those positions are padding. Nobody reads what a
transformer computes there: padding keys are masked out of every attention, and padding
targets are ignored by the loss. Yet the projections, the feed-forward network, the
residual adds and the layer norms, which treat each position on its own, would compute
those rows all the same.

Packing keeps only the positions that matter, as rows of a (tokens, d_model) matrix.
It is a fast path of training (``Transformer.loss``): the same model, the same numbers
for every kept position and the same gradients (tests/test_transformer.py), with ~20%
less work. ``layout.Layout`` decides what is kept and is the only user of these ops;
attention, the one place where positions meet, unpacks before it attends.

    ids        [[5, 7, 9],          keep (flat)     packed rows
                [4, 0, 0]]   ->     [0, 1, 2, 3]  -> x[0,0] x[0,1] x[0,2] x[1,0]
               (0 = padding)
"""

from __future__ import annotations

from tinytorch.autograd.function import Function
from tinytorch.backend import array_module

# Packing is multiplication by a selection matrix S (tokens x rows, one 1 per row, at the
# kept position): pack(x) = S x and unpack(x) = S^T x. Each one's gradient is the other:
# for y = S x, dL/dx = S^T g; for y = S^T x, dL/dx = S g. Since the index is increasing,
# no two tokens share a row, so scattering is a plain assignment, not an addition.


class PackRows(Function):
    """x (rows, ...), index (tokens,) increasing -> x[index] (tokens, ...)."""

    fast_path = True  # only packed layouts (Transformer.loss's fast path) use it

    def forward(self, x, index):
        self.rows = x.shape[0]
        self.save(index)
        return array_module(x).take(x, index, axis=0)

    def backward(self, g):
        # y = S x  =>  dL/dx = S^T g: g's rows back at their positions, zeros elsewhere
        (index,) = self.saved
        gx = array_module(g).zeros((self.rows,) + g.shape[1:], dtype=g.dtype)
        gx[index] = g
        return gx, None


class UnpackRows(Function):
    """x (tokens, ...), index (tokens,) increasing -> (rows, ...) with x's rows at index, zeros
    elsewhere."""

    fast_path = True

    def forward(self, x, index, rows):
        self.save(index)
        out = array_module(x).zeros((rows,) + x.shape[1:], dtype=x.dtype)
        out[index] = x
        return out

    def backward(self, g):
        # y = S^T x  =>  dL/dx = S g: the rows of g at the kept positions
        (index,) = self.saved
        return array_module(g).take(g, index, axis=0), None


def pack_rows(x, index):
    """x (rows, ...) -> its rows ``index`` (tokens,), increasing: (tokens, ...)."""
    return PackRows.apply(x, index)


def unpack_rows(x, index, rows: int):
    """x (tokens, ...) -> (rows, ...): x's rows at ``index``, zeros elsewhere."""
    return UnpackRows.apply(x, index, rows=rows)
