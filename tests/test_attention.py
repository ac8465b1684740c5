"""Scaled dot-product attention and multi-head attention, proven three ways.

1. The fused op (one node, hand-derived backward) equals ``attention_composed`` (the
   formula written with ops whose gradients are proven one by one) in values and in
   float64 gradients, over random shapes and every kind of mask; and gradcheck passes.
2. Masks behave: padded keys get exactly zero weight and zero gradient; a fully masked
   row gives zeros, never NaN (conftest turns NumPy warnings into errors).
3. PyTorch agrees: ``torch.nn.functional.scaled_dot_product_attention`` and
   ``torch.nn.MultiheadAttention`` (weights loaded through transformer.torch_compat).

Mask conventions (see transformer/attention.py): like ``nn.MultiheadAttention``, a
boolean True means "may NOT attend"; a float mask is added to the scores.
``torch.nn.functional.scaled_dot_product_attention`` uses the opposite boolean
convention (True = may attend), so the parity tests pass it ``~mask``.

Causal alignment: our ``is_causal`` is aligned to the *bottom-right* corner: with
tgt_len queries and src_len keys, query i sees keys j <= i + (src_len - tgt_len), so the
last query sees every key. That is what the KV cache needs (one new query against all
cached keys sees them all). For tgt_len == src_len it is the usual lower triangle. It is
``torch.nn.attention.bias.causal_lower_right``, *not* PyTorch's ``is_causal=True``,
which is top-left aligned (query i sees keys j <= i whatever src_len is); a test below
shows both facts.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch as tt
from tinytorch.autograd import gradcheck
from tinytorch.random import bernoulli_array
from transformer import MultiHeadAttention, attention_composed, scaled_dot_product_attention
from transformer.layout import AttentionMask, Layout
from transformer.torch_compat import convert_state_dict, torch_state_to_numpy

MASK_KINDS = ["none", "bool2d", "bool4d", "float2d", "float4d"]


def _t(a, requires_grad=True):
    return tt.tensor(np.asarray(a, dtype=np.float64), dtype=tt.float64,
                     requires_grad=requires_grad)


def _make_case(rng, b, h, t, s, d, dv, kind, padding, causal):
    """Random q, k, v (float64 arrays) and masks of the requested kinds."""
    q = rng.standard_normal((b, h, t, d))
    k = rng.standard_normal((b, h, s, d))
    v = rng.standard_normal((b, h, s, dv))
    attn_mask = None
    if kind == "bool2d":
        attn_mask = rng.random((t, s)) < 0.3
    elif kind == "bool4d":
        attn_mask = rng.random((b, 1, t, s)) < 0.3
    elif kind == "float2d":
        attn_mask = rng.standard_normal((t, s)) * 2
    elif kind == "float4d":
        attn_mask = rng.standard_normal((b, 1, t, s)) * 2
    kpm = rng.random((b, s)) < 0.3 if padding else None
    return q, k, v, {"attn_mask": attn_mask, "key_padding_mask": kpm, "is_causal": causal}


def _masks_as_tensors(masks):
    out = dict(masks)
    for name in ("attn_mask", "key_padding_mask"):
        if out[name] is not None:
            out[name] = tt.tensor(out[name])
    return out


@st.composite
def attention_cases(draw):
    b, h = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    t, s = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    d, dv = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kind = draw(st.sampled_from(MASK_KINDS))
    padding, causal = draw(st.booleans()), draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return _make_case(rng, b, h, t, s, d, dv, kind, padding, causal)


def _backward(out, inputs, g):
    for x in inputs:
        x.grad = None
    out.backward(tt.tensor(g, dtype=out.dtype))
    return [x.grad.numpy().copy() for x in inputs]


# -- fused == composed --------------------------------------------------------------------------

@given(attention_cases())
def test_fused_matches_composed_values_and_gradients(case):
    q, k, v, masks = case
    masks = _masks_as_tensors(masks)
    qt, kt, vt = _t(q), _t(k), _t(v)
    out_f, w_f = scaled_dot_product_attention(qt, kt, vt, **masks)
    out_c, w_c = attention_composed(qt, kt, vt, **masks)
    np.testing.assert_allclose(out_f.detach().numpy(), out_c.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(w_f.numpy(), w_c.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert np.isfinite(out_f.detach().numpy()).all()

    g = np.random.default_rng(1).standard_normal(out_f.shape)  # the same upstream gradient
    grads_f = _backward(out_f, [qt, kt, vt], g)
    grads_c = _backward(out_c, [qt, kt, vt], g)
    for name, gf, gc in zip("qkv", grads_f, grads_c):
        np.testing.assert_allclose(gf, gc, rtol=1e-9, atol=1e-12, err_msg=f"d{name}")


@pytest.mark.parametrize("kind", MASK_KINDS + ["padding", "causal", "causal_rect", "all"])
def test_fused_gradcheck_for_each_mask_kind(kind):
    rng = np.random.default_rng(sum(map(ord, kind)))
    t, s = (2, 4) if kind in ("causal_rect", "all") else (3, 3)
    mask_kind = {"all": "bool4d"}.get(kind, kind if kind in MASK_KINDS else "none")
    q, k, v, masks = _make_case(rng, 2, 2, t, s, 3, 2, mask_kind,
                                padding=kind in ("padding", "all"),
                                causal=kind in ("causal", "causal_rect", "all"))
    masks = _masks_as_tensors(masks)
    assert gradcheck(lambda q, k, v: scaled_dot_product_attention(q, k, v, **masks)[0],
                     (_t(q), _t(k), _t(v)))


@given(st.integers(1, 4), st.integers(1, 5))
def test_causal_mask_is_bottom_right_aligned(t, s):
    blocked, _ = AttentionMask(causal=True).scores_masks(t, s)
    i, j = np.indices((t, s))
    np.testing.assert_array_equal(blocked, j > i + (s - t))
    assert not blocked[-1].any()  # the last query (the newest token) sees every key


# -- masks: exact zeros, no NaN -------------------------------------------------------------------

def test_padded_keys_get_exactly_zero_weight_and_gradient():
    rng = np.random.default_rng(0)
    q, k, v = _t(rng.standard_normal((2, 3, 4, 5))), _t(rng.standard_normal((2, 3, 6, 5))), \
        _t(rng.standard_normal((2, 3, 6, 2)))
    pad = np.zeros((2, 6), dtype=bool)
    pad[0, 4:] = True
    pad[1, [0, 3]] = True
    out, w = scaled_dot_product_attention(q, k, v, key_padding_mask=tt.tensor(pad))
    w = w.numpy()
    for bi in range(2):
        assert (w[bi][..., pad[bi]] == 0).all()
        assert (w[bi][..., ~pad[bi]] > 0).all()
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)
    out.backward(tt.tensor(rng.standard_normal(out.shape)))
    for bi in range(2):
        assert (k.grad.numpy()[bi][:, pad[bi]] == 0).all()
        assert (v.grad.numpy()[bi][:, pad[bi]] == 0).all()
    # and changing what sits at a padded key changes nothing
    k2, v2 = k.detach().numpy().copy(), v.detach().numpy().copy()
    k2[0, :, 4:] = 1e3
    v2[0, :, 4:] = -1e3
    out2, _ = scaled_dot_product_attention(q, _t(k2), _t(v2), key_padding_mask=tt.tensor(pad))
    np.testing.assert_array_equal(out2.detach().numpy()[0], out.detach().numpy()[0])


def _reference_softmax(scores, blocked):
    """Row by row in float64 with each row's own max: the textbook formula."""
    s = np.where(blocked, -np.inf, scores)
    top = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(top), top, 0))
    total = e.sum(axis=-1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1), 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("spread", [1.0, 30.0, 300.0])
def test_masked_softmax_shared_shift_and_its_fallback(dtype, spread):
    # One shift for the whole tensor is used while every row's max is within
    # SHARED_SHIFT_RANGE of the tensor's; rows further down (spread 30, 300: sentence 1's
    # scores are scaled up) make it give up, and the row-max path must give the same.
    from transformer.attention import SHARED_SHIFT_RANGE, masked_softmax

    rng = np.random.default_rng(1)
    scores = rng.standard_normal((2, 3, 5, 7))
    scores[1] *= spread
    blocked = rng.random((2, 1, 5, 7)) < 0.3
    blocked[0, 0, 2] = True                       # one fully blocked row
    expected = _reference_softmax(scores, blocked)
    shared = masked_softmax(scores.astype(dtype), blocked)
    lowest_row_max = np.where(blocked, -np.inf, scores).max(-1)
    far = (scores.max() - lowest_row_max[np.isfinite(lowest_row_max)]).max()
    assert (shared is None) == (far > SHARED_SHIFT_RANGE + np.log(7))
    p = shared if shared is not None else masked_softmax(scores.astype(dtype), blocked,
                                                         row_max=True)
    assert p.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(p, expected, rtol=tol, atol=tol)
    assert (p[np.broadcast_to(blocked, p.shape)] == 0).all()


@pytest.mark.parametrize("attend", [scaled_dot_product_attention, attention_composed])
def test_fully_masked_row_gives_zeros_not_nan(attend):
    rng = np.random.default_rng(0)
    q, k, v = _t(rng.standard_normal((2, 2, 3, 4))), _t(rng.standard_normal((2, 2, 2, 4))), \
        _t(rng.standard_normal((2, 2, 2, 3)))
    pad = np.array([[True, True], [False, False]])    # sentence 0: every key is padding
    # causal with 3 queries and 2 keys (bottom-right): query 0 sees no key at all
    out, w = attend(q, k, v, key_padding_mask=tt.tensor(pad), is_causal=True)
    o, w = out.detach().numpy(), w.detach().numpy()
    assert np.isfinite(o).all() and np.isfinite(w).all()
    assert (o[0] == 0).all() and (w[0] == 0).all()
    assert (o[1, :, 0] == 0).all() and (w[1, :, 0] == 0).all()
    np.testing.assert_allclose(w[1, :, 1:].sum(-1), 1.0)
    out.backward(tt.tensor(rng.standard_normal(out.shape)))
    for x in (q, k, v):
        assert np.isfinite(x.grad.numpy()).all()
    assert (q.grad.numpy()[0] == 0).all() and (q.grad.numpy()[1, :, 0] == 0).all()


def test_float_mask_with_minus_inf_entries():
    rng = np.random.default_rng(0)
    q, k, v = (_t(rng.standard_normal((1, 2, 3, 4))) for _ in range(3))
    m = np.zeros((3, 3))
    m[0, 1:] = -np.inf
    m[2, 0] = -np.inf
    out, w = scaled_dot_product_attention(q, k, v, attn_mask=tt.tensor(m))
    w = w.numpy()
    assert (w[..., 0, 1:] == 0).all() and (w[..., 2, 0] == 0).all()
    np.testing.assert_allclose(out.detach().numpy()[..., 0, :], v.detach().numpy()[..., 0, :])
    assert gradcheck(lambda q, k, v: scaled_dot_product_attention(
        q, k, v, attn_mask=tt.tensor(m))[0], (q, k, v))


# -- dropout inside attention --------------------------------------------------------------------

def test_attention_dropout_gradcheck_with_a_fixed_mask():
    rng = np.random.default_rng(0)
    q, k, v = (_t(rng.standard_normal((2, 2, 3, 4))) for _ in range(3))
    pad = tt.tensor(np.array([[False, False, True], [False, False, False]]))

    def f(q, k, v):
        tt.manual_seed(7)  # the same dropout mask on every call
        return scaled_dot_product_attention(q, k, v, key_padding_mask=pad, dropout_p=0.4)[0]

    assert gradcheck(f, (q, k, v))


def test_attention_dropout_backward_equals_composed_with_the_same_mask():
    rng = np.random.default_rng(1)
    q, k, v = (_t(rng.standard_normal((2, 3, 4, 5))) for _ in range(3))
    p = 0.3
    tt.manual_seed(11)
    out_f, w_f = scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
    tt.manual_seed(11)
    keep = bernoulli_array((2, 3, 4, 4), 1 - p, "cpu")
    assert 0 < keep.mean() < 1  # the mask really drops something
    _, weights = attention_composed(q, k, v, is_causal=True)
    out_c = (weights * tt.tensor(keep.astype(np.float64) / (1 - p))) @ v
    np.testing.assert_allclose(out_f.detach().numpy(), out_c.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(w_f.numpy(), weights.detach().numpy() * keep / (1 - p),
                               rtol=1e-12)
    g = rng.standard_normal(out_f.shape)
    for gf, gc in zip(_backward(out_f, [q, k, v], g), _backward(out_c, [q, k, v], g)):
        np.testing.assert_allclose(gf, gc, rtol=1e-9, atol=1e-12)
    # a different seed draws a different mask, so the test above is not vacuous
    tt.manual_seed(12)
    out_other, _ = scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=p)
    assert not np.allclose(out_other.detach().numpy(), out_f.detach().numpy())


def test_multi_head_attention_dropout_only_in_train_mode():
    rng = np.random.default_rng(0)
    mha = MultiHeadAttention(8, 2, dropout=0.5).double()
    x = _t(rng.standard_normal((2, 3, 8)), requires_grad=False)
    mha.eval()
    a = mha(x, x, x)
    b = mha(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    mha.train()
    c = mha(x, x, x)
    assert not np.allclose(c.detach().numpy(), a.detach().numpy())


# -- the head split and the scale -----------------------------------------------------------------

def _linear(x, w, b):
    return x @ w.T + b


def _mha_reference(xq, xkv, params, heads, scale=None, naive_split=False):
    """Multi-head attention in plain NumPy (no masks), with knobs to make the classic errors."""
    bsz, t, e = xq.shape
    dh = e // heads

    def split(x):
        if naive_split:  # WRONG: mixes positions between heads
            return x.reshape(bsz, heads, x.shape[1], dh)
        return x.reshape(bsz, x.shape[1], heads, dh).transpose(0, 2, 1, 3)

    q = split(_linear(xq, *params["q"]))
    k = split(_linear(xkv, *params["k"]))
    v = split(_linear(xkv, *params["v"]))
    scale = 1 / math.sqrt(dh) if scale is None else scale
    s = q @ k.transpose(0, 1, 3, 2) * scale
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    o = p @ v
    o = o.reshape(bsz, heads, t, dh) if naive_split else o
    o = o.reshape(bsz, t, e) if naive_split else o.transpose(0, 2, 1, 3).reshape(bsz, t, e)
    return _linear(o, *params["o"])


def _params(mha):
    def wb(lin):
        return lin.weight.detach().numpy(), lin.bias.detach().numpy()

    return {"q": wb(mha.q_proj), "k": wb(mha.k_proj), "v": wb(mha.v_proj), "o": wb(mha.out_proj)}


def test_scale_is_one_over_sqrt_head_dim_not_d_model():
    rng = np.random.default_rng(0)
    e, heads = 16, 4
    mha = MultiHeadAttention(e, heads).double()
    xq, xkv = rng.standard_normal((2, 3, e)), rng.standard_normal((2, 5, e))
    out = mha(_t(xq), _t(xkv), _t(xkv)).detach().numpy()
    right = _mha_reference(xq, xkv, _params(mha), heads)
    wrong = _mha_reference(xq, xkv, _params(mha), heads, scale=1 / math.sqrt(e))
    np.testing.assert_allclose(out, right, rtol=1e-10, atol=1e-12)
    assert np.abs(out - wrong).max() > 1e-3


def test_naive_head_split_gives_different_outputs(monkeypatch):
    """``x.reshape(B, H, T, D)`` is not ``x.reshape(B, T, H, D).transpose(1, 2)``: the
    reference check below catches a model that makes that mistake."""
    rng = np.random.default_rng(0)
    e, heads = 8, 2
    mha = MultiHeadAttention(e, heads).double()
    x = rng.standard_normal((2, 3, e))
    right = _mha_reference(x, x, _params(mha), heads)
    naive = _mha_reference(x, x, _params(mha), heads, naive_split=True)
    assert np.abs(right - naive).max() > 1e-3

    out = mha(_t(x), _t(x), _t(x))
    np.testing.assert_allclose(out.detach().numpy(), right, rtol=1e-10, atol=1e-12)

    def naive_split(self, x):
        b, n, _ = x.shape
        return x.reshape(b, self.num_heads, n, self.head_dim)

    def naive_merge(self, x):
        b, _, n, _ = x.shape
        return x.reshape(b, n, self.embed_dim)

    monkeypatch.setattr(MultiHeadAttention, "split_heads", naive_split)
    monkeypatch.setattr(MultiHeadAttention, "merge_heads", naive_merge)
    bad = mha(_t(x), _t(x), _t(x))
    np.testing.assert_allclose(bad.detach().numpy(), naive, rtol=1e-10, atol=1e-12)
    assert np.abs(bad.detach().numpy() - right).max() > 1e-3


# -- PyTorch parity ------------------------------------------------------------------------------

@st.composite
def torch_cases(draw):
    """Like attention_cases, but every query keeps at least one key (PyTorch returns NaN
    for a fully masked row, we return zeros) and src_len >= tgt_len when causal."""
    b, h = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    t, s = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    causal = draw(st.booleans())
    if causal and s < t:
        s = t
    kind = draw(st.sampled_from(MASK_KINDS))
    padding = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    q, k, v, masks = _make_case(rng, b, h, t, s, draw(st.integers(1, 4)),
                                draw(st.integers(1, 4)), kind, padding, causal)
    # the last key is never blocked by a bool mask or padding, and causal (bottom-right)
    # always lets every query see it
    if masks["attn_mask"] is not None and masks["attn_mask"].dtype == bool:
        masks["attn_mask"][..., -1] = False
    if masks["key_padding_mask"] is not None:
        masks["key_padding_mask"][:, -1] = False
    return q, k, v, masks


def _torch_mask(torch, masks, b, t, s):
    """Our masks as one float mask for PyTorch, built with PyTorch's own ops."""
    add = torch.zeros(b, 1, t, s, dtype=torch.float64)
    allowed = torch.ones(b, 1, t, s, dtype=torch.bool)
    m = masks["attn_mask"]
    if m is not None and m.dtype == bool:
        allowed &= ~torch.from_numpy(m)  # ours: True = blocked; PyTorch's sdpa: True = allowed
    elif m is not None:
        add = add + torch.from_numpy(m)
    if masks["key_padding_mask"] is not None:
        allowed &= ~torch.from_numpy(masks["key_padding_mask"])[:, None, None, :]
    if masks["is_causal"]:
        allowed &= torch.ones(t, s, dtype=torch.bool).tril(diagonal=s - t)  # bottom-right
    return add.masked_fill(~allowed, float("-inf"))


@given(torch_cases())
def test_matches_torch_sdpa(case):
    torch = pytest.importorskip("torch")
    q, k, v, masks = case
    b, _, t, _ = q.shape
    s = k.shape[2]
    out, _ = scaled_dot_product_attention(_t(q), _t(k), _t(v), **_masks_as_tensors(masks))
    ref = torch.nn.functional.scaled_dot_product_attention(
        torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v),
        attn_mask=_torch_mask(torch, masks, b, t, s))
    np.testing.assert_allclose(out.detach().numpy(), ref.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fast", [True, False])
def test_a_given_scale_matches_torch_in_both_paths(fast):
    torch = pytest.importorskip("torch")
    from torch.nn.attention.bias import causal_lower_right

    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 2, 3, 4)) for _ in range(3))
    g = rng.standard_normal((2, 2, 3, 4))
    qt, kt, vt = _t(q), _t(k), _t(v)
    with tt.fast_paths(fast):
        out, _ = scaled_dot_product_attention(qt, kt, vt, is_causal=True, scale=0.3)
        out.backward(tt.tensor(g))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ref = torch.nn.functional.scaled_dot_product_attention(
        tq, tk, tv, attn_mask=causal_lower_right(3, 3), scale=0.3)
    ref.backward(torch.from_numpy(g))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    for ours, theirs in ((qt, tq), (kt, tk), (vt, tv)):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)


def test_bool_mask_convention_is_the_opposite_of_torch_sdpa():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, 2, 3, 4)) for _ in range(3))
    blocked = np.array([[False, True, True], [False, False, True], [True, False, False]])
    ours, _ = scaled_dot_product_attention(_t(q), _t(k), _t(v), attn_mask=tt.tensor(blocked))
    tq, tk, tv = map(torch.from_numpy, (q, k, v))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    right = sdpa(tq, tk, tv, attn_mask=~torch.from_numpy(blocked)).numpy()
    wrong = sdpa(tq, tk, tv, attn_mask=torch.from_numpy(blocked)).numpy()
    np.testing.assert_allclose(ours.detach().numpy(), right, rtol=1e-10, atol=1e-12)
    assert np.abs(ours.detach().numpy() - wrong).max() > 1e-3


def test_is_causal_matches_torch_lower_right_not_top_left():
    torch = pytest.importorskip("torch")
    from torch.nn.attention.bias import causal_lower_right

    rng = np.random.default_rng(0)
    t, s = 2, 5
    q, k, v = rng.standard_normal((1, 2, t, 4)), rng.standard_normal((1, 2, s, 4)), \
        rng.standard_normal((1, 2, s, 3))
    ours, _ = scaled_dot_product_attention(_t(q), _t(k), _t(v), is_causal=True)
    tq, tk, tv = map(torch.from_numpy, (q, k, v))
    sdpa = torch.nn.functional.scaled_dot_product_attention
    lower_right = sdpa(tq, tk, tv, attn_mask=causal_lower_right(t, s)).numpy()
    top_left = sdpa(tq, tk, tv, is_causal=True).numpy()
    np.testing.assert_allclose(ours.detach().numpy(), lower_right, rtol=1e-10, atol=1e-12)
    assert np.abs(ours.detach().numpy() - top_left).max() > 1e-3
    # when tgt_len == src_len the two alignments agree
    ours_sq, _ = scaled_dot_product_attention(_t(q), _t(k[:, :, :t]), _t(v[:, :, :t]),
                                              is_causal=True)
    np.testing.assert_allclose(ours_sq.detach().numpy(),
                               sdpa(tq, tk[:, :, :t], tv[:, :, :t], is_causal=True).numpy(),
                               rtol=1e-10, atol=1e-12)


def _torch_mha_pair(torch, e, heads, seed):
    torch.manual_seed(seed)
    ref = torch.nn.MultiheadAttention(e, heads, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # PyTorch initialises the biases to zero: make them count
        ref.in_proj_bias.normal_()
        ref.out_proj.bias.normal_()
    ours = MultiHeadAttention(e, heads).double()
    ours.load_state_dict(convert_state_dict(torch_state_to_numpy(ref)), strict=True)
    return ref, ours


@pytest.mark.parametrize("average", [True, False])
@pytest.mark.parametrize("mode", ["self", "cross"])
def test_matches_torch_multihead_attention(mode, average):
    torch = pytest.importorskip("torch")
    e, heads, b, t = 12, 3, 2, 4
    s = t if mode == "self" else 6
    ref, ours = _torch_mha_pair(torch, e, heads, seed=0)
    ref.eval()
    rng = np.random.default_rng(0)
    xq = rng.standard_normal((b, t, e))
    xk = xq if mode == "self" else rng.standard_normal((b, s, e))
    xv = xq if mode == "self" else rng.standard_normal((b, s, e))
    pad = np.zeros((b, s), dtype=bool)
    pad[1, -2:] = True
    attn = rng.random((t, s)) < 0.3
    attn[:, 0] = False
    x_ours = [_t(xq)] if mode == "self" else [_t(xq), _t(xk), _t(xv)]
    if mode == "self":
        x_ours *= 3  # the same tensor three times
    ours.record_weights = True
    mask = AttentionMask(keys=Layout(tt.tensor(pad)), attn_mask=tt.tensor(attn))
    out = ours(*x_ours, mask)
    w = ours.last_weights.mean(dim=1) if average else ours.last_weights
    ref_out, ref_w = ref(*map(torch.from_numpy, (xq, xk, xv)),
                         key_padding_mask=torch.from_numpy(pad),
                         attn_mask=torch.from_numpy(attn), need_weights=True,
                         average_attn_weights=average)
    np.testing.assert_allclose(out.detach().numpy(), ref_out.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    assert w.shape == tuple(ref_w.shape) == ((b, t, s) if average else (b, heads, t, s))
    np.testing.assert_allclose(w.numpy(), ref_w.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_multihead_attention_gradients_match_torch():
    torch = pytest.importorskip("torch")
    ref, ours = _torch_mha_pair(torch, 8, 2, seed=1)
    rng = np.random.default_rng(1)
    xq, xkv = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 5, 8))
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    g = rng.standard_normal((2, 3, 8))
    q_t, kv_t = _t(xq), _t(xkv)
    out = ours(q_t, kv_t, kv_t, AttentionMask(keys=Layout(tt.tensor(pad))))
    out.backward(tt.tensor(g))
    tq, tkv = torch.tensor(xq, requires_grad=True), torch.tensor(xkv, requires_grad=True)
    ref_out, _ = ref(tq, tkv, tkv, key_padding_mask=torch.from_numpy(pad))
    ref_out.backward(torch.from_numpy(g))
    np.testing.assert_allclose(q_t.grad.numpy(), tq.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(kv_t.grad.numpy(), tkv.grad.numpy(), rtol=1e-9, atol=1e-12)
    ref_grads = convert_state_dict({n: p.grad.numpy() for n, p in ref.named_parameters()})
    ours_grads = {n: p.grad.numpy() for n, p in ours.named_parameters()}
    assert ref_grads.keys() == ours_grads.keys()
    for n, g in ours_grads.items():
        np.testing.assert_allclose(g, ref_grads[n], rtol=1e-9, atol=1e-12, err_msg=n)


# -- bad inputs ----------------------------------------------------------------------------------

def test_embed_dim_not_divisible_by_num_heads():
    with pytest.raises(ValueError) as err:
        MultiHeadAttention(10, 3)
    msg = str(err.value)
    assert "10" in msg and "3" in msg and "num_heads=2" in msg  # 2 is the divisor nearest 3


@pytest.mark.parametrize("bad_shape", [(3, 7), (2, 2, 4, 5), (4, 5, 1)])
def test_mask_that_does_not_broadcast_names_the_shapes(bad_shape):
    rng = np.random.default_rng(0)
    q, k, v = _t(rng.standard_normal((1, 2, 4, 3))), _t(rng.standard_normal((1, 2, 5, 3))), \
        _t(rng.standard_normal((1, 2, 5, 3)))
    with pytest.raises(RuntimeError) as err:
        scaled_dot_product_attention(q, k, v, attn_mask=tt.tensor(np.zeros(bad_shape, bool)))
    assert str(bad_shape) in str(err.value) and "(1, 2, 4, 5)" in str(err.value)


def test_multihead_attention_input_errors():
    mha = MultiHeadAttention(8, 2)
    x = tt.randn(2, 3, 8)
    with pytest.raises(ValueError, match=r"query must be \(batch, len, 8\), got \(2, 3, 6\)"):
        mha(tt.randn(2, 3, 6), x, x)
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(batch, src_len\)"):
        mha(x, x, x, AttentionMask(Layout(tt.zeros(2, 4, dtype=tt.bool))))
    with pytest.raises(TypeError, match="key_padding_mask must be bool"):
        mha(x, x, x, AttentionMask(Layout(tt.zeros(2, 3))))


def test_output_and_gradients_follow_the_inputs_memory_layout():
    # q, k, v as multi-head attention makes them: transposed views of (batch, len, heads,
    # d_head). The output and the gradients come back in that layout (so merging heads
    # is a free view), with the same values as from contiguous inputs.
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((2, 5, 3, 4)) for _ in range(3)]
    pad = tt.tensor(np.array([[False] * 4 + [True], [False] * 5]))
    g = rng.standard_normal((2, 3, 5, 4))
    results = []
    for layout in ("heads_view", "contiguous"):
        if layout == "heads_view":
            q, k, v = (_t(a).transpose(1, 2).detach().requires_grad_() for a in arrays)
        else:
            q, k, v = (_t(np.ascontiguousarray(a.transpose(0, 2, 1, 3))) for a in arrays)
        out, _ = scaled_dot_product_attention(q, k, v, key_padding_mask=pad, is_causal=True)
        out.backward(tt.tensor(g))
        results.append((out, q, k, v))
        if layout == "heads_view":
            assert out.detach().numpy().transpose(0, 2, 1, 3).flags.c_contiguous
            for x in (q, k, v):
                assert x.grad.numpy().strides == x.detach().numpy().strides
    (o1, *x1), (o2, *x2) = results
    np.testing.assert_allclose(o1.detach().numpy(), o2.detach().numpy(), rtol=1e-13, atol=1e-14)
    for a, b in zip(x1, x2):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-13, atol=1e-14)
