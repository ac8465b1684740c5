"""Edge cases where the engine once differed from PyTorch (issue 15), each pinned twice:
the expected values written out (no PyTorch needed), and the same case run in PyTorch.

1. Selections (masked_fill, where, maximum, minimum, tril, triu) *select* the gradient:
   a NaN or inf upstream at a position an input did not supply never reaches it. So a
   row masked entirely with -inf gives NaN weights but a 0 gradient, as in PyTorch.
2. ``nn.Linear`` with 0 in or 0 out features builds (a warning, like PyTorch) and runs.
3. Dropout with p = 1 gives zeros and zero gradients, in ``F.dropout``, ``nn.Dropout``
   and both attention paths; p outside [0, 1] is a ValueError.
4. ``clip_grad_norm_``: a NaN gradient makes every gradient NaN (the norm is NaN), and
   ``error_if_nonfinite=True`` raises PyTorch's error instead.

conftest turns NumPy's floating-point warnings into errors; the cases that make NaN on
purpose run under ``np.errstate(invalid="ignore")``.
"""

import math
import warnings

import numpy as np
import pytest

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import functional as F
from transformer.attention import scaled_dot_product_attention

NAN, INF = float("nan"), float("inf")


def _torch():
    return pytest.importorskip("torch")


def _lib(name):
    """tinytorch, or PyTorch (the test skips where it is not installed)."""
    return tt if name == "tinytorch" else _torch()


LIBS = ["tinytorch", "torch"]


def _np(t):
    return t.detach().numpy()


# -- 1. selections select the gradient ---------------------------------------------------------

X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
ROW_MASK = [[True, True, True], [False, True, False]]  # row 0 fully masked, row 1 partly


def _masked_softmax_grad(m):
    x = m.tensor(X, dtype=m.float64, requires_grad=True)
    y = x.masked_fill(m.tensor(ROW_MASK), -INF).softmax(-1)
    y.sum().backward()
    return y, x.grad


def test_fully_masked_softmax_row_gives_nan_weights_but_zero_gradient():
    with np.errstate(invalid="ignore"):  # -inf - (-inf) in the fully masked row
        y, grad = _masked_softmax_grad(tt)
    e = math.exp(2.0)  # row 1 keeps x = 4 and x = 6: weights 1/(1+e^2), e^2/(1+e^2)
    np.testing.assert_allclose(_np(y), [[NAN, NAN, NAN], [1 / (1 + e), 0.0, e / (1 + e)]])
    # d(sum of a softmax row)/dx = 0; row 0's NaN upstream stops at masked_fill
    np.testing.assert_array_equal(grad.numpy()[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(grad.numpy()[1], [0.0, 0.0, 0.0], atol=1e-15)


def test_fully_masked_softmax_row_matches_pytorch():
    torch = _torch()
    with np.errstate(invalid="ignore"):
        y, grad = _masked_softmax_grad(tt)
    ty, tgrad = _masked_softmax_grad(torch)
    np.testing.assert_allclose(_np(y), _np(ty))  # NaN where PyTorch has NaN
    np.testing.assert_allclose(grad.numpy(), tgrad.numpy(), atol=1e-15)
    assert not np.isnan(tgrad.numpy()).any()


# Each case: the op, its inputs, an upstream gradient with NaN/inf where the op did not
# take from an input, and the gradients PyTorch gives (selected, never multiplied by 0).
G3 = [NAN, INF, 1.0]
SELECTION_CASES = {
    "masked_fill": (lambda m, x: x.masked_fill(m.tensor([True, False, False]), 0.0),
                    [[1.0, 2.0, 3.0]], G3, [[0.0, INF, 1.0]]),
    "where": (lambda m, a, b: m.where(m.tensor([True, False, True]), a, b),
              [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], G3, [[NAN, 0.0, 1.0], [0.0, INF, 0.0]]),
    "maximum": (lambda m, a, b: m.maximum(a, b),
                [[1.0, 5.0, 3.0], [4.0, 2.0, 3.0]], [NAN, INF, INF],
                [[0.0, INF, INF], [NAN, 0.0, INF]]),  # a tie: inf / 2 to each side
    "minimum": (lambda m, a, b: m.minimum(a, b),
                [[1.0, 5.0, 3.0], [4.0, 2.0, 3.0]], [NAN, INF, 2.0],
                [[NAN, 0.0, 1.0], [0.0, INF, 1.0]]),
    # a NaN input compares neither equal nor smaller: PyTorch gives all of g to both sides
    "maximum_nan_input": (lambda m, a, b: m.maximum(a, b),
                          [[NAN, 1.0, 2.0], [1.0, NAN, 0.0]], [1.0, 1.0, 1.0],
                          [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]),
    "minimum_nan_input": (lambda m, a, b: m.minimum(a, b),
                          [[NAN, 1.0, 2.0], [1.0, NAN, 0.0]], [1.0, 1.0, 1.0],
                          [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]),
    "tril": (lambda m, x: m.tril(x),
             [[[1.0, 2.0], [3.0, 4.0]]], [[NAN, NAN], [NAN, NAN]], [[[NAN, 0.0], [NAN, NAN]]]),
    "triu": (lambda m, x: m.triu(x),
             [[[1.0, 2.0], [3.0, 4.0]]], [[INF, NAN], [NAN, INF]], [[[INF, NAN], [0.0, INF]]]),
}


def _selection_grads(m, fn, inputs, upstream):
    xs = [m.tensor(v, dtype=m.float64, requires_grad=True) for v in inputs]
    fn(m, *xs).backward(m.tensor(upstream, dtype=m.float64))
    return [x.grad.numpy() for x in xs]


@pytest.mark.parametrize("name", list(SELECTION_CASES))
def test_selection_backward_does_not_spread_nan_or_inf(name):
    fn, inputs, upstream, expected = SELECTION_CASES[name]
    for got, want in zip(_selection_grads(tt, fn, inputs, upstream), expected):
        np.testing.assert_array_equal(got, want, err_msg=name)


@pytest.mark.parametrize("name", list(SELECTION_CASES))
def test_selection_backward_matches_pytorch(name):
    torch = _torch()
    fn, inputs, upstream, _ = SELECTION_CASES[name]
    ours = _selection_grads(tt, fn, inputs, upstream)
    theirs = _selection_grads(torch, fn, inputs, upstream)
    for got, want in zip(ours, theirs):
        np.testing.assert_array_equal(got, want, err_msg=name)


# -- 2. nn.Linear with no input or no output features -------------------------------------------

@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)])
def test_linear_with_zero_features_builds_with_a_warning(shape):
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        layer = nn.Linear(*shape)
    assert layer.weight.shape == (shape[1], shape[0])
    # fan_in = 0: the bias is drawn from U(-0, 0), i.e. zeros
    np.testing.assert_array_equal(_np(layer.bias), np.zeros(shape[1], np.float32))


def test_kaiming_init_of_an_empty_tensor_is_a_warned_no_op():
    for init in (nn.init.kaiming_uniform_, nn.init.kaiming_normal_):
        for shape in ((0, 3), (3, 0), (0,)):  # (0,): no fan check first, as in PyTorch
            t = tt.zeros(*shape)
            with pytest.warns(UserWarning, match="zero-element"):
                assert init(t) is t
    with pytest.raises(ValueError, match="at least 2 dims"):  # a non-empty 1-D tensor
        nn.init.kaiming_uniform_(tt.zeros(3))


def _zero_feature_forward(m, in_f, out_f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        layer = m.nn.Linear(in_f, out_f).double()
    with m.no_grad():
        layer.bias.copy_(m.arange(out_f, dtype=m.float64))
    x = m.tensor(x, dtype=m.float64, requires_grad=True)
    y = layer(x)
    y.sum().backward()
    return y, x.grad, layer.weight.grad, layer.bias.grad


LINEAR_CASES = [(0, 5, np.zeros((3, 0))), (5, 0, np.ones((3, 5)))]


@pytest.mark.parametrize("in_f, out_f, x", LINEAR_CASES)
def test_linear_with_zero_features_runs_composed(in_f, out_f, x):
    with tt.fast_paths(False):
        y, gx, gw, gb = _zero_feature_forward(tt, in_f, out_f, x)
    # an empty sum is 0: y = 0 + b in every row; dL/db = number of rows
    np.testing.assert_array_equal(y.detach().numpy(), np.tile(np.arange(out_f), (3, 1)))
    np.testing.assert_array_equal(gx.numpy(), np.zeros((3, in_f)))
    assert gw.shape == (out_f, in_f)
    np.testing.assert_array_equal(gb.numpy(), np.full(out_f, 3.0))


@pytest.mark.parametrize("in_f, out_f, x", LINEAR_CASES)
def test_linear_with_zero_features_runs_fused(in_f, out_f, x):
    with tt.fast_paths(True):
        y, gx, gw, gb = _zero_feature_forward(tt, in_f, out_f, x)
    np.testing.assert_array_equal(y.detach().numpy(), np.tile(np.arange(out_f), (3, 1)))
    np.testing.assert_array_equal(gb.numpy(), np.full(out_f, 3.0))


@pytest.mark.parametrize("in_f, out_f, x", LINEAR_CASES)
def test_linear_with_zero_features_matches_pytorch(in_f, out_f, x):
    torch = _torch()
    with tt.fast_paths(False):
        ours = _zero_feature_forward(tt, in_f, out_f, x)
    theirs = _zero_feature_forward(torch, in_f, out_f, x)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(_np(a), _np(b))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.nn.Linear(in_f, out_f)
    assert [str(w.message) for w in caught] == ["Initializing zero-element tensors is a no-op"]


# -- 3. dropout with p = 1 ----------------------------------------------------------------------

def _dropout_all(m, layer):
    x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = m.nn.Dropout(1.0)(x) if layer else m.nn.functional.dropout(x, 1.0)
    y.backward(m.tensor([1.0, 2.0, 3.0]))
    return y, x.grad


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("layer", [False, True], ids=["F.dropout", "nn.Dropout"])
def test_dropout_p1_gives_zeros_and_zero_gradients(layer, lib):
    y, grad = _dropout_all(_lib(lib), layer)
    np.testing.assert_array_equal(_np(y), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("lib", LIBS)
def test_dropout_p1_is_x_times_zero_like_pytorch(lib):
    # PyTorch computes x * 0, so inf and NaN inputs give NaN; NaN upstream stays NaN
    m = _lib(lib)
    x = m.tensor([1.0, INF, NAN, -2.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = m.nn.functional.dropout(x, 1.0)
        y.backward(m.tensor([1.0, 2.0, NAN, INF]))
    np.testing.assert_array_equal(_np(y), [0.0, NAN, NAN, -0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, NAN, NAN])


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_0_1_is_a_value_error(p):
    x = tt.ones(2, 3, 4, 5)
    with pytest.raises(ValueError, match="between 0 and 1, but got"):
        F.dropout(x, p)
    with pytest.raises(ValueError, match="between 0 and 1, but got"):
        nn.Dropout(p)
    for fast in (False, True):
        with tt.fast_paths(fast), pytest.raises(ValueError, match="between 0 and 1, but got"):
            scaled_dot_product_attention(x, x, x, dropout_p=p)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_probability_outside_0_1_pytorch(p):
    # PyTorch's F.dropout and nn.Dropout: ValueError. (Its scaled_dot_product_attention
    # raises a RuntimeError instead; we keep F.dropout's ValueError on every path.)
    torch = _torch()
    with pytest.raises(ValueError, match="between 0 and 1, but got"):
        torch.nn.functional.dropout(torch.ones(3), p)
    with pytest.raises(ValueError, match="between 0 and 1, but got"):
        torch.nn.Dropout(p)


def _attention_p1(m, fast=None):
    rng = np.random.default_rng(0)
    q, k, v = (m.tensor(rng.standard_normal((2, 2, 3, 4)), requires_grad=True)
               for _ in range(3))
    if m is tt:
        with tt.fast_paths(fast):
            out = scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=1.0)[0]
    else:  # square: PyTorch's top-left causal mask is ours (bottom-right)
        out = m.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                           dropout_p=1.0)
    out.backward(m.ones_like(out))
    return [_np(out)] + [t.grad.numpy() for t in (q, k, v)]


@pytest.mark.parametrize("fast", [False, True], ids=["composed", "fused"])
def test_attention_dropout_p1_gives_zeros_and_zero_gradients(fast):
    tt.manual_seed(3)
    results = _attention_p1(tt, fast)
    for r in results:  # the output and the gradients of q, k, v
        np.testing.assert_array_equal(r, np.zeros((2, 2, 3, 4)))
    # like F.dropout at p = 1, neither path draws a mask: the random stream is untouched
    after = tt.rand(3).numpy()
    tt.manual_seed(3)
    np.testing.assert_array_equal(after, tt.rand(3).numpy())


def test_attention_dropout_p1_matches_pytorch():
    torch = _torch()
    for ours, theirs in zip(_attention_p1(tt, True), _attention_p1(torch)):
        np.testing.assert_array_equal(ours, theirs)


# -- 4. clip_grad_norm_ with NaN / inf gradients ------------------------------------------------

def _params(m, grads):
    params = []
    for g in grads:
        p = m.zeros(len(g), requires_grad=True)
        p.grad = m.tensor(g)
        params.append(p)
    return params


def _clip(m, grads, norm_type, **kwargs):
    params = _params(m, grads)
    with np.errstate(invalid="ignore"):  # inf * 0 when the norm is inf
        total = m.nn.utils.clip_grad_norm_(params, 1.0, norm_type, **kwargs)
    return total.item(), [p.grad.numpy() for p in params]


NORM_TYPES = [2.0, 1.0, 3.0, INF]
NAN_FIRST, NAN_LAST = [[1.0, NAN], [3.0, 4.0]], [[3.0, 4.0], [1.0, NAN]]
WITH_INF = [[1.0, INF], [3.0, 4.0]]


@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("grads", [NAN_FIRST, NAN_LAST], ids=["nan_first", "nan_last"])
def test_clip_grad_norm_one_nan_makes_every_gradient_nan(grads, norm_type):
    # total = NaN, so max_norm / (total + 1e-6) = NaN, and PyTorch's clamp(max=1) keeps NaN
    total, clipped = _clip(tt, grads, norm_type)
    assert math.isnan(total)
    for g in clipped:
        assert np.isnan(g).all()


@pytest.mark.parametrize("norm_type", NORM_TYPES)
def test_clip_grad_norm_an_inf_scales_every_gradient_by_zero(norm_type):
    total, clipped = _clip(tt, WITH_INF, norm_type)
    assert total == INF
    np.testing.assert_array_equal(clipped[0], [0.0, NAN])  # inf * 0 = NaN
    np.testing.assert_array_equal(clipped[1], [0.0, 0.0])


@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("grads", [NAN_FIRST, NAN_LAST, WITH_INF],
                         ids=["nan_first", "nan_last", "inf"])
def test_clip_grad_norm_non_finite_matches_pytorch(grads, norm_type):
    torch = _torch()
    total, clipped = _clip(tt, grads, norm_type)
    t_total, t_clipped = _clip(torch, grads, norm_type)
    np.testing.assert_array_equal(total, t_total)
    for a, b in zip(clipped, t_clipped):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("norm_type", [2.0, INF])
@pytest.mark.parametrize("grads", [NAN_LAST, WITH_INF], ids=["nan", "inf"])
def test_clip_grad_norm_error_if_nonfinite_raises_and_leaves_the_gradients(grads, norm_type,
                                                                           lib):
    m = _lib(lib)
    params = _params(m, grads)
    with pytest.raises(RuntimeError) as err:
        m.nn.utils.clip_grad_norm_(params, 1.0, norm_type, error_if_nonfinite=True)
    assert str(err.value) == (
        f"The total norm of order {norm_type} for gradients from `parameters` is "
        f"non-finite, so it cannot be clipped. To disable this error and scale the "
        f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("foreach", [None, False, True])
def test_clip_grad_norm_accepts_foreach(foreach, lib):
    total, clipped = _clip(_lib(lib), [[3.0], [4.0]], 2.0, foreach=foreach)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate(clipped), [0.6, 0.8], rtol=1e-5)
