"""Issue 16's functional forms and modules against PyTorch 2.13: F.scaled_dot_product_attention
(masks, is_causal, enable_gqa, dropout, errors), the losses (float32, extremes, warnings,
errors, their modules), F.pad's modes, and the modules nn.Flatten, Unflatten, Identity,
GELU, SiLU, ModuleDict, ParameterList, ParameterDict. (Gradients: tests/op_table_more.py.)"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _np(t):
    return t.detach().numpy()


def _run(fn, *arrays, grad=True):
    """fn on both libraries with the same arrays: (outputs, input gradients) per library."""
    results = []
    for mod in (tinytorch, torch):
        ts = [mod.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(mod, *ts)
        grads = []
        if grad and out.requires_grad:
            out.backward(mod.tensor(np.ones(tuple(out.shape), dtype=arrays[0].dtype)))
            grads = [None if t.grad is None else t.grad.numpy() for t in ts]
        results.append((_np(out), grads))
    return results


def _close(fn, *arrays, grad=True, rtol=1e-5, atol=1e-6):
    (a, ga), (b, gb) = _run(fn, *arrays, grad=grad)
    assert a.shape == b.shape and a.dtype == b.dtype
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for x, y in zip(ga, gb):
        if x is None or y is None:
            assert x is None or not np.any(x), "a gradient where PyTorch has none"
            continue
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# -- scaled_dot_product_attention -------------------------------------------------------------

def _sdpa(**kw):
    return lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


@pytest.mark.parametrize("L, S", [(3, 5), (5, 3), (4, 4)])
def test_sdpa_causal_is_top_left_aligned_like_pytorch(L, S):
    _close(_sdpa(is_causal=True), _f32(2, 2, L, 4), _f32(2, 2, S, 4), _f32(2, 2, S, 3))


def test_sdpa_bool_mask_true_means_may_attend_and_blocked_rows_are_zero():
    q, k, v = _f32(1, 2, 3, 4), _f32(1, 2, 5, 4), _f32(1, 2, 5, 3)
    allowed = RNG.random((3, 5)) > 0.4
    allowed[1] = False  # nothing to attend to: zeros, not NaN
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        _close(lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=m.tensor(allowed)), q, k, v)
        out = tinytorch.nn.functional.scaled_dot_product_attention(
            tinytorch.tensor(q), tinytorch.tensor(k), tinytorch.tensor(v),
            attn_mask=tinytorch.tensor(allowed))
    assert np.all(out.numpy()[..., 1, :] == 0)


def test_sdpa_float_mask_and_scale():
    mask = np.where(RNG.random((3, 5)) > 0.3, RNG.standard_normal((3, 5)), -np.inf)
    mask = mask.astype(np.float32)
    _close(lambda m, q, k, v: m.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=m.tensor(mask), scale=0.3), _f32(2, 3, 4), _f32(2, 5, 4),
        _f32(2, 5, 2))


def test_sdpa_is_the_projects_attention_with_the_mask_inverted():
    """transformer/attention.py mirrors nn.MultiheadAttention (True = blocked); this one is
    PyTorch's function (True = may attend): the same numbers with the mask inverted."""
    from transformer import attention_composed

    q, k, v = (tinytorch.tensor(_f32(2, 2, 4, 8)) for _ in range(3))
    blocked = RNG.random((4, 4)) > 0.6
    ours = tinytorch.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=tinytorch.tensor(~blocked))
    theirs, _ = attention_composed(q, k, v, attn_mask=tinytorch.tensor(blocked))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_sdpa_enable_gqa_matches_pytorch():
    _close(_sdpa(enable_gqa=True), _f32(2, 6, 3, 4), _f32(2, 2, 5, 4), _f32(2, 2, 5, 3))
    with pytest.raises(RuntimeError, match="multiple"):
        tinytorch.nn.functional.scaled_dot_product_attention(
            *(tinytorch.ones(1, h, 2, 2) for h in (3, 2, 2)), enable_gqa=True)


def test_sdpa_dropout():
    q, k, v = (tinytorch.tensor(_f32(2, 4, 6, 8)) for _ in range(3))
    F = tinytorch.nn.functional
    assert np.all(F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).numpy() == 0)
    tinytorch.manual_seed(1)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    tinytorch.manual_seed(1)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    plain = F.scaled_dot_product_attention(q, k, v)
    assert np.array_equal(a.numpy(), b.numpy()) and not np.allclose(a.numpy(), plain.numpy())
    # inverted dropout keeps the expectation: the mean over many draws approaches plain
    draws = np.mean([F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
                     for _ in range(200)], axis=0)
    assert np.abs(draws - plain.numpy()).mean() < 0.1 * np.abs(plain.numpy()).mean() + 0.02


SDPA_ERRORS = {
    "causal and mask": lambda m: m.nn.functional.scaled_dot_product_attention(
        m.ones(2, 3), m.ones(2, 3), m.ones(2, 3), attn_mask=m.ones(2, 2).bool(), is_causal=True),
    "dtypes": lambda m: m.nn.functional.scaled_dot_product_attention(
        m.ones(2, 3).double(), m.ones(2, 3), m.ones(2, 3)),
    "mask dtype": lambda m: m.nn.functional.scaled_dot_product_attention(
        m.ones(2, 3), m.ones(2, 3), m.ones(2, 3), attn_mask=m.ones(2, 2).long()),
    "1-D": lambda m: m.nn.functional.scaled_dot_product_attention(
        m.ones(3), m.ones(2, 3), m.ones(2, 3)),
    "dropout": lambda m: m.nn.functional.scaled_dot_product_attention(
        m.ones(2, 3), m.ones(2, 3), m.ones(2, 3), dropout_p=1.5),
    "features": lambda m: m.nn.functional.scaled_dot_product_attention(
        m.ones(2, 3), m.ones(2, 4), m.ones(2, 3)),
}


# -- losses ---------------------------------------------------------------------------------

LOSSES = {
    "l1": lambda m, x, t: m.nn.functional.l1_loss(x, t),
    "l1_weight": lambda m, x, t: m.nn.functional.l1_loss(x, t, weight=m.ones(x.shape) * 2),
    "smooth_l1": lambda m, x, t: m.nn.functional.smooth_l1_loss(x, t, beta=0.5),
    "huber": lambda m, x, t: m.nn.functional.huber_loss(x, t, reduction="sum", delta=0.7),
    "kl_div": lambda m, x, t: m.nn.functional.kl_div(x.log_softmax(-1), t.softmax(-1),
                                                      reduction="batchmean"),
    "kl_div_log": lambda m, x, t: m.nn.functional.kl_div(x, t, reduction="sum", log_target=True),
    "bce": lambda m, x, t: m.nn.functional.binary_cross_entropy(x.sigmoid(), t.sigmoid()),
    "bce_logits": lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(
        x, t.sigmoid(), pos_weight=m.tensor([1.0, 2.0, 0.5, 3.0])),
    "l1_module": lambda m, x, t: m.nn.L1Loss(reduction="none")(x, t),
    "smooth_l1_module": lambda m, x, t: m.nn.SmoothL1Loss(beta=2.0)(x, t),
    "huber_module": lambda m, x, t: m.nn.HuberLoss(delta=0.5)(x, t),
    "kl_module": lambda m, x, t: m.nn.KLDivLoss(reduction="batchmean", log_target=True)(x, t),
    "bce_module": lambda m, x, t: m.nn.BCELoss(weight=m.tensor([1.0, 2.0, 0.5, 1.0]))(
        x.sigmoid(), t.sigmoid()),
    "bce_logits_module": lambda m, x, t: m.nn.BCEWithLogitsLoss(
        weight=m.tensor([[1.0], [2.0], [0.5]]), reduction="sum")(x, t.sigmoid()),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_pytorch_in_float32(name):
    _close(LOSSES[name], _f32(3, 4), _f32(3, 4), rtol=2e-5, atol=1e-5)


def test_bce_with_logits_is_finite_at_plus_minus_1000():
    x = np.array([1000.0, -1000.0, 0.0, 30.0, -30.0], dtype=np.float32)
    t = np.array([0.0, 1.0, 1.0, 0.5, 0.5], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        _close(lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(
            x, t, reduction="none"), x, t, rtol=1e-5, atol=1e-5)
        _close(lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(
            x, t, pos_weight=m.tensor([2.0])), x, t)


def test_bce_at_0_and_1_clamps_like_pytorch():
    p = np.array([0.0, 1.0, 0.5, 1e-30], dtype=np.float32)
    t = np.array([1.0, 0.0, 0.3, 1.0], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        _close(lambda m, p, t: m.nn.functional.binary_cross_entropy(p, t, reduction="none"),
               p, t, rtol=1e-5, atol=1e-3)


def test_loss_warnings_like_pytorch():
    x, t = tinytorch.ones(3, 4), tinytorch.ones(4)
    F = tinytorch.nn.functional
    with pytest.warns(UserWarning, match="target size"):
        F.l1_loss(x, t)
    with pytest.warns(UserWarning, match="target size"):
        F.smooth_l1_loss(x, t)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, x)
    with pytest.warns(UserWarning, match="deprecated"):
        out = F.l1_loss(x, x + 1, size_average=False)
    assert out.item() == 12.0  # size_average=False: the sum
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.kl_div(x, x, reduction="batchmean")


def test_legacy_reduction_flags_like_pytorch():
    for size_average, reduce in [(None, False), (False, None), (True, True), (False, False)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _close(lambda m, x, t: m.nn.functional.l1_loss(
                x, t, size_average=size_average, reduce=reduce), _f32(2, 3), _f32(2, 3))
            _close(lambda m, x, t: m.nn.SmoothL1Loss(size_average, reduce)(x, t),
                   _f32(2, 3), _f32(2, 3))


LOSS_ERRORS = {
    "reduction": lambda m: m.nn.functional.l1_loss(m.ones(2), m.ones(2), reduction="avg"),
    "bce reduction": lambda m: m.nn.functional.binary_cross_entropy(
        m.ones(2) / 2, m.ones(2), reduction="bad"),
    "bce range": lambda m: m.nn.functional.binary_cross_entropy(m.ones(2) * 2, m.ones(2)),
    "bce shapes": lambda m: m.nn.functional.binary_cross_entropy(m.ones(2) / 2, m.ones(2, 1)),
    "bce long target": lambda m: m.nn.functional.binary_cross_entropy(
        m.ones(2) / 2, m.ones(2).long()),
    "bce weight grad": lambda m: m.nn.functional.binary_cross_entropy(
        m.ones(2) / 2, m.ones(2), weight=m.ones(2, requires_grad=True)),
    "logits shapes": lambda m: m.nn.functional.binary_cross_entropy_with_logits(
        m.ones(2), m.ones(2, 1)),
    "logits pos_weight": lambda m: m.nn.functional.binary_cross_entropy_with_logits(
        m.ones(2, 3), m.ones(2, 3), pos_weight=m.ones(2)),
    "logits pos_weight grad": lambda m: m.nn.functional.binary_cross_entropy_with_logits(
        m.ones(2), m.ones(2), pos_weight=m.ones(2, requires_grad=True)),
    "smooth_l1 beta": lambda m: m.nn.functional.smooth_l1_loss(m.ones(2), m.ones(2), beta=-1.0),
    "huber delta": lambda m: m.nn.functional.huber_loss(m.ones(2), m.ones(2), delta=0.0),
    "l1 weight shape": lambda m: m.nn.functional.l1_loss(m.ones(2), m.ones(2), weight=m.ones(1)),
    "kl reduction": lambda m: m.nn.functional.kl_div(m.ones(2), m.ones(2), reduction="avg"),
}


@pytest.mark.parametrize("name", sorted(SDPA_ERRORS) + sorted(LOSS_ERRORS))
def test_errors_like_pytorch(name):
    call = {**SDPA_ERRORS, **LOSS_ERRORS}[name]
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(tinytorch)


def test_loss_modules_keep_weights_as_buffers():
    for mod in (tinytorch, torch):
        loss = mod.nn.BCEWithLogitsLoss(weight=mod.ones(3), pos_weight=mod.ones(3))
        assert list(loss.state_dict()) == ["weight", "pos_weight"]
        assert list(loss.parameters()) == []
        assert list(mod.nn.BCELoss().state_dict()) == []
    loss = tinytorch.nn.BCELoss(weight=tinytorch.ones(3)).to(tinytorch.float64)
    assert loss.weight.dtype == tinytorch.float64


# -- F.pad ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2), (2, 0, 1, 1), (-1, 1), (1, -1, 0, 1), (1, 1, 1, 1, 1, 1)])
@pytest.mark.parametrize("batched", [False, True])
def test_pad_modes_match_pytorch(mode, pad, batched):
    x = _f32(*((2,) * batched + (3,) + (4,) * (len(pad) // 2)))  # what each mode accepts
    _close(lambda m, x: m.nn.functional.pad(x, pad, mode=mode), x)


def test_pad_value_none_and_ints():
    _close(lambda m, x: m.nn.functional.pad(x, (1, 1), value=None), _f32(2, 3))
    ints = np.arange(6).reshape(2, 3)
    _close(lambda m, x: m.nn.functional.pad(x, [1, 0], value=2.5), ints, grad=False)


# -- modules ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, shape", [
    (lambda m: m.nn.Flatten(), (2, 3, 4)),
    (lambda m: m.nn.Flatten(0, 1), (2, 3, 4)),
    (lambda m: m.nn.Unflatten(1, (2, 2)), (3, 4)),
    (lambda m: m.nn.Unflatten(-1, (2, -1)), (3, 4)),
    (lambda m: m.nn.Identity(3, bias=True), (2, 3)),
    (lambda m: m.nn.GELU(approximate="tanh"), (2, 3)),
    (lambda m: m.nn.SiLU(), (2, 3)),
])
def test_modules_match_pytorch(make, shape):
    x = _f32(*shape)
    _close(lambda m, x: make(m)(x) * 1, x)
    assert repr(make(tinytorch)) == repr(make(torch))


def test_silu_inplace_flag_is_kept_for_the_signature():
    assert repr(tinytorch.nn.SiLU(inplace=True)) == repr(torch.nn.SiLU(inplace=True))
    x = tinytorch.tensor([1.0, -2.0])
    tinytorch.nn.SiLU(inplace=True)(x)
    assert x.tolist() == [1.0, -2.0]  # a new tensor: x itself is not overwritten


def test_silu_stays_finite_at_plus_minus_1000():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        _close(lambda m, x: m.nn.functional.silu(x),
               np.array([1000.0, -1000.0, 0.0, 20.0], dtype=np.float32))


def _containers(m):
    model = m.nn.Module()
    model.plist = m.nn.ParameterList([m.nn.Parameter(m.ones(2, 3)), m.zeros(2)])
    model.plist.append(m.ones(1))
    model.pdict = m.nn.ParameterDict({"b": m.zeros(3), "a": m.nn.Parameter(m.ones(2))})
    model.pdict["c"] = m.ones(4)
    model.mdict = m.nn.ModuleDict({"lin": m.nn.Linear(2, 2)})
    model.mdict.update([("act", m.nn.ReLU()), ("out", m.nn.Linear(2, 1))])
    return model


def test_containers_register_like_pytorch():
    ours, theirs = _containers(tinytorch), _containers(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert all(isinstance(p, tinytorch.nn.Parameter) and p.requires_grad
               for p in ours.parameters())
    assert repr(ours.plist) == repr(theirs.plist)
    assert list(ours.pdict.keys()) == list(theirs.pdict.keys()) == ["a", "b", "c"]  # sorted
    assert list(ours.mdict.keys()) == list(theirs.mdict.keys())
    assert ours.load_state_dict({k: tinytorch.tensor(v.detach().numpy())
                                 for k, v in theirs.state_dict().items()})


def test_parameter_list_and_dict_behave_like_lists_and_dicts():
    m = tinytorch.nn
    pl = m.ParameterList([tinytorch.ones(2), tinytorch.zeros(3)])
    assert len(pl) == 2 and pl[-1].shape == (3,) and isinstance(pl[0:1], m.ParameterList)
    pl[0] = tinytorch.zeros(4)
    assert pl[0].shape == (4,) and isinstance(pl[0], m.Parameter)
    assert [p.shape for p in pl] == [(4,), (3,)]
    pl += [tinytorch.ones(1)]
    assert len(pl) == 3
    with pytest.raises(IndexError):
        pl[3]
    pd = m.ParameterDict([("x", tinytorch.ones(1))])
    pd.update({"y": tinytorch.ones(2)})
    assert "x" in pd and len(pd) == 2 and pd.get("z") is None
    assert pd.setdefault("z", tinytorch.ones(3)).shape == (3,)
    assert pd.pop("x").shape == (1,) and list(pd) == ["y", "z"]
    del pd["y"]
    assert list(pd.keys()) == ["z"] and [n for n, _ in pd.named_parameters()] == ["z"]
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []
    md = m.ModuleDict({"a": m.ReLU()})
    assert isinstance(md.pop("a"), m.ReLU) and len(md) == 0


def test_containers_train_move_and_step():
    model = _containers(tinytorch)
    model.to(tinytorch.float64)
    assert all(p.dtype == tinytorch.float64 for p in model.parameters())
    loss = sum((p * p).sum() for p in model.parameters())
    opt = tinytorch.optim.SGD(model.parameters(), lr=0.1)
    loss.backward()
    before = [p.detach().numpy().copy() for p in model.parameters()]
    opt.step()
    for b, p in zip(before, model.parameters()):
        assert p.grad is not None and np.all(np.isfinite(p.grad.numpy()))
        assert not np.array_equal(b, p.detach().numpy()) or not np.any(b)


# -- one program, both libraries --------------------------------------------------------------

def _program(torch, weights=None):
    """A small PyTorch program using issue 16's pieces, written once: run with torch and
    with tinytorch (``import tinytorch as torch``), it must give the same numbers."""
    nn, F = torch.nn, torch.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(8, 24)
            self.scales = nn.ParameterList([nn.Parameter(torch.ones(8)) for _ in range(2)])
            self.heads = nn.ModuleDict({"act": nn.SiLU(), "out": nn.Linear(8, 3)})
            self.flat = nn.Sequential(nn.Flatten(1), nn.Unflatten(1, (4, 8)))

        def forward(self, x):                                   # (B, 4, 8)
            q, k, v = self.qkv(x).chunk(3, dim=-1)
            q, k, v = (t.view(2, 4, 2, 4).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.transpose(1, 2).reshape(2, 4, 8) * self.scales[0]
            y = self.flat(F.normalize(y, dim=-1) + x) * self.scales[1]
            return self.heads["out"](self.heads["act"](y))      # (B, 4, 3)

    model = Block().double()
    if weights is not None:
        model.load_state_dict(weights)
    x = torch.tensor(np.linspace(-1, 1, 64).reshape(2, 4, 8))
    target = torch.tensor((np.arange(24).reshape(2, 4, 3) % 2).astype(np.float64))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(3):
        logits = model(x)
        loss = F.binary_cross_entropy_with_logits(logits, target, pos_weight=torch.ones(3) * 2)
        loss = loss + 0.1 * F.smooth_l1_loss(logits.cumsum(-1), target.flip(-1))
        loss = loss + 0.1 * torch.einsum("bij,bij->", logits, logits) / 24
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    top = torch.topk(logits.detach(), 2, dim=-1)
    return losses, top.values.numpy(), top.indices.numpy(), model.state_dict()


def test_a_pytorch_program_runs_unchanged_and_agrees():
    start = {k: v.clone() for k, v in _program(torch)[3].items()}  # some weights, shared
    theirs = _program(torch, start)
    ours = _program(tinytorch, {k: tinytorch.tensor(v.numpy()) for k, v in start.items()})
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)  # the losses of 3 SGD steps
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9)
    np.testing.assert_array_equal(ours[2], theirs[2])
    assert list(ours[3]) == list(theirs[3])
