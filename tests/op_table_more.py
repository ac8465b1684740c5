"""Rows of the op table (tests/op_table.py) for the ops of issue 16: sort/topk, cumsum and
cumprod, einsum, mm/bmm/addmm/baddbmm, scatter and friends, flip/roll, clamp with tensor
bounds, lerp, silu, F.scaled_dot_product_attention, the pointwise losses, F.pad's modes
and F.normalize / torch.linalg norms.

op_table.py imports ``ROWS`` from here at its end, so import op_table (not this module)
first; this module builds on its ``Case``, ``Row`` and case makers. Every row is run by
tests/test_ops_gradcheck.py (float64 finite differences, random upstream gradient) and
tests/test_ops_torch_parity.py (PyTorch: values, dtypes, gradients).
"""

from __future__ import annotations

import math

import numpy as np
import strategies as S
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_table import Case, Row, _factorizations, _s, clamp_case, one

# -- cases ------------------------------------------------------------------------------------


@st.composite
def sort_case(draw, topk=False):
    """Distinct values (so the order, hence the indices, is unique), any dim; topk: any k
    from 0 to the dim's size."""
    s = draw(S.shapes())
    d = draw(S.dim(len(s)))
    params = {"d": d}
    if topk:
        n = s[d % len(s)] if s else 1
        params.update(k=draw(st.integers(0, n)), largest=draw(st.booleans()))
    else:
        params["descending"] = draw(st.booleans())
    return Case((draw(S.distinct_array(s)),), params)


@st.composite
def sort_ties_case(draw):
    s = draw(S.shapes(min_dims=1))
    return Case((draw(S.ties(s)),), {"d": draw(S.dim(len(s))), "descending": draw(st.booleans())})


@st.composite
def flip_case(draw):
    s = draw(S.shapes())
    dims = draw(st.one_of(st.just(()), S.dim_tuple(len(s)))) if s else draw(
        st.sampled_from([(), (0,), (-1,)]))
    return Case((draw(S.floats(s)),), {"dims": dims})


@st.composite
def roll_case(draw):
    """dims None (the flattened tensor, one shift), or a tuple of dims (repeats allowed)."""
    s = draw(S.shapes(min_dims=1))
    shift = st.integers(-5, 5)
    if draw(st.booleans()):
        return Case((draw(S.floats(s)),), {"shifts": draw(shift), "dims": None})
    dims = tuple(draw(st.lists(S.dim(len(s)), min_size=1, max_size=3)))
    shifts = tuple(draw(shift) for _ in dims)
    if len(dims) == 1 and draw(st.booleans()):
        dims, shifts = dims[0], shifts[0]
    return Case((draw(S.floats(s)),), {"shifts": shifts, "dims": dims})


@st.composite
def unflatten_case(draw):
    s = draw(S.shapes(min_dims=1))
    d = draw(S.dim(len(s)))
    sizes = list(draw(st.sampled_from([f for f in _factorizations(s[d % len(s)]) if f])))
    if draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return Case((draw(S.floats(s)),), {"d": d, "sizes": tuple(sizes)})


EINSUM = ["ij,jk->ik", "ij,jk", "bij,bjk->bik", "bhqd,bhkd->bhqk", "ii->", "ii", "ii->i",
          "iij->j", "i,j->ij", "i,i->", "ij,j->i", "ij->", "ij->ji", "ba", "ij,jk,kl->il",
          "Ab,bC->CA", "...ij,...jk->...ik", "...ij,jk", "i...,i...->..."]


@st.composite
def einsum_case(draw):
    """An equation, a size per letter (1 to 3), shapes from it; sometimes a size-1 dim in
    one operand (it broadcasts, as in PyTorch) and broadcast batch dims under '...'."""
    eq = draw(st.sampled_from(EINSUM))
    lhs = eq.split("->")[0].split(",")
    size = {c: draw(st.integers(1, 3)) for c in set(eq) if c.isalpha()}
    batch = draw(S.broadcastable_shapes(len(lhs), max_dims=2))
    shapes = []
    for k, sub in enumerate(lhs):
        named = [size[c] for c in sub.replace("...", "")]
        if len(lhs) > 1 and draw(st.booleans()):  # a size-1 dim that broadcasts
            single = [i for i, c in enumerate(sub.replace("...", "")) if sub.count(c) == 1]
            if single:
                named[draw(st.sampled_from(single))] = 1
        if "..." in sub:
            at = sub.index("...")
            shapes.append(tuple(named[:at]) + batch[k] + tuple(named[at:]))
        else:
            shapes.append(tuple(named))
    return Case(tuple(draw(S.floats(sh)) for sh in shapes), {"eq": eq})


@st.composite
def mm_case(draw, batched, add=False):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    lead = (draw(st.integers(1, 3)),) if batched else ()
    tensors = [draw(S.floats(lead + (n, k))), draw(S.floats(lead + (k, m)))]
    params = {}
    if add:
        tensors.insert(0, draw(S.floats(draw(S.broadcasts_to(lead + (n, m))))))
        params = {"beta": draw(st.sampled_from([1, 0.5, 0, -2.0])),
                  "alpha": draw(st.sampled_from([1, 2.5, -1]))}
    return Case(tuple(tensors), params)


def _fibers(draw, shape, axis, n, unique):
    """An int64 index of ``shape`` with values in [0, n); ``unique``: no value twice along
    ``axis`` within one fiber (so scatter's writes never collide)."""
    if not unique:
        return draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n - 1)))
    moved = (shape[axis],) + shape[:axis] + shape[axis + 1:]
    flat = np.empty((moved[0], math.prod(moved[1:])), dtype=np.int64)
    for j in range(flat.shape[1]):
        flat[:, j] = draw(st.permutations(range(n)))[:moved[0]]
    return np.moveaxis(flat.reshape(moved), 0, axis).copy()


@st.composite
def scatter_case(draw, unique=True, value=False, larger_src=False):
    """x (>= 1 dim), dim, index (x's number of dims, no larger than x off ``dim``; along dim
    at most x's size when writes must not collide), src index's shape (``larger_src``: up
    to 1 larger on each dim; only its leading corner is read)."""
    s = draw(S.shapes(min_dims=1))
    d = draw(S.dim(len(s)))
    axis = d % len(s)
    longest = s[axis] if unique else s[axis] + 2
    idx_shape = tuple(draw(st.integers(1, longest if i == axis else n)) for i, n in enumerate(s))
    index = _fibers(draw, idx_shape, axis, s[axis], unique)
    tensors = [draw(S.floats(s))]
    params = {"d": d, "index": index}
    if value:
        params["value"] = draw(st.floats(-3, 3))
    else:
        bigger = tuple(m + draw(st.integers(0, 1)) for m in idx_shape) if larger_src else idx_shape
        tensors.append(draw(S.floats(bigger)))
    return Case(tuple(tensors), params)


@st.composite
def index_fill_case(draw, tensor_value):
    """Negative and repeated indices; with a tensor value only indices >= 0 and x >= 1-D
    (PyTorch's backward fails on the others)."""
    s = draw(S.shapes(min_dims=1 if tensor_value else 0))
    d = draw(S.dim(len(s)))
    n = s[d % len(s)] if s else 1
    index = draw(hnp.arrays(np.int64, (draw(st.integers(0, n + 1)),),
                            elements=st.integers(0 if tensor_value else -n, n - 1)))
    tensors = [draw(S.floats(s))]
    params = {"d": d, "index": index}
    if tensor_value:
        tensors.append(draw(S.floats(())))
    else:
        params["value"] = draw(st.floats(-3, 3))
    return Case(tuple(tensors), params)


@st.composite
def masked_select_case(draw):
    """x and a mask that broadcast together (either may be the larger)."""
    sx, sm = draw(S.broadcastable_shapes(2))
    return Case((draw(S.floats(sx)),), {"mask": draw(S.bool_masks(sm))})


@st.composite
def clamp_tensor_case(draw, lo=True, hi=True):
    """x and tensor bounds that broadcast together, no value shared (no ties: kinks). With
    both bounds, they broadcast to x's shape (PyTorch applies max in place on the result of
    min, which cannot grow)."""
    if lo and hi:
        s = draw(S.shapes())
        shapes = (s, draw(S.broadcasts_to(s)), draw(S.broadcasts_to(s)))
    else:
        shapes = draw(S.broadcastable_shapes(2))
    return Case(tuple(draw(S.distinct(*shapes))))


@st.composite
def lerp_case(draw, tensor_weight):
    if tensor_weight:
        sa, sb, sw = draw(S.broadcastable_shapes(3))
        return Case((draw(S.floats(sa)), draw(S.floats(sb)), draw(S.floats(sw, -0.5, 1.5))))
    sa, sb = draw(S.broadcastable_shapes(2))
    return Case((draw(S.floats(sa)), draw(S.floats(sb))),
                {"w": draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, -0.5, 1.5]))})


@st.composite
def attention_case(draw):
    """q (..., L, E), k (..., S, E), v (..., S, Ev) with broadcasting batch dims (0-2), and
    no mask, a bool mask (True = may attend; rows with nothing allowed included), a float
    mask (with -inf entries) or is_causal; scale None or given."""
    batch = draw(S.broadcastable_shapes(3, max_dims=2))
    L, Sk, E, Ev = (draw(st.integers(1, 3)) for _ in range(4))  # noqa: N806
    # the mask broadcasts into q kᵀ's shape (PyTorch adds it in place there)
    full = np.broadcast_shapes(batch[0], batch[1])
    q = draw(S.floats(batch[0] + (L, E)))
    k = draw(S.floats(batch[1] + (Sk, E)))
    v = draw(S.floats(batch[2] + (Sk, Ev)))
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    # at least 2-D (PyTorch indexes dim -2 of the mask), any of its dims may be 1
    mask_shape = draw(S.broadcasts_to(full)) + tuple(
        n if draw(st.booleans()) else 1 for n in (L, Sk))
    mask = None
    if kind == "bool":
        mask = draw(S.bool_masks(mask_shape))
    elif kind == "float":
        values = draw(S.floats(mask_shape))
        mask = np.where(draw(S.bool_masks(mask_shape)), values, -np.inf)
    return Case((q, k, v), {"mask": mask, "causal": kind == "causal",
                            "scale": draw(st.sampled_from([None, 0.5, 2.0]))})


def _reduction(*extra):
    return st.sampled_from(("mean", "sum", "none") + extra)


@st.composite
def regression_case(draw, weight=False):
    """input and target (both require grad) with |input - target| >= GAP (abs's kink)."""
    s = draw(S.shapes())
    x = draw(S.floats(s))
    t = x + draw(S.away_from_zero(s, -2.0, 2.0))
    params = {"reduction": draw(_reduction())}
    if weight:
        params["weight"] = draw(st.one_of(st.none(), S.floats(s, 0.1, 2.0)))
    return Case((x, t), params)


@st.composite
def kl_case(draw):
    s = draw(S.shapes())
    log_target = draw(st.booleans())
    t = draw(S.floats(s)) if log_target else draw(S.positive(s))
    # not 'mean': PyTorch warns about it at every call (tests/test_ops_more.py checks it)
    reduction = draw(st.sampled_from(["sum", "none", "batchmean"]))
    return Case((draw(S.floats(s)), t), {"reduction": reduction, "log_target": log_target})


@st.composite
def bce_case(draw, logits):
    """Probabilities in [0.05, 0.95] (logits in [-5, 5]), targets in [0, 1] (they require
    grad too: PyTorch differentiates both), a weight broadcasting to the input, and for
    logits a pos_weight over the last dim."""
    s = draw(S.shapes())
    x = draw(S.floats(s, -5.0, 5.0)) if logits else draw(S.floats(s, 0.05, 0.95))
    params = {"reduction": draw(_reduction()),
              "weight": draw(st.one_of(st.none(), S.floats(draw(S.broadcasts_to(s)), 0.1, 2.0)))}
    if logits:
        last = draw(st.sampled_from([()] + ([(1,), (s[-1],)] if s else [])))
        params["pos_weight"] = draw(st.one_of(st.none(), S.floats(last, 0.1, 3.0)))
    return Case((x, draw(S.floats(s, 0.0, 1.0))), params)


@st.composite
def pad_modes_case(draw, mode):
    """2-4-D input, padding of the last 1, 2 or 3 dims (as PyTorch allows for the mode),
    each side from -1 (crop) to what the mode permits."""
    dims = draw(st.integers(1, 2))
    s = draw(S.shapes(min_dims=dims + 1, max_dims=dims + 2, min_side=2, max_side=3))
    pad = []
    for n in reversed(s[-dims:]):
        top = n - 1 if mode == "reflect" else n - 1 if mode == "circular" else 3
        lo, hi = draw(st.integers(-1, top)), draw(st.integers(-1, top))
        if lo < 0 and hi < 0 and (mode == "circular" or n == 2):
            hi = 0  # something must be left
        pad += [lo, hi]
    return Case((draw(S.floats(s)),), {"pad": tuple(pad), "mode": mode})


@st.composite
def constant_pad_case(draw):
    """Constant padding with negative amounts too (they crop), as PyTorch allows."""
    s = draw(S.shapes(min_dims=1))
    pairs = draw(st.integers(1, len(s)))
    pad = []
    for n in reversed(s[-pairs:]):
        lo = draw(st.integers(-(n - 1), 2))
        pad += [lo, draw(st.integers(-(n - 1 + min(lo, 0)), 2))]
    return Case((draw(S.floats(s)),), {"pad": tuple(pad), "value": draw(st.floats(-3, 3))})


@st.composite
def normalize_case(draw):
    s = draw(S.shapes(min_dims=1))
    return Case((draw(S.distinct_magnitudes(s)),), {"p": draw(st.sampled_from([1, 2, 3.0])),
                                                    "d": draw(S.dim(len(s)))})


@st.composite
def matrix_norm_case(draw):
    """A matrix (maybe batched) whose column sums and row sums of |a| are far apart (max and
    min over them must have no ties)."""
    s = draw(S.shapes(min_dims=2, max_dims=3))
    a = draw(S.distinct_magnitudes(s))
    ok = all(np.all(np.diff(np.sort(np.abs(a).sum(axis=ax), axis=-1), axis=-1) > S.GAP)
             for ax in (-1, -2))
    return Case((a,), {"ord": draw(st.sampled_from([1, -1, math.inf, -math.inf, "fro"])),
                       "keep": draw(st.booleans()), "ok": ok})


# -- functions that need statements -------------------------------------------------------------

def _on_copy(m, x, change):
    """y = x * 1 (a non-leaf, so in-place is allowed); change(y) in place; y."""
    y = x * 1
    change(y)
    return y


def _attention(m, q, k, v, mask, causal, scale):
    return m.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                        is_causal=causal, scale=scale)


def _matrix_norm(m, a, ord, keep, ok):  # noqa: A002
    return m.linalg.matrix_norm(a, ord, keepdim=keep)


# -- the rows ------------------------------------------------------------------------------------

ROWS = [
    # ordering (ops/sorting.py): distinct values, so the indices are unique
    Row("sort", lambda m, x, d, descending: tuple(x.sort(dim=d, descending=descending)),
        sort_case(), "(values, indices); distinct values"),
    Row("sort_fn_stable_ties", lambda m, x, d, descending: tuple(
        m.sort(x, dim=d, descending=descending, stable=True)), sort_ties_case(),
        "ties in stable order (the gradient follows the indices)", gradcheck=False),
    Row("topk", lambda m, x, d, k, largest: tuple(m.topk(x, k, dim=d, largest=largest)),
        sort_case(topk=True), "k from 0 to the dim's size; distinct values"),

    # running sums and products (ops/cumulative.py)
    Row("cumsum", lambda m, x, d: x.cumsum(d), one(d=lambda s: S.dim(len(s)))),
    Row("cumsum_fn", lambda m, x, d: m.cumsum(x, dim=d), one(d=lambda s: S.dim(len(s)))),
    Row("cumprod", lambda m, x, d: x.cumprod(d), one(d=lambda s: S.dim(len(s)))),
    Row("cumprod_zeros", lambda m, x, d: m.cumprod(x, d), one(S.ties, d=lambda s: S.dim(len(s))),
        "values in {-1, 0, 1, 2}: zeros, several per slice (cumprod is a polynomial: smooth)"),

    # einsum (ops/einsum.py)
    Row("einsum", lambda m, *ts, eq: m.einsum(eq, *ts), einsum_case(),
        "matmul, batched, trace, diagonal, outer, sums, transposes, 3 operands, implicit "
        "output, '...', size-1 dims that broadcast"),
    Row("einsum_list", lambda m, *ts, eq: m.einsum(eq, list(ts)), einsum_case()),

    # the BLAS-style products (ops/matmul_forms.py): composed from matmul, mul, add
    Row("mm", lambda m, a, b: m.mm(a, b), mm_case(False)),
    Row("bmm", lambda m, a, b: a.bmm(b), mm_case(True)),
    Row("addmm", lambda m, c, a, b, beta, alpha: m.addmm(c, a, b, beta=beta, alpha=alpha),
        mm_case(False, add=True), "beta 0 ignores the input (gradient 0)"),
    Row("baddbmm", lambda m, c, a, b, beta, alpha: c.baddbmm(a, b, beta=beta, alpha=alpha),
        mm_case(True, add=True)),

    # positions (ops/scatter.py)
    Row("scatter", lambda m, x, src, d, index: x.scatter(d, index, src), scatter_case(),
        "no position written twice (the gradient is only defined then)"),
    Row("scatter_src_larger", lambda m, x, src, d, index: x.scatter(d, index, src),
        scatter_case(larger_src=True), "src larger than index: its other elements get 0 "
        "(PyTorch 2.13's backward fails there: no parity)", torch=False),
    Row("scatter_value", lambda m, x, d, index, value: m.scatter(x, d, index, value=value),
        scatter_case(value=True)),
    Row("scatter_add", lambda m, x, src, d, index: m.scatter_add(x, d, index, src),
        scatter_case(unique=False), "repeated positions add up"),
    Row("index_fill", lambda m, x, d, index, value: x.index_fill(d, index, value),
        index_fill_case(False), "negative and repeated indices"),
    Row("index_fill_tensor_value", lambda m, x, v, d, index: m.index_fill(x, d, index, v),
        index_fill_case(True), "a 0-d value tensor gets the sum of g over the filled slices"),
    Row("masked_select", lambda m, x, mask: m.masked_select(x, mask), masked_select_case(),
        "the mask may be larger than x (broadcast): x's gradient sums back"),
    Row("inplace_scatter", lambda m, x, src, d, index: _on_copy(
        m, x, lambda y: y.scatter_(d, index, src)), scatter_case()),
    Row("inplace_scatter_add", lambda m, x, src, d, index: _on_copy(
        m, x, lambda y: y.scatter_add_(d, index, src)), scatter_case(unique=False)),
    Row("inplace_index_fill", lambda m, x, d, index, value: _on_copy(
        m, x, lambda y: y.index_fill_(d, index, value)), index_fill_case(False)),

    # reordering (ops/shape.py)
    Row("flip", lambda m, x, dims: m.flip(x, dims), flip_case()),
    Row("flip_method", lambda m, x, dims: x.flip(*dims) if dims else x.flip(dims),
        flip_case()),
    Row("roll", lambda m, x, shifts, dims: x.roll(shifts, dims), roll_case()),
    Row("unflatten", lambda m, x, d, sizes: x.unflatten(d, sizes), unflatten_case(), view=True),

    # elementwise (ops/unary.py, ops/lerp.py)
    Row("clamp_min_number", lambda m, x, lo: x.clamp_min(lo), clamp_case(hi=False),
        "x >= GAP from the bound"),
    Row("clamp_max_number", lambda m, x, hi: m.clamp_max(x, hi), clamp_case(lo=False)),
    Row("clamp_min_tensor", lambda m, x, lo: m.clamp_min(x, lo), clamp_tensor_case(hi=False),
        "x and the bound broadcast; no ties"),
    Row("clamp_max_tensor", lambda m, x, hi: x.clamp_max(hi), clamp_tensor_case(lo=False)),
    Row("clamp_tensor", lambda m, x, lo, hi: m.clamp(x, min=lo, max=hi), clamp_tensor_case(),
        "min > max allowed (max everywhere, its gradient to max)"),
    Row("lerp", lambda m, a, b, w: m.lerp(a, b, w), lerp_case(False), "weight a number"),
    Row("lerp_tensor", lambda m, a, b, w: a.lerp(b, w), lerp_case(True),
        "start, end and weight broadcast together"),
    Row("inplace_lerp", lambda m, a, b, w: _on_copy(m, a, lambda y: y.lerp_(b, w)),
        lerp_case(False).filter(lambda c: np.broadcast_shapes(
            c.tensors[0].shape, c.tensors[1].shape) == c.tensors[0].shape)),
    Row("silu", lambda m, x: m.nn.functional.silu(x), one(lambda s: S.floats(s, -8.0, 8.0))),

    # attention (ops/attention.py): composed from matmul, masked_fill, softmax
    Row("scaled_dot_product_attention", _attention, attention_case(),
        "bool masks (True = may attend) with fully blocked rows, float masks with -inf, "
        "is_causal with L != S, broadcast batch dims"),

    # losses (ops/pointwise_loss.py)
    Row("l1_loss", lambda m, x, t, reduction, weight: m.nn.functional.l1_loss(
        x, t, reduction=reduction, weight=weight), regression_case(weight=True),
        "|x - t| >= GAP"),
    Row("smooth_l1_loss", lambda m, x, t, reduction, beta: m.nn.functional.smooth_l1_loss(
        x, t, reduction=reduction, beta=beta), regression_case().flatmap(lambda c: st.sampled_from(
            [0.0, 0.5, 1.0, 2.0]).map(lambda b: Case(c.tensors, {**c.params, "beta": b}))),
        "beta 0 is l1"),
    Row("huber_loss", lambda m, x, t, reduction, weight, delta: m.nn.functional.huber_loss(
        x, t, reduction=reduction, delta=delta, weight=weight),
        regression_case(weight=True).flatmap(lambda c: st.sampled_from([0.5, 1.0, 2.0]).map(
            lambda dl: Case(c.tensors, {**c.params, "delta": dl})))),
    Row("kl_div", lambda m, x, t, reduction, log_target: m.nn.functional.kl_div(
        x, t, reduction=reduction, log_target=log_target), kl_case(),
        "target > 0 (or log-space); 'batchmean' too"),
    Row("binary_cross_entropy", lambda m, p, t, reduction, weight:
        m.nn.functional.binary_cross_entropy(p, t, weight=weight, reduction=reduction),
        bce_case(False), "p in [0.05, 0.95]; the target gets a gradient too"),
    Row("binary_cross_entropy_with_logits", lambda m, x, t, reduction, weight, pos_weight:
        m.nn.functional.binary_cross_entropy_with_logits(
            x, t, weight=weight, reduction=reduction, pos_weight=pos_weight),
        bce_case(True), "weight and pos_weight broadcast"),

    # padding (ops/padding.py) and norms (ops/norms.py)
    Row("pad_negative", lambda m, x, pad, value: m.nn.functional.pad(x, pad, value=value),
        constant_pad_case(), "negative amounts crop"),
    Row("pad_reflect", lambda m, x, pad, mode: m.nn.functional.pad(x, pad, mode=mode),
        pad_modes_case("reflect")),
    Row("pad_replicate", lambda m, x, pad, mode: m.nn.functional.pad(x, pad, mode=mode),
        pad_modes_case("replicate"), "edge positions are read many times: gradients add"),
    Row("pad_circular", lambda m, x, pad, mode: m.nn.functional.pad(x, pad, mode=mode),
        pad_modes_case("circular")),
    Row("normalize", lambda m, x, p, d: m.nn.functional.normalize(x, p=p, dim=d),
        normalize_case(), "|x| >= 0.1, distinct"),
    Row("vector_norm_neg_inf", lambda m, x, d, k: m.linalg.vector_norm(
        x, -math.inf, d, k), one(S.distinct_magnitudes, d=lambda s: st.one_of(
            st.none(), S.dim(len(s)), S.dim_tuple(len(s))), k=_s(S.keepdim)),
        "min |x|; distinct magnitudes"),
    Row("linalg_norm", lambda m, x, d, k: m.linalg.norm(x, dim=d, keepdim=k),
        one(S.distinct_magnitudes, d=lambda s: st.one_of(st.none(), S.dim(len(s))),
            k=_s(S.keepdim))),
    Row("matrix_norm", _matrix_norm, matrix_norm_case().filter(lambda c: c.params["ok"]),
        "column / row sums of |a| without ties"),
]
