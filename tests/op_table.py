"""The op table: one row per public differentiable op (and per distinct code path).

A row is ``Row(name, fn, case, ...)``:

- ``fn(mod, *tensors, **params)`` is the function under test, written once for both
  libraries: ``mod`` is ``tinytorch`` or ``torch`` (the names match PyTorch's), e.g.
  ``lambda m, x, d, k: x.sum(dim=d, keepdim=k)``.
- ``case`` is a hypothesis strategy for a ``Case``: the float64 arrays that become the
  tensors that require grad, and the keyword ``params``. Arrays among the params (masks,
  index arrays, targets) become tensors of the library that does *not* require grad.
- ``notes`` says which domain the values are drawn from and why.

tests/test_ops_gradcheck.py proves every row's gradient by finite differences,
tests/test_ops_torch_parity.py compares every row with PyTorch, and
tests/test_op_listing.py fails when an op class in ``tinytorch/ops`` has no row.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import strategies as S
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


@dataclass(frozen=True)
class Case:
    tensors: tuple  # float64 arrays: each becomes a leaf tensor with requires_grad=True
    params: dict = field(default_factory=dict)  # keyword arguments of fn


@dataclass(frozen=True)
class Row:
    name: str
    fn: Callable
    case: st.SearchStrategy
    notes: str = ""
    #: The result may share memory with an input (a view op). Any other row's outputs
    #: must not alias its inputs.
    view: bool = False
    #: False only for rows that sit on a kink on purpose, to compare PyTorch's choice of
    #: subgradient (ties, relu/abs at 0, clamp at its bounds): finite differences are
    #: meaningless there.
    gradcheck: bool = True
    #: False only where PyTorch cannot be compared (dropout's random mask).
    torch: bool = True
    #: gradcheck's step; only a linear op may use a large one (see the float32 cast).
    eps: float = 1e-6
    #: Needs a GPU (CuPy): skipped where tinytorch.cuda.is_available() is False.
    cuda: bool = False


# -- running a row ----------------------------------------------------------------------------

def as_const(mod, value):
    """Params as ``mod`` wants them: arrays become tensors (no grad), inside tuples too."""
    if isinstance(value, np.ndarray):
        return mod.tensor(value)
    if isinstance(value, tuple):
        return tuple(as_const(mod, v) for v in value)
    return value


def make_inputs(mod, case: Case):
    """(leaf tensors that require grad, params) for ``mod``, from fresh copies of the case."""
    tensors = tuple(mod.tensor(a, dtype=mod.float64, requires_grad=True) for a in case.tensors)
    params = {k: as_const(mod, v) for k, v in case.params.items()}
    return tensors, params


def as_tuple(result) -> tuple:
    """A row's result as a tuple of tensors (split, chunk and max(dim) return several)."""
    return tuple(result) if isinstance(result, (tuple, list)) else (result,)


def const_tensors(params) -> list:
    """The tensors among the params (masks, indices), for the is-it-modified checks."""
    found = []
    for v in params.values():
        for item in (v if isinstance(v, tuple) else (v,)):
            if hasattr(item, "shape") and hasattr(item, "dtype"):
                found.append(item)
    return found


def graph_nodes(outputs) -> list:
    """Every node (Function instance) of tinytorch's graph behind ``outputs``."""
    seen, stack = {}, [o.grad_fn for o in outputs if getattr(o, "grad_fn", None) is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(p for p in node.parents or () if p is not None and not p.is_leaf_node)
    return list(seen.values())


# -- cases ------------------------------------------------------------------------------------

def _params(draw, shape, params):
    """Draw each param from its strategy-maker ``shape -> strategy``."""
    return {name: draw(make(shape)) for name, make in params.items()}


@st.composite
def one(draw, values=S.floats, shape=None, **params):
    """One tensor with values ``values(shape)``; ``params``: name -> (shape -> strategy)."""
    s = draw(shape if shape is not None else S.shapes())
    return Case((draw(values(s)),), _params(draw, s, params))


@st.composite
def two(draw, values=(S.floats, S.floats), **params):
    """Two tensors whose shapes broadcast together (size-1 and missing leading dims)."""
    sa, sb = draw(S.broadcastable_shapes(2))
    return Case((draw(values[0](sa)), draw(values[1](sb))), _params(draw, sa, params))


@st.composite
def two_distinct(draw):
    """Two broadcastable tensors with no value in common (maximum/minimum: no ties)."""
    sa, sb = draw(S.broadcastable_shapes(2))
    return Case(draw(S.distinct(sa, sb)))


@st.composite
def two_tied(draw):
    """Two broadcastable tensors full of ties, within and across them."""
    sa, sb = draw(S.broadcastable_shapes(2))
    return Case((draw(S.ties(sa)), draw(S.ties(sb))))


def reduce_params(dims=S.dims):
    return {"d": lambda s: dims(len(s)), "k": lambda s: S.keepdim}


@st.composite
def var_case(draw, gap=S.GAP):
    """var/std over ``dim``. With correction 1, and always for std, at least one reduced dim
    has size >= 2: N - correction > 0 (else inf/nan, with a warning in PyTorch) and the
    values (``gap`` apart) are not all equal, so the variance is not 0 (sqrt's kink)."""
    c = draw(st.sampled_from([0, 1]))
    needs_two = c == 1 or gap > S.GAP
    ndim = draw(st.integers(1 if needs_two else 0, S.MAX_DIMS))
    # not dim=(): PyTorch 2.13's var/std forward reduce all dims then, but their backward
    # divides by N - c with N = 1 (sum/mean/amax/norm rows cover dim=())
    d = draw(st.one_of(st.none(), S.dim(ndim), S.dim_tuple(ndim)))
    sizes = [draw(st.integers(1, S.MAX_SIDE)) for _ in range(ndim)]
    if needs_two:
        reduced = range(ndim) if d is None else [a % ndim for a in np.atleast_1d(d)]
        sizes[draw(st.sampled_from(sorted(reduced)))] = draw(st.integers(2, S.MAX_SIDE))
    x = draw(S.distinct_array(tuple(sizes), gap=gap))
    return Case((x,), {"d": d, "c": c, "k": draw(S.keepdim)})


@st.composite
def matmul_case(draw, a_ndim, b_ndim):
    """Shapes for a @ b; ``None`` for batched N-D (0 to 2 batch dims each, broadcasting)."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch_a, batch_b = draw(S.broadcastable_shapes(2, max_dims=2))
    shape_of = {1: lambda side, batch: (k,),
                2: lambda side, batch: side,
                3: lambda side, batch: (draw(st.integers(1, 3)),) + side,
                None: lambda side, batch: batch + side}
    sa = shape_of[a_ndim]((n, k), batch_a)
    sb = shape_of[b_ndim]((k, m), batch_b)
    return Case((draw(S.floats(sa)), draw(S.floats(sb))))


@st.composite
def clamp_case(draw, lo=True, hi=True):
    """Bounds at least 0.1 apart, in either order (min > max gives max everywhere, as in
    PyTorch), and x kept ``GAP`` away from both (the kinks)."""
    first = draw(st.floats(-2, 2))
    bounds = {"lo": first} if lo else {"hi": first}
    if lo and hi:
        width = draw(st.floats(0.1, 2))
        bounds["hi"] = first + (width if draw(st.booleans()) else -width)
    x = S.away_from(draw(S.floats(draw(S.shapes()))), *bounds.values())
    return Case((x,), bounds)


@st.composite
def where_case(draw):
    sc, sa, sb = draw(S.broadcastable_shapes(3))
    return Case((draw(S.floats(sa)), draw(S.floats(sb))), {"cond": draw(S.bool_masks(sc))})


@st.composite
def masked_case(draw):
    """x, and a mask that broadcasts to x's shape (masked_fill cannot grow x)."""
    s = draw(S.shapes())
    return Case((draw(S.floats(s)),), {"mask": draw(S.bool_masks(draw(S.broadcasts_to(s)))),
                                       "value": draw(st.floats(-3, 3))})


@st.composite
def into_case(draw, other=S.floats):
    """x, and a tensor whose shape broadcasts to x's (for in-place ops, which cannot grow x)."""
    s = draw(S.shapes())
    return Case((draw(S.floats(s)), draw(other(draw(S.broadcasts_to(s))))))


@st.composite
def reshape_case(draw):
    """A new shape with the same number of elements (maybe with one -1)."""
    s = draw(S.shapes())
    n = math.prod(s)
    target = list(draw(st.sampled_from(_factorizations(n))))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return Case((draw(S.floats(s)),), {"shape": tuple(target)})


@functools.cache
def _factorizations(n: int, max_dims: int = 4) -> tuple:
    """Every shape of up to ``max_dims`` dims whose sizes multiply to n (1s included)."""
    found = [()] if n == 1 else []
    if max_dims:
        for size in range(1, n + 1):
            if n % size == 0:
                found += [(size,) + rest for rest in _factorizations(n // size, max_dims - 1)]
    return tuple(sorted(set(found)))


@st.composite
def flatten_case(draw):
    s = draw(S.shapes())
    a, b = draw(S.dim(len(s))), draw(S.dim(len(s)))
    n = max(len(s), 1)
    if a % n > b % n:
        a, b = b, a
    return Case((draw(S.floats(s)),), {"start": a, "end": b})


@st.composite
def permute_case(draw):
    s = draw(S.shapes())
    perm = draw(st.permutations(range(len(s))))
    perm = tuple(p - len(s) if draw(st.booleans()) else p for p in perm)
    return Case((draw(S.floats(s)),), {"dims": perm})


@st.composite
def squeeze_case(draw):
    s = draw(S.shapes())
    d = draw(st.one_of(st.none(), S.dim(len(s)), S.dim_tuple(len(s))))
    return Case((draw(S.floats(s)),), {"d": d})


@st.composite
def expand_case(draw):
    """New leading dims, size-1 dims grown, -1 meaning "keep this size"."""
    s = draw(S.shapes())
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    sizes = tuple(draw(st.integers(1, 3)) if n == 1 and draw(st.booleans())
                  else (-1 if draw(st.booleans()) else n) for n in s)
    return Case((draw(S.floats(s)),), {"sizes": lead + sizes})


@st.composite
def key_case(draw, key, min_dims=0):
    s = draw(S.shapes(min_dims=min_dims))
    return Case((draw(S.floats(s)),), {"key": draw(key(s))})


@st.composite
def setitem_case(draw, kind):
    """y = x * 1; y[key] = v with v broadcasting into the region y[key] (no repeated
    positions: with repeats the result depends on write order)."""
    s = draw(S.shapes(min_dims=0 if kind == "basic" else 1))
    if kind == "basic":
        key = draw(S.basic_key(s, allow_none=False))
    elif kind == "mask":
        key = draw(S.bool_mask_key(s))
    else:
        key = draw(S.unique_indices(s[0]))
    region = np.empty(s)[key].shape
    v = draw(S.floats(draw(S.broadcasts_to(region))))
    return Case((draw(S.floats(s)), v), {"key": key})


@st.composite
def gather_case(draw):
    """index: same number of dims as x, at most x's size on the other dims, any length on
    ``dim`` (values repeat)."""
    s = draw(S.shapes(min_dims=1))
    d = draw(S.dim(len(s)))
    axis = d % len(s)
    idx_shape = tuple(draw(st.integers(1, s[axis] + 2)) if i == axis else draw(st.integers(1, n))
                      for i, n in enumerate(s))
    index = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, s[axis] - 1)))
    return Case((draw(S.floats(s)),), {"d": d, "index": index})


@st.composite
def index_select_case(draw):
    s = draw(S.shapes(min_dims=1))
    d = draw(S.dim(len(s)))
    return Case((draw(S.floats(s)),), {"d": d, "index": draw(S.indices(s[d % len(s)]))})


@st.composite
def cat_case(draw):
    """1 to 3 tensors with equal shapes except along ``dim``."""
    s = draw(S.shapes(min_dims=1))
    d = draw(S.dim(len(s)))
    axis = d % len(s)
    shapes = [s[:axis] + (draw(st.integers(1, 3)),) + s[axis + 1:]
              for _ in range(draw(st.integers(1, 3)))]
    return Case(tuple(draw(S.floats(sh)) for sh in shapes), {"d": d})


@st.composite
def stack_case(draw):
    s = draw(S.shapes())
    d = draw(S.dim(len(s) + 1))
    return Case(tuple(draw(S.floats(s)) for _ in range(draw(st.integers(1, 3)))), {"d": d})


@st.composite
def split_case(draw):
    """An int size (the last piece may be smaller) or explicit sections summing to the dim."""
    s = draw(S.shapes(min_dims=1))
    d = draw(S.dim(len(s)))
    n = s[d % len(s)]
    if draw(st.booleans()):
        size = draw(st.integers(1, n + 1))
    else:
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=2)))
        size = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    return Case((draw(S.floats(s)),), {"size": size, "d": d})


@st.composite
def narrow_case(draw):
    """start may be negative (counted from the end), as in PyTorch."""
    s = draw(S.shapes(min_dims=1))
    d = draw(S.dim(len(s)))
    n = s[d % len(s)]
    start = draw(st.integers(-n, n))
    length = draw(st.integers(0, n - (start + n if start < 0 else start)))
    return Case((draw(S.floats(s)),), {"d": d, "start": start, "length": length})


@st.composite
def linear_case(draw, bias):
    in_f, out_f = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead = draw(S.shapes(max_dims=2))
    tensors = [draw(S.floats(lead + (in_f,))), draw(S.floats((out_f, in_f)))]
    if bias:
        tensors.append(draw(S.floats((out_f,))))
    return Case(tuple(tensors))


@st.composite
def layer_norm_case(draw, affine):
    """affine: 0 (no weight/bias), 1 (weight), 2 (weight and bias)."""
    norm_shape = draw(S.shapes(min_dims=1, max_dims=2))
    lead = draw(S.shapes(max_dims=1))
    tensors = [draw(S.floats(lead + norm_shape))]
    tensors += [draw(S.floats(norm_shape)) for _ in range(affine)]
    return Case(tuple(tensors), {"shape": norm_shape})


@st.composite
def embedding_case(draw, padded):
    rows, width = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    ids = draw(hnp.arrays(np.int64, draw(S.shapes(max_dims=2)), elements=st.integers(0, rows - 1)))
    padding = draw(st.integers(-rows, rows - 1)) if padded else None
    return Case((draw(S.floats((rows, width))),), {"ids": ids, "padding_idx": padding})


@st.composite
def pad_case(draw):
    s = draw(S.shapes(min_dims=1))
    pads = draw(st.lists(st.integers(0, 2), min_size=2, max_size=2 * len(s)))
    pads = pads[:len(pads) // 2 * 2]
    return Case((draw(S.floats(s)),), {"pad": tuple(pads), "value": draw(st.floats(-3, 3))})


@st.composite
def classification_case(draw):
    """Logits (C,), (N, C) or (N, C, d) and class targets, some of them ignore_index
    (but not all, else the mean is 0/0 = NaN)."""
    classes = draw(st.integers(1, 4))
    shape = draw(st.sampled_from([(classes,), (draw(st.integers(1, 3)), classes),
                                  (draw(st.integers(1, 3)), classes, draw(st.integers(1, 3)))]))
    target_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    target = draw(hnp.arrays(np.int64, target_shape, elements=st.integers(0, classes - 1)))
    ignored = draw(hnp.arrays(np.bool_, target_shape))
    ignored.flat[draw(st.integers(0, ignored.size - 1))] = False
    target = np.where(ignored, -100, target)
    return Case((draw(S.floats(shape)),), {
        "target": target, "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
        "smoothing": draw(st.sampled_from([0.0, 0.25]))})


@st.composite
def linear_classification_case(draw, bias):
    """input (N, in) or (in,), weight (C, in), bias (C,) and class targets, some of them
    ignore_index (not all); the fused op's rows per block, small so that several blocks run."""
    in_f, classes = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    lead = draw(st.sampled_from([(), (draw(st.integers(1, 5)),)]))
    target = draw(hnp.arrays(np.int64, lead, elements=st.integers(0, classes - 1)))
    ignored = draw(hnp.arrays(np.bool_, lead))
    ignored.flat[draw(st.integers(0, ignored.size - 1))] = False
    tensors = [draw(S.floats(lead + (in_f,))), draw(S.floats((classes, in_f)))]
    if bias:
        tensors.append(draw(S.floats((classes,))))
    return Case(tuple(tensors), {
        "target": np.where(ignored, -100, target),
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
        "smoothing": draw(st.sampled_from([0.0, 0.25])), "chunk": draw(st.integers(1, 3))})


# -- functions that need statements -----------------------------------------------------------

def _inplace(method):
    """y = x * 1 (a non-leaf: in-place is allowed), then y.<method>(...) records the graph."""
    def fn(m, x, *others, **params):
        y = x * 1
        getattr(y, method)(*others, **params)
        return y
    fn.__name__ = f"inplace_{method}"
    return fn


def _setitem(m, x, v, key):
    """y = x * 1; y[key] = v: the gradient flows to x outside the region and to v inside."""
    y = x * 1
    y[key] = v
    return y


def _dropout(m, x, p):
    """F.dropout with the generator reseeded first: the same mask at every call, so the
    finite differences see one fixed function (the mask is random, not the op)."""
    m.manual_seed(0)
    return m.nn.functional.dropout(x, p)


def _cross_entropy(m, x, target, reduction, smoothing):
    return m.nn.functional.cross_entropy(x, target, reduction=reduction,
                                         label_smoothing=smoothing)


def _linear_cross_entropy(m, x, w, b=None, *, target, reduction, smoothing, chunk):
    """tinytorch's fused path (options given), in blocks of ``chunk`` rows; PyTorch's
    reference path (options=None) as the oracle (its chunked path has no label smoothing)."""
    fused = m.__name__ == "tinytorch"
    return m.nn.functional.linear_cross_entropy(
        x, w, target, linear_bias=b, reduction=reduction, label_smoothing=smoothing,
        options=m.nn.LinearCrossEntropyOptions(batch_chunk_size=chunk) if fused else None)


def _nll_loss(m, x, target, reduction, smoothing):
    return m.nn.functional.nll_loss(x, target, reduction=reduction)


def _scalars(lo=-3.0, hi=3.0):
    """Python numbers, ints and floats (a weak type: the tensor's dtype wins)."""
    return st.one_of(st.integers(int(lo), int(hi)), st.floats(lo, hi, allow_subnormal=False))


_nonzero_scalars = st.one_of(st.sampled_from([-2, -1, 1, 3]), st.floats(0.5, 3), st.floats(-3, -0.5))
_any = S.floats
_pos = S.positive


def _c(value):
    """A param that is the same constant for every case."""
    return lambda s: st.just(value)


def _s(strategy):
    """A param drawn from ``strategy`` whatever the shape."""
    return lambda s: strategy


# -- the table ----------------------------------------------------------------------------------

ROWS = [
    # arithmetic (ops/arithmetic.py): broadcasting pairs, and Python numbers on either side
    Row("add", lambda m, a, b: a + b, two()),
    Row("add_alpha", lambda m, a, b, alpha: m.add(a, b, alpha=alpha), two(alpha=_s(_scalars()))),
    Row("sub", lambda m, a, b: a - b, two()),
    Row("sub_alpha", lambda m, a, b, alpha: m.sub(a, b, alpha=alpha), two(alpha=_s(_scalars()))),
    Row("mul", lambda m, a, b: a * b, two()),
    Row("div", lambda m, a, b: a / b, two(values=(_any, S.nonzero)), "|b| >= 0.5"),
    Row("pow_tensor_tensor", lambda m, a, b: a ** b,
        two(values=(lambda s: _pos(s, 0.5, 2.0), lambda s: _any(s, -2.0, 2.0))),
        "base in [0.5, 2] (a^b is real, ln a finite), exponent in [-2, 2]"),
    Row("pow_tensor_scalar", lambda m, x, c: x ** c,
        one(_pos, c=_s(st.sampled_from([0, 0.5, -0.5, 1.5, 2, 2.5, -1, 3.0])))),
    Row("pow_tensor_int", lambda m, x, c: m.pow(x, c),
        one(S.nonzero, c=_s(st.sampled_from([1, 2, 3, -1, -2]))),
        "integer exponents: any sign of base, |x| >= 0.5"),
    Row("rpow", lambda m, x, c: c ** x, one(lambda s: _any(s, -2.0, 2.0),
                                             c=_s(st.sampled_from([0.5, 2, 3.7])))),
    Row("neg", lambda m, x: -x, one()),
    Row("neg_fn", lambda m, x: m.neg(x), one()),
    Row("add_scalar", lambda m, x, c: x + c, one(c=_s(_scalars()))),
    Row("radd", lambda m, x, c: c + x, one(c=_s(_scalars()))),
    Row("sub_scalar", lambda m, x, c: x - c, one(c=_s(_scalars()))),
    Row("rsub", lambda m, x, c: c - x, one(c=_s(_scalars()))),
    Row("mul_scalar", lambda m, x, c: x * c, one(c=_s(_scalars()))),
    Row("rmul", lambda m, x, c: c * x, one(c=_s(_scalars()))),
    Row("div_scalar", lambda m, x, c: x / c, one(c=_s(_nonzero_scalars))),
    Row("rtruediv", lambda m, x, c: c / x, one(S.nonzero, c=_s(_scalars())), "|x| >= 0.5"),

    # matmul (ops/linalg.py)
    Row("matmul_1d_1d", lambda m, a, b: a @ b, matmul_case(1, 1)),
    Row("matmul_1d_2d", lambda m, a, b: a @ b, matmul_case(1, 2)),
    Row("matmul_2d_1d", lambda m, a, b: a @ b, matmul_case(2, 1)),
    Row("matmul_2d_2d", lambda m, a, b: m.matmul(a, b), matmul_case(2, 2)),
    Row("matmul_3d_2d", lambda m, a, b: a @ b, matmul_case(3, 2), "the folded-GEMM path"),
    Row("matmul_2d_3d", lambda m, a, b: a @ b, matmul_case(2, 3)),
    Row("matmul_batched", lambda m, a, b: a @ b, matmul_case(None, None),
        "0-2 batch dims each, broadcasting (size 1 and missing dims)"),
    Row("matmul_1d_batched", lambda m, a, b: a @ b, matmul_case(1, None)),
    Row("matmul_batched_1d", lambda m, a, b: a @ b, matmul_case(None, 1)),

    # elementwise (ops/unary.py)
    Row("exp", lambda m, x: x.exp(), one()),
    Row("log", lambda m, x: x.log(), one(_pos), "x in [0.1, 3]"),
    Row("sqrt", lambda m, x: m.sqrt(x), one(_pos), "x in [0.1, 3]"),
    Row("rsqrt", lambda m, x: x.rsqrt(), one(_pos), "x in [0.1, 3]"),
    Row("abs", lambda m, x: x.abs(), one(S.away_from_zero), "|x| >= GAP"),
    Row("sin", lambda m, x: x.sin(), one()),
    Row("cos", lambda m, x: m.cos(x), one()),
    Row("tanh", lambda m, x: x.tanh(), one(lambda s: _any(s, -5.0, 5.0))),
    Row("sigmoid", lambda m, x: x.sigmoid(), one(lambda s: _any(s, -8.0, 8.0))),
    Row("relu", lambda m, x: x.relu(), one(S.away_from_zero), "|x| >= GAP"),
    Row("gelu", lambda m, x: m.nn.functional.gelu(x), one()),
    Row("gelu_tanh", lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), one()),
    Row("clamp", lambda m, x, lo, hi: x.clamp(min=lo, max=hi), clamp_case(),
        "x >= GAP from both bounds; min > max allowed (max everywhere)"),
    Row("clamp_min", lambda m, x, lo: m.clamp(x, min=lo), clamp_case(hi=False)),
    Row("clamp_max", lambda m, x, hi: x.clamp(max=hi), clamp_case(lo=False)),

    # selection (ops/selection.py)
    Row("maximum", lambda m, a, b: m.maximum(a, b), two_distinct(), "no value in common: no ties"),
    Row("minimum", lambda m, a, b: a.minimum(b), two_distinct()),
    Row("max_binary", lambda m, a, b: m.max(a, b), two_distinct()),
    Row("where", lambda m, a, b, cond: m.where(cond, a, b), where_case(),
        "cond, a and b broadcast together"),
    Row("where_scalar", lambda m, a, b, cond: m.where(cond, a, 0.5) * b, where_case()),
    Row("masked_fill", lambda m, x, mask, value: x.masked_fill(mask, value), masked_case()),
    Row("tril", lambda m, x, diag: x.tril(diag),
        one(shape=S.shapes(2), diag=_s(st.integers(-4, 4)))),
    Row("triu", lambda m, x, diag: m.triu(x, diag),
        one(shape=S.shapes(2), diag=_s(st.integers(-4, 4)))),

    # reductions (ops/reduction.py): dim None, one dim, a tuple or (), negative dims, keepdim
    Row("sum", lambda m, x, d, k: x.sum(dim=d, keepdim=k), one(**reduce_params())),
    Row("sum_all", lambda m, x: m.sum(x), one()),
    Row("mean", lambda m, x, d, k: x.mean(dim=d, keepdim=k), one(**reduce_params())),
    Row("var", lambda m, x, d, c, k: x.var(dim=d, correction=c, keepdim=k), var_case(),
        "more reduced elements than the correction"),
    Row("std", lambda m, x, d, c, k: x.std(dim=d, correction=c, keepdim=k), var_case(gap=0.05),
        "at least 2 reduced elements, values 0.05 apart: variance > 0 (sqrt's kink)"),
    Row("amax", lambda m, x, d, k: x.amax(dim=d, keepdim=k),
        one(S.distinct_array, **reduce_params()), "distinct values: no ties"),
    Row("amin", lambda m, x, d, k: m.amin(x, dim=d, keepdim=k),
        one(S.distinct_array, **reduce_params())),
    Row("max_all", lambda m, x: x.max(), one(S.distinct_array)),
    Row("min_all", lambda m, x: m.min(x), one(S.distinct_array)),
    Row("max_dim", lambda m, x, d, k: tuple(x.max(dim=d, keepdim=k)),
        one(S.distinct_array, d=lambda s: S.dim(len(s)), k=_s(S.keepdim)),
        "(values, indices); distinct values so the index is unique"),
    Row("min_dim", lambda m, x, d, k: tuple(m.min(x, d, k)),
        one(S.distinct_array, d=lambda s: S.dim(len(s)), k=_s(S.keepdim))),
    Row("logsumexp", lambda m, x, d, k: x.logsumexp(dim=d, keepdim=k),
        one(**reduce_params(lambda n: S.dim(n) | S.dim_tuple(n)))),
    Row("norm_2", lambda m, x, d, k: x.norm(2, d, k),
        one(S.distinct_magnitudes, **reduce_params()),
        "norm rows: |x| >= 0.1 and distinct (no kink of |x|, no tie for p = inf)"),
    Row("norm_1", lambda m, x, d, k: m.norm(x, 1, d, k), one(S.distinct_magnitudes, **reduce_params())),
    Row("norm_3", lambda m, x, d, k: x.norm(3, d, k), one(S.distinct_magnitudes, **reduce_params())),
    Row("norm_inf", lambda m, x, d, k: x.norm(float("inf"), d, k),
        one(S.distinct_magnitudes, **reduce_params())),
    Row("norm_fro", lambda m, x: x.norm("fro"), one(S.distinct_magnitudes)),

    # softmax (ops/softmax.py)
    Row("softmax", lambda m, x, d: x.softmax(d), one(d=lambda s: S.dim(len(s)))),
    Row("log_softmax", lambda m, x, d: m.log_softmax(x, dim=d), one(d=lambda s: S.dim(len(s)))),
    Row("softmax_wide", lambda m, x, d: m.nn.functional.softmax(x, dim=d),
        one(lambda s: _any(s, -30.0, 30.0), d=lambda s: S.dim(len(s))), "values up to +-30"),

    # shape (ops/shape.py): views of input 0
    Row("reshape", lambda m, x, shape: x.reshape(shape), reshape_case(), view=True),
    Row("view", lambda m, x, shape: x.view(shape), reshape_case(), view=True),
    Row("flatten", lambda m, x, start, end: x.flatten(start, end), flatten_case(), view=True),
    Row("transpose", lambda m, x, d0, d1: x.transpose(d0, d1),
        one(d0=lambda s: S.dim(len(s)), d1=lambda s: S.dim(len(s))), view=True),
    Row("permute", lambda m, x, dims: x.permute(dims), permute_case(), view=True),
    Row("unsqueeze", lambda m, x, d: x.unsqueeze(d), one(d=lambda s: S.dim(len(s) + 1)), view=True),
    Row("squeeze", lambda m, x, d: x.squeeze() if d is None else x.squeeze(d), squeeze_case(),
        view=True),
    Row("expand", lambda m, x, sizes: x.expand(sizes), expand_case(), view=True),
    Row("T", lambda m, x: x.T, one(shape=S.shapes(2, 2)), "2-D (PyTorch deprecates .T on other ranks)", view=True),
    Row("mT", lambda m, x: x.mT, one(shape=S.shapes(2)), view=True),
    Row("contiguous", lambda m, x: x.contiguous(), one(), "already contiguous: x itself",
        view=True),
    Row("contiguous_copy", lambda m, x: x.mT.contiguous(), one(shape=S.shapes(2, min_side=2)),
        "a transposed input: a copy", view=True),
    Row("narrow", lambda m, x, d, start, length: x.narrow(d, start, length), narrow_case(),
        view=True),
    Row("split", lambda m, x, size, d: x.split(size, dim=d), split_case(), view=True),
    Row("chunk", lambda m, x, chunks, d: x.chunk(chunks, dim=d),
        one(shape=S.shapes(1), chunks=_s(st.integers(1, 5)), d=lambda s: S.dim(len(s))),
        view=True),
    Row("cat", lambda m, *ts, d: m.cat(ts, dim=d), cat_case()),
    Row("stack", lambda m, *ts, d: m.stack(ts, dim=d), stack_case()),

    # indexing (ops/indexing.py)
    Row("getitem_basic", lambda m, x, key: x[key], key_case(S.basic_key),
        "ints, slices (step >= 1), None, Ellipsis", view=True),
    Row("getitem_int_array", lambda m, x, key: x[key], key_case(S.int_array_key, 1),
        "index arrays longer than the dim: repeated positions add up"),
    Row("getitem_bool_mask", lambda m, x, key: x[key], key_case(S.bool_mask_key, 1)),
    Row("gather", lambda m, x, d, index: x.gather(d, index), gather_case()),
    Row("index_select", lambda m, x, d, index: m.index_select(x, d, index), index_select_case()),

    # in-place forms on a non-leaf: the graph is recorded, the gradient flows
    Row("inplace_masked_fill", lambda m, x, mask, value: _inplace("masked_fill_")(m, x, mask, value),
        masked_case()),
    Row("inplace_setitem_basic", _setitem, setitem_case("basic")),
    Row("inplace_setitem_mask", _setitem, setitem_case("mask")),
    Row("inplace_setitem_index", _setitem, setitem_case("index")),
    Row("inplace_mul", _inplace("mul_"), into_case()),
    Row("inplace_add_alpha", lambda m, x, b: _inplace("add_")(m, x, b, alpha=-2), into_case()),
    Row("inplace_div", _inplace("div_"), into_case(S.nonzero)),
    Row("inplace_copy", _inplace("copy_"), into_case()),
    Row("inplace_clamp", lambda m, x, lo, hi: _inplace("clamp_")(m, x, min=lo, max=hi),
        clamp_case()),
    Row("inplace_zero", _inplace("zero_"), one()),
    Row("inplace_fill", lambda m, x, value: _inplace("fill_")(m, x, value),
        one(value=_s(st.floats(-3, 3)))),

    # conversion (ops/conversion.py)
    Row("to_float64", lambda m, x: x.to(m.float64), one(), "the same dtype: x itself", view=True),
    Row("double", lambda m, x: x.double(), one(), view=True),
    Row("to_float32", lambda m, x: x.to(m.float32), one(),
        "linear, so central differences are exact for any step: eps = 0.1 keeps float32 "
        "rounding (~1e-7 / eps) under the tolerance", eps=0.1),
    Row("clone", lambda m, x: x.clone(), one()),
    Row("to_cuda_and_back", lambda m, x: x.to("cuda").sin().to("cpu"), one(), cuda=True),

    # fused nn ops (ops/linear.py, normalization.py, embedding.py, padding.py, loss.py,
    # linear_cross_entropy.py, dropout.py)
    Row("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), linear_case(True)),
    Row("linear_no_bias", lambda m, x, w: m.nn.functional.linear(x, w), linear_case(False)),
    Row("layer_norm", lambda m, x, shape: m.nn.functional.layer_norm(x, shape),
        layer_norm_case(0)),
    Row("layer_norm_weight", lambda m, x, w, shape: m.nn.functional.layer_norm(x, shape, w),
        layer_norm_case(1)),
    Row("layer_norm_affine", lambda m, x, w, b, shape: m.nn.functional.layer_norm(x, shape, w, b),
        layer_norm_case(2)),
    Row("embedding", lambda m, w, ids, padding_idx: m.nn.functional.embedding(
        ids, w, padding_idx=padding_idx), embedding_case(False), "repeated ids add up"),
    Row("embedding_padding", lambda m, w, ids, padding_idx: m.nn.functional.embedding(
        ids, w, padding_idx=padding_idx), embedding_case(True),
        "the padding row gets no gradient although it is read: PyTorch's rule, not a "
        "derivative", gradcheck=False),
    Row("pad", lambda m, x, pad, value: m.nn.functional.pad(x, pad, value=value), pad_case()),
    Row("cross_entropy", _cross_entropy, classification_case(),
        "(C,), (N, C) or (N, C, d); some targets ignored; label smoothing 0 or 0.25"),
    Row("nll_loss", _nll_loss, classification_case()),
    Row("linear_cross_entropy", _linear_cross_entropy, linear_classification_case(True),
        "(N, in) or (in,); fused, blocks of 1-3 rows; some targets ignored"),
    Row("linear_cross_entropy_no_bias", _linear_cross_entropy, linear_classification_case(False)),
    Row("mse_loss", lambda m, a, b: m.nn.functional.mse_loss(a, b),
        one().flatmap(lambda c: S.floats(c.tensors[0].shape).map(
            lambda b: Case(c.tensors + (b,))))),
    Row("dropout", _dropout, one(p=_s(st.sampled_from([0.2, 0.5]))), torch=False),

    # kinks and ties: PyTorch's choice of subgradient (parity only)
    Row("relu_at_0", lambda m, x: x.relu(), one(S.ties), "relu'(0) = 0", gradcheck=False),
    Row("abs_at_0", lambda m, x: x.abs(), one(S.ties), "|x|'(0) = 0", gradcheck=False),
    Row("clamp_at_bounds", lambda m, x: x.clamp(0.0, 1.0), one(S.ties),
        "gradient 1 at the bounds", gradcheck=False),
    Row("maximum_ties", lambda m, a, b: m.maximum(a, b), two_tied(), "half each at a tie",
        gradcheck=False),
    Row("minimum_ties", lambda m, a, b: m.minimum(a, b), two_tied(), gradcheck=False),
    Row("amax_ties", lambda m, x, d, k: x.amax(dim=d, keepdim=k), one(S.ties, **reduce_params()),
        "ties share evenly", gradcheck=False),
    Row("max_all_ties", lambda m, x: x.max(), one(S.ties), "ties share evenly", gradcheck=False),
    Row("norm_at_0", lambda m, x, d: x.norm(2, d), one(lambda s: hnp.arrays(
        np.float64, s, elements=st.just(0.0)), d=lambda s: S.dims(len(s))),
        "gradient 0 at the origin", gradcheck=False),
]

# The rows of issue 16's ops (sort, cumsum, einsum, scatter, losses, ...) live in
# tests/op_table_more.py, which builds on the helpers above: imported last for that reason.
from op_table_more import ROWS as _MORE_ROWS  # noqa: E402

ROWS += _MORE_ROWS

BY_NAME = {row.name: row for row in ROWS}
assert len(BY_NAME) == len(ROWS), "two rows share a name"
