"""More of Tensor's methods, each a one-line call into ``ops/``: sorting, cumulative sums,
scatter and friends, flip/roll, the BLAS-style products, clamp_min/max, lerp, isclose.

Written as the class ``OpsMethods``; tensor_methods.py copies its methods onto Tensor
(``attach``), like its own. In-place forms (``scatter_``, ``index_fill_``, ...) go
through ``Tensor._in_place`` (tensor_methods_inplace.py), which bumps the version counter and
records the graph when one is needed.
"""

from __future__ import annotations

from .ops import (
    cumulative,
    lerp,
    matmul_forms,
    sampling,
    scatter,
    selection,
    shape,
    sorting,
    unary,
)
from .tensor import array_of


class OpsMethods:
    """Not a base class: a namespace for Tensor's methods, copied onto Tensor."""

    # -- ordering (ops/sorting.py) ----------------------------------------------------------
    def sort(self, dim=-1, descending=False, *, stable=False):
        return sorting.sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, *, stable=False):
        return sorting.argsort(self, dim, descending, stable=stable)

    def topk(self, k, dim=None, largest=True, sorted=True):  # noqa: A002
        return sorting.topk(self, k, dim, largest, sorted)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return sampling.multinomial(self, num_samples, replacement, generator=generator)

    # -- running sums and products (ops/cumulative.py) -------------------------------------
    def cumsum(self, dim, *, dtype=None):
        return cumulative.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, *, dtype=None):
        return cumulative.cumprod(self, dim, dtype=dtype)

    # -- products (ops/matmul_forms.py) ----------------------------------------------------
    def mm(self, mat2):
        return matmul_forms.mm(self, mat2)

    def bmm(self, mat2):
        return matmul_forms.bmm(self, mat2)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return matmul_forms.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, *, beta=1, alpha=1):
        return matmul_forms.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    # -- positions (ops/scatter.py, ops/selection.py) --------------------------------------
    def nonzero(self, *, as_tuple=False):
        return selection.nonzero(self, as_tuple=as_tuple)

    def masked_select(self, mask):
        return scatter.masked_select(self, mask)

    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return scatter.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim, index, src):
        return scatter.scatter_add(self, dim, index, src)

    def index_fill(self, dim, index, value):
        return scatter.index_fill(self, dim, index, value)

    def scatter_(self, dim, index, src=None, *, value=None, reduce=None):
        v = scatter._value_or_src(src, value, reduce, "scatter_")

        def mutate(a):
            scatter.scatter_into(a, dim, index, array_of(v), "scatter_")
        return self._in_place("scatter_", lambda s, o: scatter.Scatter.apply(
            s, o, index=index, dim=dim), mutate, v)

    def scatter_add_(self, dim, index, src):
        def mutate(a):
            scatter.scatter_into(a, dim, index, array_of(src), "scatter_add_", add=True)
        return self._in_place("scatter_add_", lambda s, o: scatter.scatter_add(s, dim, index, o),
                              mutate, src)

    def index_fill_(self, dim, index, value):
        def mutate(a):
            a[...] = scatter.IndexFill().forward(a, array_of(value), array_of(index), dim)
        return self._in_place("index_fill_", lambda s, v: scatter.index_fill(s, dim, index, v),
                              mutate, value)

    # -- reordering (ops/shape.py) ---------------------------------------------------------
    def flip(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return shape.flip(self, dims)

    def roll(self, shifts, dims=None):
        return shape.roll(self, shifts, dims)

    def unflatten(self, dim, sizes):
        return shape.unflatten(self, dim, sizes)

    # -- elementwise (ops/unary.py, ops/lerp.py, ops/selection.py) --------------------------
    def clamp_min(self, min):  # noqa: A002
        return unary.clamp_min(self, min)

    def clamp_max(self, max):  # noqa: A002
        return unary.clamp_max(self, max)

    def lerp(self, end, weight):
        return lerp.lerp(self, end, weight)

    def lerp_(self, end, weight):
        def mutate(a):
            a[...] = lerp.Lerp().forward(a, array_of(end), array_of(weight))
        return self._in_place("lerp_", lambda s, e, w: lerp.lerp(s, e, w), mutate, end, weight)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return selection.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
        return selection.allclose(self, other, rtol, atol, equal_nan)
