"""Each fused op against its textbook twin composed from primitives (and gradcheck).

The fused forms (one node, a hand-derived backward) are what ``tinytorch.fast_paths``
(on by default) picks; the composed forms are the textbook formulas, written in the
library next to them (``cross_entropy_composed``, ``layer_norm_composed``...) out of ops
whose gradients are proven one by one in test_ops_gradcheck.py. Equal values and equal
gradients over random shapes, masks, ignore_index and label_smoothing show the
derivations are right. The references are imported from the library, not rewritten here.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch as tt
from tinytorch.autograd import gradcheck
from tinytorch.nn import functional as F
from tinytorch.ops.linear import linear_composed
from tinytorch.ops.linear_cross_entropy import linear_cross_entropy_composed
from tinytorch.ops.loss import cross_entropy_composed
from tinytorch.ops.normalization import layer_norm_composed


def _t(rng, shape, requires_grad=True):
    return tt.tensor(rng.standard_normal(shape), dtype=tt.float64, requires_grad=requires_grad)


def _grads_match(fused, composed, inputs, rng):
    """Same values, and the same gradients for the same random upstream gradient."""
    out_f = fused(*inputs)
    grads_f = _backward(out_f, inputs, rng, seed=1)
    out_c = composed(*inputs)
    grads_c = _backward(out_c, inputs, rng, seed=1)
    np.testing.assert_allclose(out_f.detach().numpy(), out_c.detach().numpy(), rtol=1e-10, atol=1e-12)
    for gf, gc in zip(grads_f, grads_c):
        np.testing.assert_allclose(gf, gc, rtol=1e-9, atol=1e-12)


def _backward(out, inputs, rng, seed):
    for t in inputs:
        if isinstance(t, tt.Tensor):
            t.grad = None
    g = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(tt.tensor(g, dtype=out.dtype))
    return [t.grad.numpy().copy() for t in inputs if isinstance(t, tt.Tensor) and t.requires_grad]


# -- cross-entropy ---------------------------------------------------------------------------

@st.composite
def ce_case(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(2, 5))
    extra = draw(st.lists(st.integers(1, 3), max_size=2))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    target = rng.integers(0, c, size=(n, *extra))
    ignore_index = draw(st.sampled_from([-100, 0, c - 1]))
    mask = rng.random(target.shape) < 0.3
    target = np.where(mask, ignore_index, target)
    if (target == ignore_index).all():  # keep at least one row that counts
        target.flat[0] = (ignore_index + 1) % c
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.37]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return rng, (n, c, *extra), target, ignore_index, smoothing, reduction


@given(ce_case())
def test_cross_entropy_fused_matches_composed(case):
    rng, shape, target, ignore_index, smoothing, reduction = case
    x = _t(rng, shape)
    t = tt.tensor(target)
    opts = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    _grads_match(lambda x: F.cross_entropy(x, t, **opts),
                 lambda x: cross_entropy_composed(x, t, **opts), [x], rng)


@given(ce_case())
def test_cross_entropy_gradcheck(case):
    rng, shape, target, ignore_index, smoothing, reduction = case
    x = _t(rng, shape)
    t = tt.tensor(target)
    assert gradcheck(lambda x: F.cross_entropy(x, t, ignore_index=ignore_index, reduction=reduction,
                                               label_smoothing=smoothing), (x,))


def test_cross_entropy_extreme_logits_stay_finite():
    x = tt.tensor([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], requires_grad=True)
    t = tt.tensor([1, 2])
    loss = F.cross_entropy(x, t, label_smoothing=0.1)
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    assert loss.item() == pytest.approx(0.9 * 2000 / 2 + 0.1 * (3000 + 4000) / 3 / 2, rel=1e-5)


def test_nll_loss_gradcheck_and_matches_cross_entropy():
    rng = np.random.default_rng(0)
    x = _t(rng, (4, 5))
    t = tt.tensor([0, 3, -100, 4])
    assert gradcheck(lambda x: F.nll_loss(x.log_softmax(-1), t), (x,))
    _grads_match(lambda x: F.nll_loss(x.log_softmax(-1), t, reduction="none"),
                 lambda x: F.cross_entropy(x, t, reduction="none"), [x], rng)


# -- linear + cross-entropy ------------------------------------------------------------------

@st.composite
def lce_case(draw):
    """Rows, features, classes, targets (some ignored), options, which inputs want a gradient."""
    n, d, c = draw(st.integers(0, 9)), draw(st.integers(1, 4)), draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    ignore_index = draw(st.sampled_from([-100, 0]))
    target = np.where(rng.random(n) < 0.3, ignore_index, rng.integers(0, c, n))
    return dict(rng=rng, n=n, d=d, c=c, target=target, ignore_index=ignore_index,
                bias=draw(st.booleans()), chunk=draw(st.sampled_from([None, 1, 2, 5])),
                smoothing=draw(st.sampled_from([0.0, 0.1, 0.37])),
                reduction=draw(st.sampled_from(["mean", "sum", "none"])),
                grads=draw(st.sampled_from(["all", "input", "weight"])))


def _lce_inputs(case):
    rng = case["rng"]
    x, w = _t(rng, (case["n"], case["d"])), _t(rng, (case["c"], case["d"]))
    b = _t(rng, (case["c"],)) if case["bias"] else None
    if case["grads"] != "all":  # a frozen input or a frozen output layer
        (w if case["grads"] == "input" else x).requires_grad_(False)
    return [v for v in (x, w, b) if v is not None]


def _lce(case, options):
    t = tt.tensor(case["target"])

    def loss(x, w, b=None):
        return F.linear_cross_entropy(x, w, t, linear_bias=b, reduction=case["reduction"],
                                      ignore_index=case["ignore_index"],
                                      label_smoothing=case["smoothing"], options=options)
    return loss


def _lce_composed(case):
    """The library's reference, on the textbook paths all the way down (composed
    cross-entropy and linear inside)."""
    t = tt.tensor(case["target"])

    @tt.fast_paths(False)
    def loss(x, w, b=None):
        return linear_cross_entropy_composed(x, w, t, b, case["ignore_index"],
                                             case["reduction"], case["smoothing"])
    return loss


@given(lce_case())
def test_linear_cross_entropy_fused_matches_composed(case):
    """Fused (blocks, gradients made in forward) against cross_entropy(linear(...))."""
    inputs = _lce_inputs(case)
    fused = _lce(case, tt.nn.LinearCrossEntropyOptions(batch_chunk_size=case["chunk"]))
    composed = _lce_composed(case)
    if case["n"] == 0 and case["reduction"] == "mean":  # 0/0: NaN, as PyTorch, and no rows
        assert np.isnan(fused(*inputs).item())
        return
    out_f, out_c = fused(*inputs), composed(*inputs)
    np.testing.assert_allclose(out_f.detach().numpy(), out_c.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    grads_f = _backward(out_f, inputs, case["rng"], seed=1)
    grads_c = _backward(out_c, inputs, case["rng"], seed=1)
    for gf, gc in zip(grads_f, grads_c):
        np.testing.assert_allclose(gf, gc, rtol=1e-9, atol=1e-12)
    assert gradcheck(fused, inputs)


def test_linear_cross_entropy_backward_twice_recomputes():
    """The gradients made in forward are handed on once; a second backward
    (retain_graph) recomputes them, and an upstream gradient scales them."""
    rng = np.random.default_rng(0)
    x, w, b = _t(rng, (7, 3)), _t(rng, (5, 3)), _t(rng, (5,))
    t = tt.tensor([0, 4, -100, 2, 2, 1, -100])
    opts = tt.nn.LinearCrossEntropyOptions(batch_chunk_size=2)
    fused = F.linear_cross_entropy(x, w, t, linear_bias=b, label_smoothing=0.1, options=opts)
    (fused * 3.0).backward(retain_graph=True)
    first = [v.grad.numpy().copy() for v in (x, w, b)]
    (fused * 3.0).backward()
    for v, g in zip((x, w, b), first):
        np.testing.assert_allclose(v.grad.numpy(), 2 * g, rtol=1e-12)
    for v in (x, w, b):
        v.grad = None
    (F.linear_cross_entropy(x, w, t, linear_bias=b, label_smoothing=0.1) * 3.0).backward()
    for v, g in zip((x, w, b), first):
        np.testing.assert_allclose(v.grad.numpy(), g, rtol=1e-10, atol=1e-13)


def test_linear_cross_entropy_no_grad_and_float32():
    rng = np.random.default_rng(1)
    x = tt.tensor(rng.standard_normal((300, 16)), dtype=tt.float32, requires_grad=True)
    w = tt.tensor(rng.standard_normal((50, 16)), dtype=tt.float32, requires_grad=True)
    t = tt.tensor(rng.integers(0, 50, 300))
    opts = tt.nn.LinearCrossEntropyOptions(batch_chunk_size=64)
    with tt.no_grad():
        quiet = F.linear_cross_entropy(x, w, t, options=opts)
    assert quiet.grad_fn is None and quiet.dtype == tt.float32
    fused = F.linear_cross_entropy(x, w, t, options=opts)
    fused.backward()
    composed = F.cross_entropy(F.linear(x, w), t)
    gx, gw = x.grad.numpy(), w.grad.numpy()
    x.grad = w.grad = None
    composed.backward()
    assert fused.dtype == tt.float32 and x.grad.dtype == tt.float32 and gw.dtype == np.float32
    np.testing.assert_allclose(fused.item(), composed.item(), rtol=1e-5)
    np.testing.assert_allclose(quiet.item(), composed.item(), rtol=1e-5)
    np.testing.assert_allclose(gx, x.grad.numpy(), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gw, w.grad.numpy(), rtol=1e-4, atol=1e-7)


def test_linear_cross_entropy_extreme_logits_stay_finite():
    # logits of +-1000 (h = 1000 picks one weight row each): the row max shift keeps exp finite
    x = tt.tensor([[1000.0, 0.0], [0.0, -1000.0]], requires_grad=True)
    w = tt.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    t = tt.tensor([1, 2])
    fused = F.linear_cross_entropy(x, w, t, label_smoothing=0.1,
                                   options=tt.nn.LinearCrossEntropyOptions())
    fused.backward()
    composed = F.cross_entropy(F.linear(x.detach(), w.detach()), t, label_smoothing=0.1)
    assert np.isfinite(fused.item()) and fused.item() == pytest.approx(composed.item(), rel=1e-6)
    assert np.isfinite(x.grad.numpy()).all() and np.isfinite(w.grad.numpy()).all()


def test_linear_cross_entropy_catches_weight_changed_before_backward():
    rng = np.random.default_rng(2)
    x, w = _t(rng, (4, 3)), _t(rng, (5, 3))
    loss = F.linear_cross_entropy(x, w, tt.tensor([1, 2, 3, 4]),
                                  options=tt.nn.LinearCrossEntropyOptions())
    with tt.no_grad():
        w.mul_(2.0)  # e.g. an optimizer step between forward and backward
    with pytest.raises(RuntimeError, match="LinearCrossEntropyBackward.*modified by an in-place"):
        loss.backward()


@pytest.mark.parametrize("args, error, match", [
    (((4, 3), (5, 2), (4,)), ValueError, r"input must be \(N, in_features\).*\(4, 3\).*\(5, 2\)"),
    (((2, 4, 3), (5, 3), (2, 4)), ValueError, r"hidden.reshape\(-1, d_model\)"),
    (((4, 3), (5, 3), (3,)), ValueError, r"needs a target of shape \(4,\), got \(3,\)"),
    (((4, 3), (5, 3), (4,), 7), IndexError, r"target ids must be in \[0, 4\]"),
])
def test_linear_cross_entropy_errors_name_op_shapes_and_fix(args, error, match):
    x_shape, w_shape, t_shape, *bad = args
    x, w = tt.zeros(*x_shape, requires_grad=True), tt.zeros(*w_shape)
    t = tt.full(t_shape, bad[0] if bad else 1, dtype=tt.int64)
    with pytest.raises(error, match=match):
        F.linear_cross_entropy(x, w, t, options=tt.nn.LinearCrossEntropyOptions())


def test_linear_cross_entropy_rejects_mixed_dtypes_and_bad_options():
    x, w = tt.zeros(4, 3), tt.zeros(5, 3, dtype=tt.float64)
    with pytest.raises(TypeError, match="share one float dtype"):
        F.linear_cross_entropy(x, w, tt.zeros(4, dtype=tt.int64),
                               options=tt.nn.LinearCrossEntropyOptions())
    with pytest.raises(ValueError, match="batch_chunk_size must be a positive int"):
        tt.nn.LinearCrossEntropyOptions(batch_chunk_size=0)
    with pytest.raises(TypeError, match="LinearCrossEntropyOptions or None"):
        F.linear_cross_entropy(x, x.T.T, tt.zeros(4, dtype=tt.int64), options={"chunk": 2})


# -- layer norm ------------------------------------------------------------------------------

@st.composite
def ln_case(draw):
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    norm = draw(st.lists(st.integers(2, 4), min_size=1, max_size=2))
    affine = draw(st.sampled_from(["both", "weight", "none"]))
    return np.random.default_rng(draw(st.integers(0, 2**31))), tuple(lead), tuple(norm), affine


@given(ln_case())
def test_layer_norm_fused_matches_composed(case):
    rng, lead, norm, affine = case
    x = _t(rng, lead + norm)
    w = _t(rng, norm) if affine != "none" else None
    b = _t(rng, norm) if affine == "both" else None
    inputs = [v for v in (x, w, b) if v is not None]

    def fused(*args):
        return F.layer_norm(args[0], norm, *args[1:])

    def composed(*args):
        rest = list(args[1:]) + [None] * (2 - len(args[1:]))
        return layer_norm_composed(args[0], norm, *rest)

    _grads_match(fused, composed, inputs, rng)
    assert gradcheck(fused, inputs)


# -- linear and embedding ----------------------------------------------------------------------

@given(st.integers(0, 2**31), st.lists(st.integers(1, 3), max_size=3), st.booleans())
def test_linear_fused_matches_composed(seed, lead, with_bias):
    rng = np.random.default_rng(seed)
    x, w = _t(rng, (*lead, 3)), _t(rng, (4, 3))
    inputs = [x, w] + ([_t(rng, (4,))] if with_bias else [])

    _grads_match(F.linear, linear_composed, inputs, rng)
    assert gradcheck(F.linear, inputs)


@given(st.integers(0, 2**31), st.lists(st.integers(1, 4), min_size=1, max_size=2),
       st.sampled_from([None, 0, 2]))
def test_embedding_matches_indexing_and_repeats_accumulate(seed, shape, padding_idx):
    rng = np.random.default_rng(seed)
    w = _t(rng, (5, 3))
    ids = tt.tensor(rng.integers(0, 5, size=shape))

    def composed(w):
        out = w[ids]
        if padding_idx is None:
            return out
        keep = (ids != padding_idx).unsqueeze(-1).to(tt.float64)
        return out * keep + (out * (1 - keep)).detach()  # same values, no grad to the pad row

    _grads_match(lambda w: F.embedding(ids, w, padding_idx), composed, [w], rng)
    if padding_idx is None:  # the pad row is *defined* to get no gradient: not a derivative
        assert gradcheck(lambda w: F.embedding(ids, w), (w,))


def test_embedding_repeated_ids_sum_their_gradients():
    w = tt.zeros(3, 2, dtype=tt.float64, requires_grad=True)
    out = F.embedding(tt.tensor([1, 1, 1, 2]), w)
    out.backward(tt.ones(4, 2, dtype=tt.float64))
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [3, 3], [1, 1]])


# -- dropout and pad ---------------------------------------------------------------------------

def test_dropout_gradient_uses_the_same_mask():
    x = tt.ones(1000, dtype=tt.float64, requires_grad=True)
    y = F.dropout(x, p=0.25, training=True)
    y.backward(tt.ones(1000, dtype=tt.float64))
    kept = y.detach().numpy() != 0
    np.testing.assert_allclose(y.detach().numpy()[kept], 1 / 0.75)
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 1 / 0.75, 0.0))
    assert 0.6 < kept.mean() < 0.9
    assert F.dropout(x, 0.5, training=False) is x


def test_pad_gradcheck():
    rng = np.random.default_rng(0)
    x = _t(rng, (2, 3, 2))
    assert gradcheck(lambda x: F.pad(x, (1, 2, 0, 1), value=3.0), (x,))
    assert F.pad(x, (1, 2, 0, 1)).shape == (2, 4, 5)
