"""Hypothesis strategies for the op tests, written once and shared by every row of
tests/op_table.py.

Three kinds of building blocks:

- **shapes**: 0 to 3 dims of sizes 1 to 4 (size-1 dims included), and sets of shapes
  that broadcast together (size-1 dims and missing leading dims);
- **values**: float64 arrays in a safe domain. Finite differences are only right where
  the function is smooth, so values are pushed at least ``GAP`` away from kinks
  (``away_from``: relu and abs at 0, clamp at its bounds) and from each other
  (``spread``: max/min/amax/norm(inf) pick one element, a tie is a kink);
- **arguments**: dims (negative ones too), keepdim flags, index arrays with repeats.

Everything is small on purpose: gradcheck runs two forwards per input element. The plain
strategy makers are cached (``_cached``): building and validating a fresh strategy at
every draw costs more than the draw.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

#: How far values are kept from kinks and from each other. gradcheck moves an input by
#: eps = 1e-6, so 1e-3 is far enough that no finite difference crosses a kink.
GAP = 1e-3

MAX_DIMS = 3
MAX_SIDE = 4


_cached = functools.lru_cache(maxsize=None)


# -- shapes ---------------------------------------------------------------------------------

@_cached
def shapes(min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1,
           max_side: int = MAX_SIDE):
    """A shape: ``min_dims``..``max_dims`` dims of sizes ``min_side``..``max_side``."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


@st.composite
def broadcasts_to(draw, shape):
    """A shape that broadcasts to ``shape``: some leading dims dropped, some dims set to 1."""
    shape = tuple(shape)
    drop = draw(st.integers(0, len(shape)))
    kept = shape[drop:]
    ones = draw(st.lists(st.booleans(), min_size=len(kept), max_size=len(kept)))
    return tuple(1 if one else n for n, one in zip(kept, ones))


@st.composite
def broadcastable_shapes(draw, n: int, min_dims: int = 0, max_dims: int = MAX_DIMS):
    """``n`` shapes that broadcast together (each one derived from a common result shape)."""
    result = draw(shapes(min_dims, max_dims))
    return tuple(draw(broadcasts_to(result)) for _ in range(n))


# -- values ---------------------------------------------------------------------------------

@_cached
def floats(shape, lo: float = -3.0, hi: float = 3.0):
    """A float64 array of ``shape`` (a tuple or a strategy for one) with values in [lo, hi]."""
    return hnp.arrays(np.float64, shape, elements=st.floats(
        lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False))


def away_from(a: np.ndarray, point: float, *more: float, gap: float = GAP) -> np.ndarray:
    """``a`` with every value closer than ``gap`` to a point moved to point +- gap.

    The points must be more than 2 * gap apart (moving away from one must not land near
    another).
    """
    a = np.array(a, dtype=np.float64)
    for p in (point, *more):
        close = np.abs(a - p) < gap
        a = np.where(close, np.where(a >= p, p + gap, p - gap), a)
    return a


def spread(a: np.ndarray, gap: float = GAP) -> np.ndarray:
    """``a`` with its values pushed apart until any two differ by at least ``gap``.

    The order of the values is kept (ties broken by position) and no value decreases:
    in sorted order, s'_i = max(s_i, s'_{i-1} + gap). Written without a loop:
    with t_i = s_i - i gap, s'_i = max_{j <= i} t_j + i gap.
    """
    a = np.array(a, dtype=np.float64)
    flat = a.reshape(-1)
    order = np.argsort(flat, kind="stable")
    steps = gap * np.arange(flat.size)
    out = np.empty_like(flat)
    out[order] = np.maximum.accumulate(flat[order] - steps) + steps
    return out.reshape(a.shape)


@st.composite
def distinct(draw, *shape_list, lo: float = -3.0, hi: float = 3.0, gap: float = GAP):
    """Arrays of the given shapes whose values are all ``gap`` apart, within each array and
    across them (no ties anywhere: for max/min/maximum/minimum)."""
    sizes = [math.prod(s) for s in shape_list]
    flat = spread(draw(floats((sum(sizes),), lo, hi)), gap)
    cuts = np.cumsum(sizes)[:-1]
    return tuple(part.reshape(s) for part, s in zip(np.split(flat, cuts), shape_list))


def distinct_array(shape, lo: float = -3.0, hi: float = 3.0, gap: float = GAP):
    """One array whose values are all ``gap`` apart."""
    return distinct(shape, lo=lo, hi=hi, gap=gap).map(lambda arrays: arrays[0])


@st.composite
def distinct_magnitudes(draw, shape, lo: float = 0.1, hi: float = 3.0):
    """An array whose |values| are all ``GAP`` apart and at least ``lo`` (random signs):
    smooth for |x|, and no ties for max |x| (norm with p = inf)."""
    mags = draw(distinct_array(shape, lo=lo, hi=hi))
    signs = draw(hnp.arrays(np.bool_, shape))
    return np.where(signs, -mags, mags)


@_cached
def away_from_zero(shape, lo: float = -3.0, hi: float = 3.0):
    """Values with |x| >= GAP: smooth for relu and abs."""
    return floats(shape, lo, hi).map(lambda a: away_from(a, 0.0))


@_cached
def positive(shape, lo: float = 0.1, hi: float = 3.0):
    """Values in [lo, hi] with lo > 0: the domain of log, sqrt, rsqrt, a ** b."""
    return floats(shape, lo, hi)


@_cached
def nonzero(shape, lo: float = 0.5, hi: float = 3.0):
    """Values with lo <= |x| <= hi: denominators."""
    return floats(shape, lo, hi).flatmap(
        lambda mags: hnp.arrays(np.bool_, mags.shape).map(lambda neg: np.where(neg, -mags, mags)))


@_cached
def ties(shape):
    """Values from {-1, 0, 1, 2}: many ties, for the parity rows that check tie rules."""
    return hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 1.0, 2.0]))


# -- arguments ------------------------------------------------------------------------------

@_cached
def dim(ndim: int):
    """One dim, negative ones included (a 0-d tensor accepts 0 and -1, as in PyTorch)."""
    n = max(ndim, 1)
    return st.integers(-n, n - 1)


@st.composite
def dim_tuple(draw, ndim: int):
    """A tuple of distinct dims (at least one), each written either way (1 or 1 - ndim)."""
    axes = draw(st.lists(st.integers(0, max(ndim, 1) - 1), min_size=1, unique=True))
    negate = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
    return tuple(a - max(ndim, 1) if neg else a for a, neg in zip(axes, negate))


def dims(ndim: int):
    """What a reduction accepts as ``dim``: None (all), one dim, a tuple, or () (also all,
    as in PyTorch)."""
    return st.one_of(st.none(), dim(ndim), dim_tuple(ndim), st.just(()))


keepdim = st.booleans()


@_cached
def indices(n: int, length: int | None = None):
    """An int64 index array into a dim of size ``n`` with values in [0, n). Longer than n by
    default, so some position is certainly read twice (the gradient must add up)."""
    size = st.integers(n + 1, n + 2) if length is None else st.just(length)
    return size.flatmap(lambda k: hnp.arrays(np.int64, (k,), elements=st.integers(0, n - 1)))


@_cached
def bool_masks(shape):
    return hnp.arrays(np.bool_, shape)


# -- index keys for x[key] -------------------------------------------------------------------

@st.composite
def basic_key(draw, shape, allow_none: bool = True):
    """A basic index for an array of ``shape``: per dim an int (negative too), a slice
    (step >= 1, as PyTorch allows) or ``:``; trailing dims may be left out, a run of dims
    may be an Ellipsis, and None (a new axis of size 1) may be inserted."""
    items = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bound = st.none() | st.integers(-n, n)
            items.append(slice(draw(bound), draw(bound), draw(st.none() | st.integers(1, 3))))
        else:
            items.append(slice(None))
    if draw(st.booleans()):  # an Ellipsis stands for a run of dims (possibly none)
        i = draw(st.integers(0, len(items)))
        j = draw(st.integers(i, len(items)))
        items[i:j] = [Ellipsis]
    else:  # or trailing dims are left out (they are taken whole)
        items = items[:draw(st.integers(0, len(items)))]
    if allow_none:
        for _ in range(draw(st.integers(0, 2))):
            items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


@st.composite
def int_array_key(draw, shape):
    """An advanced index for an array of ``shape`` (at least 1-D): an integer array (1-D
    or 2-D, negative values too, longer than the dim so positions repeat) at one dim,
    sometimes with a second one at the next dim broadcast against it, and ``:`` before it
    (or an Ellipsis, when the arrays index the last dims)."""
    p = draw(st.integers(0, len(shape) - 1))
    rows = draw(st.integers(1, 2))
    length = shape[p] + draw(st.integers(1, 2))

    def index_into(n):
        return draw(hnp.arrays(np.int64, (rows, length) if rows > 1 else (length,),
                               elements=st.integers(-n, n - 1)))

    key = [index_into(shape[p])]
    if p + 1 < len(shape) and draw(st.booleans()):
        key.append(index_into(shape[p + 1]))
    # an Ellipsis puts the index arrays at the last dims: only right when they are there
    at_end = p + len(key) == len(shape)
    lead = [Ellipsis] if p and at_end and draw(st.booleans()) else [slice(None)] * p
    return tuple(lead + key)


@st.composite
def bool_mask_key(draw, shape):
    """A bool mask over the first k >= 1 dims of an array of ``shape`` (x[mask])."""
    k = draw(st.integers(1, len(shape)))
    return draw(bool_masks(tuple(shape[:k])))


@st.composite
def unique_indices(draw, n: int):
    """Distinct positions in [0, n): for x[idx] = v, where a repeat would make the result
    depend on write order."""
    return np.asarray(draw(st.lists(st.integers(0, n - 1), min_size=1, unique=True)),
                      dtype=np.int64)
