"""nn.Module semantics, layers against PyTorch, initialisation, clipping."""

import copy
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.norm = nn.LayerNorm(4)
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2, bias=False)])
        self.register_buffer("mask", tt.ones(2))
        self.scale = 2.0  # a plain attribute: not registered

    def forward(self, x):
        x = self.norm(self.fc(x)).relu()
        for layer in self.layers:
            x = layer(x)
        return x * self.mask * self.scale


def test_registration_names_and_order():
    m = Block()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["fc.weight", "fc.bias", "norm.weight", "norm.bias", "layers.0.weight",
                     "layers.0.bias", "layers.1.weight"]
    assert list(m.state_dict()) == ["mask"] + names  # own tensors first, then children (PyTorch)
    assert [type(c).__name__ for c in m.children()] == ["Linear", "LayerNorm", "ModuleList"]
    assert len(list(m.modules())) == 6
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in m.parameters())


def test_every_parameter_learns():
    """PITFALLS: a parameter that is not registered never learns. After one backward every
    parameter has a finite, non-zero grad, and one SGD step changes every parameter."""
    m = Block()
    x = tt.randn(5, 3)
    m(x).sum().backward()
    for name, p in m.named_parameters():
        assert p.grad is not None, name
        assert np.isfinite(p.grad.numpy()).all() and np.abs(p.grad.numpy()).sum() > 0, name
    before = {n: p.detach().numpy().copy() for n, p in m.named_parameters()}
    with tt.no_grad():
        for p in m.parameters():
            p -= 0.1 * p.grad
    for n, p in m.named_parameters():
        assert not np.array_equal(before[n], p.detach().numpy()), n


def test_train_eval_zero_grad_and_apply():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert m.training and m[1].training
    m.eval()
    assert not m.training and not m[1].training
    x = tt.randn(3, 2)
    np.testing.assert_array_equal(m(x).detach().numpy(), m[0](x).detach().numpy())
    m(x).sum().backward()
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "Dropout", "Sequential"]


def test_state_dict_round_trip_and_errors():
    a, b = Block(), Block()
    b.load_state_dict(a.state_dict())
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    sd = a.state_dict()
    sd["fc.weight"] = tt.zeros(5, 3)
    del sd["norm.bias"]
    sd["extra"] = tt.zeros(1)
    with pytest.raises(RuntimeError) as e:
        b.load_state_dict(sd)
    msg = str(e.value)
    assert "missing keys: norm.bias" in msg and "unexpected keys: extra" in msg
    assert "fc.weight: checkpoint (5, 3), model (4, 3)" in msg
    sd["fc.weight"] = tt.zeros(4, 3)
    missing, unexpected = b.load_state_dict(sd, strict=False)
    assert missing == ["norm.bias"] and unexpected == ["extra"]
    assert np.all(b.fc.weight.detach().numpy() == 0)


def test_state_dict_is_detached_and_shares_memory():
    m = nn.Linear(2, 3)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    with tt.no_grad():
        m.weight.fill_(7.0)
    assert np.all(sd["weight"].numpy() == 7.0)


def test_module_to_keeps_parameter_identity():
    m = nn.Linear(2, 3)
    w = m.weight
    m.to(tt.float64)
    assert m.weight is w and w.dtype == tt.float64
    assert m(tt.randn(4, 2, dtype=tt.float64)).dtype == tt.float64


def test_repr_like_pytorch():
    m = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.Linear(4, 2), nn.ReLU())
    assert repr(m) == (
        "Sequential(\n"
        "  (0): Embedding(10, 4, padding_idx=0)\n"
        "  (1): Linear(in_features=4, out_features=2, bias=True)\n"
        "  (2): ReLU()\n"
        ")")


def test_assigning_a_tensor_to_a_parameter_slot_is_an_error():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="nn.Parameter"):
        m.weight = tt.zeros(2, 2)


def test_module_needs_super_init():
    class Bad(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Bad()


def test_deepcopy_makes_independent_parameters():
    m = nn.Linear(2, 2)
    c = copy.deepcopy(m)
    with tt.no_grad():
        c.weight.fill_(0)
    assert not np.all(m.weight.detach().numpy() == 0)


def test_default_initialisation_distributions():
    """Linear: U(-1/sqrt(in), 1/sqrt(in)); Embedding: N(0, 1); LayerNorm: ones and zeros."""
    lin = nn.Linear(400, 300)
    w = lin.weight.detach().numpy()
    bound = 1 / math.sqrt(400)
    assert w.min() >= -bound and w.max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound  # std of U(-a, a) is a/sqrt(3)
    b = lin.bias.detach().numpy()
    assert b.min() >= -bound and b.max() <= bound
    emb = nn.Embedding(1000, 100, padding_idx=3).weight.detach().numpy()
    assert abs(emb.std() - 1) < 0.02 and abs(emb.mean()) < 0.02
    assert np.all(emb[3] == 0)
    ln = nn.LayerNorm(5)
    assert np.all(ln.weight.detach().numpy() == 1) and np.all(ln.bias.detach().numpy() == 0)
    x = nn.init.xavier_uniform_(tt.empty(200, 300)).numpy()
    assert abs(x.std() - math.sqrt(2 / 500)) < 0.03 * math.sqrt(2 / 500)
    x = nn.init.xavier_normal_(tt.empty(200, 300)).numpy()
    assert abs(x.std() - math.sqrt(2 / 500)) < 0.03 * math.sqrt(2 / 500)
    x = nn.init.kaiming_uniform_(tt.empty(200, 300), nonlinearity="relu").numpy()
    assert abs(x.std() - math.sqrt(2 / 300)) < 0.03 * math.sqrt(2 / 300)


def test_initialisation_is_reproducible_from_the_seed():
    tt.manual_seed(123)
    a = nn.Linear(3, 3).weight.detach().numpy().copy()
    tt.manual_seed(123)
    b = nn.Linear(3, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_clip_grad_norm_scales_all_gradients_together():
    p = tt.zeros(3, requires_grad=True)
    q = tt.zeros(4, requires_grad=True)
    p.grad = tt.tensor([3.0, 0.0, 0.0])
    q.grad = tt.tensor([0.0, 4.0, 0.0, 0.0])
    total = nn.utils.clip_grad_norm_([p, q], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    assert np.linalg.norm(np.concatenate([p.grad.numpy(), q.grad.numpy()])) == pytest.approx(1.0, rel=1e-5)
    total = nn.utils.clip_grad_norm_([p, q], max_norm=10.0)  # already small: unchanged
    assert total.item() == pytest.approx(1.0, rel=1e-5)
    p.grad = tt.tensor([float("nan"), 0.0, 0.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_float32_stays_accurate_over_millions_of_numbers():
    # the 2-norm is a float32 dot product per gradient: check it against float64
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(n).astype(np.float32) * s
             for n, s in [(3_000_000, 1e-3), (7, 5.0)]]
    params = [tt.zeros(g.size, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = tt.tensor(g)
    total = nn.utils.clip_grad_norm_(params, 1e9).item()
    exact = math.sqrt(sum(float(np.square(g.astype(np.float64)).sum()) for g in grads))
    assert total == pytest.approx(exact, rel=1e-5)


def test_linear_shape_error_names_the_fix():
    with pytest.raises(RuntimeError, match=r"linear: input of shape \(2, 5\).*in_features"):
        nn.Linear(3, 4)(tt.randn(2, 5))


def test_embedding_out_of_range_and_float_ids():
    emb = nn.Embedding(5, 2)
    with pytest.raises(IndexError, match="table of 5 rows"):
        emb(tt.tensor([0, 5]))
    with pytest.raises(TypeError, match="integers"):
        emb(tt.tensor([0.0, 1.0]))


def test_cross_entropy_bad_input():
    with pytest.raises(ValueError, match="target of shape"):
        F.cross_entropy(tt.randn(2, 3, 4), tt.tensor([0, 1]))
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(tt.randn(2, 3), tt.tensor([0.0, 1.0]))
    with pytest.raises(IndexError, match=r"\[0, 2\]"):
        F.cross_entropy(tt.randn(2, 3), tt.tensor([0, 3]))


# -- parity with PyTorch after copying weights --------------------------------------------

def _torch():
    return pytest.importorskip("torch")


def _copy_weights(ours, theirs):
    th = _torch()
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == m
        with th.no_grad():
            q.copy_(th.from_numpy(p.detach().numpy().copy()))


@pytest.mark.parametrize("make", [
    lambda nn_: nn_.Linear(5, 3),
    lambda nn_: nn_.Linear(5, 3, bias=False),
    lambda nn_: nn_.LayerNorm(5),
    lambda nn_: nn_.LayerNorm(5, elementwise_affine=False),
    lambda nn_: nn_.Sequential(nn_.Linear(5, 8), nn_.GELU(), nn_.Linear(8, 5), nn_.Tanh()),
    lambda nn_: nn_.Sequential(nn_.Linear(5, 8), nn_.GELU(approximate="tanh"), nn_.Sigmoid()),
    lambda nn_: nn_.Sequential(nn_.ReLU(), nn_.Softmax(dim=-1)),
    lambda nn_: nn_.Sequential(nn_.Identity(), nn_.LogSoftmax(dim=1)),
])
def test_layers_match_pytorch_forward_and_backward(make):
    th = _torch()
    ours, theirs = make(nn), make(th.nn)
    _copy_weights(ours, theirs)
    x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype(np.float32)
    xa = tt.tensor(x, requires_grad=True)
    xb = th.tensor(x, requires_grad=True)
    ya, yb = ours(xa), theirs(xb)
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(ya.shape).astype(np.float32)
    ya.backward(tt.tensor(g))
    yb.backward(th.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=n)


def test_embedding_matches_pytorch_with_padding_idx():
    th = _torch()
    ours, theirs = nn.Embedding(7, 3, padding_idx=1), th.nn.Embedding(7, 3, padding_idx=1)
    _copy_weights(ours, theirs)
    ids = np.array([[1, 2, 2], [6, 1, 0]])
    ya, yb = ours(tt.tensor(ids)), theirs(th.tensor(ids))
    np.testing.assert_allclose(ya.detach().numpy(), yb.detach().numpy())
    g = np.random.default_rng(0).standard_normal(ya.shape).astype(np.float32)
    ya.backward(tt.tensor(g))
    yb.backward(th.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)


@given(st.integers(0, 2**31), st.sampled_from(["mean", "sum", "none"]),
       st.sampled_from([0.0, 0.1, 0.25]), st.sampled_from([-100, 0, 2]),
       st.sampled_from([(), (3,), (2, 2)]))
def test_cross_entropy_matches_pytorch(seed, reduction, smoothing, ignore_index, extra):
    th = _torch()
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 5, *extra)).astype(np.float32)
    t = rng.integers(0, 5, size=(4, *extra))
    t = np.where(rng.random(t.shape) < 0.3, ignore_index, t)
    t.flat[0] = (ignore_index + 1) % 5  # at least one counted row
    opts = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    xa, xb = tt.tensor(x, requires_grad=True), th.tensor(x, requires_grad=True)
    la = nn.CrossEntropyLoss(**opts)(xa, tt.tensor(t))
    lb = th.nn.CrossEntropyLoss(**opts)(xb, th.tensor(t))
    np.testing.assert_allclose(la.detach().numpy(), lb.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(la.shape).astype(np.float32)
    la.backward(tt.tensor(g))
    lb.backward(th.tensor(g))
    np.testing.assert_allclose(xa.grad.numpy(), xb.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_nll_and_mse_match_pytorch():
    th = _torch()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    t = np.array([0, 1, 2, 3, -100, 1])
    y = rng.standard_normal((6, 4)).astype(np.float32)
    for red in ("mean", "sum", "none"):
        a = nn.NLLLoss(reduction=red)(tt.tensor(x).log_softmax(-1), tt.tensor(t))
        b = th.nn.NLLLoss(reduction=red)(th.tensor(x).log_softmax(-1), th.tensor(t))
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)
        a = nn.MSELoss(reduction=red)(tt.tensor(x), tt.tensor(y))
        b = th.nn.MSELoss(reduction=red)(th.tensor(x), th.tensor(y))
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)


def test_clip_grad_norm_matches_pytorch():
    th = _torch()
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,)]]
    for norm_type in (2.0, 1.0, float("inf")):
        ours = [tt.zeros(*g.shape, requires_grad=True) for g in grads]
        theirs = [th.zeros(*g.shape, requires_grad=True) for g in grads]
        for p, q, g in zip(ours, theirs, grads):
            p.grad, q.grad = tt.tensor(g), th.tensor(g)
        a = nn.utils.clip_grad_norm_(ours, 0.5, norm_type)
        b = th.nn.utils.clip_grad_norm_(theirs, 0.5, norm_type)
        assert a.item() == pytest.approx(b.item(), rel=1e-5)
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
