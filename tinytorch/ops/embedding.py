"""embedding: y = weight[indices], the lookup table of ``nn.Embedding``.

Forward copies one row per index; backward adds each output row's gradient into
the row it was read from. A token that appears k times gets the sum of its k
gradients (a scatter-add), and only the rows that were used are touched.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import Function, is_tensor
from ..backend import array_module, index_add_rows


class Embedding(Function):
    """indices (...) int64, weight (num_embeddings, embedding_dim) -> (..., embedding_dim)."""

    def forward(self, indices, weight, padding_idx=None):
        if indices.dtype.kind not in "iu":
            raise TypeError(
                f"embedding: indices must be integers (int64), got {indices.dtype}; "
                f"convert with .long()")
        n = weight.shape[0]
        # one truth value read back, not two: on a GPU each read waits for the queued work
        if indices.size and bool((indices.min() < 0) | (indices.max() >= n)):
            raise IndexError(
                f"embedding: index out of range: got ids in [{int(indices.min())}, "
                f"{int(indices.max())}] for a table of {n} rows (weight {weight.shape}); ids "
                f"must be in [0, {n - 1}]: is the vocabulary size right?")
        self.padding_idx, self.weight_shape = padding_idx, weight.shape
        self.save(indices)
        return weight[indices]

    def backward(self, g):
        # y[...] = W[idx[...]]  =>  dL/dW_r = sum over positions p with idx[p] = r of g[p];
        # the padding row gets no gradient (it stays the zero vector).
        (indices,) = self.saved
        xp = array_module(g)
        gw = xp.zeros(self.weight_shape, dtype=g.dtype)
        indices, g = indices.reshape(-1), g.reshape(-1, self.weight_shape[1])
        if self.padding_idx is not None and xp is np:  # skip the padding positions
            used = indices != self.padding_idx
            indices, g = indices[used], g[used]
        index_add_rows(xp, gw, indices, g)
        if self.padding_idx is not None and xp is not np:
            # On a GPU, selecting by a mask reads its count back (a wait): add every row, then
            # clear the padding row instead.
            gw[self.padding_idx] = 0
        return None, gw


def embedding(indices, weight, padding_idx=None):
    """``torch.nn.functional.embedding(input, weight, padding_idx)``."""
    if not is_tensor(indices):
        from ..creation import tensor  # noqa: PLC0415

        indices = tensor(indices)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    return Embedding.apply(indices, weight, padding_idx=padding_idx)
