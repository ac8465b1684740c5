"""Optimizers: PyTorch's update rules step for step, param groups, state dicts, zero_grad.

The comparison model is a 2-layer MLP, ``(x @ W1 + b1).tanh() @ W2 + b2`` with an MSE loss,
run in float64 from the same initial weights on the same random batches in tinytorch and
in PyTorch (when installed).
"""

import copy

import numpy as np
import pytest

import tinytorch
from tinytorch import optim
from tinytorch.autograd.function import version_cell

IN, HIDDEN, OUT, BATCH = 4, 8, 3, 16


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def init_weights(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(IN, HIDDEN)).astype(dtype) * 0.5,
            rng.normal(size=HIDDEN).astype(dtype) * 0.1,
            rng.normal(size=(HIDDEN, OUT)).astype(dtype) * 0.5,
            rng.normal(size=OUT).astype(dtype) * 0.1]


def batches(n, dtype=np.float64, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(BATCH, IN)).astype(dtype),
             rng.normal(size=(BATCH, OUT)).astype(dtype)) for _ in range(n)]


def mlp_loss(params, x, y):
    w1, b1, w2, b2 = params
    out = (x @ w1 + b1).tanh() @ w2 + b2
    return ((out - y) ** 2).mean()


def groups_of(params, two_groups):
    """One group, or two with different lrs (the second also overrides a hyperparameter)."""
    if not two_groups:
        return params
    return [{"params": params[:2]}, {"params": params[2:], "lr": 0.03}]


def run_tinytorch(make_opt, steps, two_groups=False, dtype=np.float64, data=None,
                  make_sched=None):
    params = [tinytorch.tensor(w, requires_grad=True) for w in init_weights(dtype)]
    opt = make_opt(optim, groups_of(params, two_groups))
    sched = make_sched(optim, opt) if make_sched else None
    for x, y in data or batches(steps, dtype):
        opt.zero_grad()
        mlp_loss(params, tinytorch.tensor(x), tinytorch.tensor(y)).backward()
        opt.step()
        if sched:
            sched.step()
    return params, opt


def run_torch(torch, make_opt, steps, two_groups=False, make_sched=None):
    params = [torch.tensor(w, requires_grad=True) for w in init_weights()]
    opt = make_opt(torch.optim, groups_of(params, two_groups))
    sched = make_sched(torch.optim, opt) if make_sched else None
    for x, y in batches(steps):
        opt.zero_grad()
        mlp_loss(params, torch.tensor(x), torch.tensor(y)).backward()
        opt.step()
        if sched:
            sched.step()
    return params, opt


OPTIMIZERS = {
    "sgd": lambda o, p: o.SGD(p, lr=0.1),
    "sgd_momentum": lambda o, p: o.SGD(p, lr=0.1, momentum=0.9),
    "sgd_dampening": lambda o, p: o.SGD(p, lr=0.1, momentum=0.9, dampening=0.3),
    "sgd_nesterov": lambda o, p: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "sgd_weight_decay": lambda o, p: o.SGD(p, lr=0.1, weight_decay=0.05),
    "sgd_wd_momentum": lambda o, p: o.SGD(p, lr=0.1, momentum=0.8, weight_decay=0.05),
    "sgd_wd_nesterov_max": lambda o, p: o.SGD(p, lr=0.01, momentum=0.5, nesterov=True,
                                              weight_decay=0.05, maximize=True),
    "sgd_maximize": lambda o, p: o.SGD(p, lr=0.01, maximize=True),
    "adam": lambda o, p: o.Adam(p, lr=0.01),
    "adam_betas": lambda o, p: o.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6),
    "adam_weight_decay": lambda o, p: o.Adam(p, lr=0.01, weight_decay=0.1),
    "adam_amsgrad": lambda o, p: o.Adam(p, lr=0.01, amsgrad=True),
    "adam_maximize_wd": lambda o, p: o.Adam(p, lr=0.01, weight_decay=0.1, maximize=True),
    "adamw": lambda o, p: o.AdamW(p, lr=0.01),
    "adamw_amsgrad": lambda o, p: o.AdamW(p, lr=0.01, weight_decay=0.3, amsgrad=True),
    "adamw_maximize": lambda o, p: o.AdamW(p, lr=0.01, maximize=True),
}


# -- the update rules match PyTorch's -------------------------------------------------------
@pytest.mark.parametrize("two_groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_matches_pytorch_over_20_steps(torch, name, two_groups):
    ours, opt = run_tinytorch(OPTIMIZERS[name], 20, two_groups)
    theirs, topt = run_torch(torch, OPTIMIZERS[name], 20, two_groups)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-12)
    # the same state dict layout: indices, state names, numbers
    ours_sd, theirs_sd = opt.state_dict(), topt.state_dict()
    assert ours_sd["state"].keys() == theirs_sd["state"].keys()
    for i, s in ours_sd["state"].items():
        assert s.keys() == theirs_sd["state"][i].keys()
        for k, v in s.items():
            np.testing.assert_allclose(v.numpy(), theirs_sd["state"][i][k].numpy(), rtol=1e-6,
                                       atol=1e-12)
    for g, tg in zip(ours_sd["param_groups"], theirs_sd["param_groups"]):
        assert g["params"] == tg["params"]
        assert {k: tg[k] for k in g} == g  # every key we have, with PyTorch's value


@pytest.mark.parametrize("name", [n for n in OPTIMIZERS if n.startswith("adam")])
def test_adam_in_slices_gives_the_same_bits(name, monkeypatch):
    # Large parameters are updated slice by slice (cache-sized, see adam.py); with slices
    # of 5 numbers every MLP weight goes that way, the last slice short. Same bits.
    from tinytorch.optim import adam

    monkeypatch.setattr(adam, "CHUNK", 10**9)
    whole, _ = run_tinytorch(OPTIMIZERS[name], 5)
    monkeypatch.setattr(adam, "CHUNK", 5)
    sliced, opt = run_tinytorch(OPTIMIZERS[name], 5)
    for p, q in zip(whole, sliced):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    assert any(p.numel() > 2 * 5 and p.numel() % 5 for p in sliced)


def test_params_without_grad_are_skipped_and_get_no_state():
    used = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    unused = tinytorch.tensor([3.0, 4.0], requires_grad=True)
    for make in (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p)):
        opt = make([used, unused])
        (used * used).sum().backward()
        opt.step()
        assert unused.tolist() == [3.0, 4.0]
        assert unused not in opt.state and used in opt.state
        opt.zero_grad()


def test_step_bumps_the_version_so_a_stale_graph_is_caught():
    w = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    before = version_cell(w)[0]
    y = (w * w).sum()  # saves w for its backward
    opt.step()
    assert version_cell(w)[0] == before + 1
    with pytest.raises(RuntimeError):
        y.backward()


def test_closure_is_called_with_grad_enabled_and_its_loss_returned():
    w = tinytorch.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tinytorch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    assert opt.state[w]["step"].item() == 1


# -- float32 stays float32 ---------------------------------------------------------------------
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_float32_params_and_state_stay_float32(name):
    # NumPy float64 scalars as hyperparameters must not upcast either (NEP 50 rules)
    def make(o, p):
        opt = OPTIMIZERS[name](o, p)
        for g in opt.param_groups:
            g["lr"] = np.float64(g["lr"])
            if "betas" in g:
                g["betas"] = (np.float64(g["betas"][0]), np.float64(g["betas"][1]))
        return opt

    params, opt = run_tinytorch(make, 5, dtype=np.float32)
    for p in params:
        assert p.dtype == np.float32
        for k, v in opt.state[p].items():
            assert v.dtype == np.float32, k
    assert all(np.isfinite(p.detach().numpy()).all() for p in params)


# -- zero_grad ---------------------------------------------------------------------------------
def test_zero_grad_set_to_none_drops_the_grad():
    w = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    opt.zero_grad()
    assert w.grad is None
    opt.zero_grad()  # nothing to clear: fine


def test_zero_grad_set_to_none_false_zeros_in_place():
    w = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    grad = w.grad
    memory = grad.array
    opt.zero_grad(set_to_none=False)
    assert w.grad is grad and grad.array is memory
    assert grad.tolist() == [0.0, 0.0]
    (w * 3).sum().backward()  # accumulates into the zeroed grad
    assert w.grad.tolist() == [3.0, 3.0]


# -- param groups and arguments ----------------------------------------------------------------
def test_param_groups_fill_in_defaults_and_keep_overrides():
    a, b = tinytorch.zeros(2, requires_grad=True), tinytorch.zeros(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in opt.param_groups] == [0, 0.9]
    assert len(opt.param_groups[1]["params"]) == 1 and opt.param_groups[1]["params"][0] is b
    c = tinytorch.zeros(1, requires_grad=True)
    opt.add_param_group({"params": [c], "lr": 1.0})
    assert opt.param_groups[2]["lr"] == 1.0 and opt.param_groups[2]["nesterov"] is False
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {tinytorch.zeros(1)}})


def test_bad_params_are_refused():
    w = tinytorch.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        optim.SGD([w, 3.0])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2])


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.SGD(p, momentum=-0.1), "Invalid momentum value"),
    (lambda p: optim.SGD(p, weight_decay=-1), "Invalid weight_decay value"),
    (lambda p: optim.SGD(p, nesterov=True),
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda p: optim.Adam(p, lr=-1e-3), "Invalid learning rate"),
    (lambda p: optim.Adam(p, eps=-1), "Invalid epsilon value"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), "Invalid beta parameter at index 0"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    (lambda p: optim.Adam(p, weight_decay=-1), "Invalid weight_decay value"),
])
def test_invalid_hyperparameters_raise_like_pytorch(make, message):
    with pytest.raises(ValueError, match=message):
        make([tinytorch.zeros(2, requires_grad=True)])


def test_invalid_hyperparameter_messages_are_pytorchs(torch):
    cases = [("SGD", {"lr": -1}), ("SGD", {"nesterov": True}), ("Adam", {"eps": -1}),
             ("Adam", {"betas": (0.9, 1.0)}), ("AdamW", {"weight_decay": -2})]
    for name, kwargs in cases:
        with pytest.raises(ValueError) as theirs:
            getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
        with pytest.raises(ValueError) as ours:
            getattr(optim, name)([tinytorch.zeros(2, requires_grad=True)], **kwargs)
        assert str(ours.value) == str(theirs.value)


# -- state dicts -------------------------------------------------------------------------------
SCHEDULED = {
    "sgd_momentum+step": (lambda o, p: o.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
                          lambda o, opt: o.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)),
    "adam_amsgrad+cosine": (lambda o, p: o.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.01),
                            lambda o, opt: o.lr_scheduler.CosineAnnealingLR(opt, T_max=7)),
    "adamw+warmup": (lambda o, p: o.AdamW(p, lr=0.01),
                     lambda o, opt: o.lr_scheduler.WarmupInverseSqrtLR(opt, warmup_steps=5)),
    "adam+noam": (lambda o, p: o.Adam(p, lr=1.0, betas=(0.9, 0.98), eps=1e-9),
                  lambda o, opt: o.lr_scheduler.LambdaLR(opt, o.lr_scheduler.noam_lambda(16, 4))),
    "sgd+linear": (lambda o, p: o.SGD(p, lr=0.1, momentum=0.5, dampening=0.1),
                   lambda o, opt: o.lr_scheduler.LinearLR(opt, total_iters=15)),
}


def _walk(obj, where="sd"):
    """Every leaf of a state dict, with where it sits."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, f"{where}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _walk(v, f"{where}[{i}]")
    else:
        yield where, obj


@pytest.mark.parametrize("via_file", [False, True], ids=["in_memory", "tinytorch_save"])
@pytest.mark.parametrize("two_groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name", list(SCHEDULED))
def test_state_dict_round_trip_resumes_bit_identically(name, two_groups, via_file, tmp_path):
    make_opt, make_sched = SCHEDULED[name]
    data = batches(20)
    straight, _ = run_tinytorch(make_opt, 20, two_groups, data=data, make_sched=make_sched)

    params = [tinytorch.tensor(w, requires_grad=True) for w in init_weights()]
    opt = make_opt(optim, groups_of(params, two_groups))
    sched = make_sched(optim, opt)

    def train(params, opt, sched, data):
        for x, y in data:
            opt.zero_grad()
            mlp_loss(params, tinytorch.tensor(x), tinytorch.tensor(y)).backward()
            opt.step()
            sched.step()

    train(params, opt, sched, data[:10])
    checkpoint = {"params": [p.detach().clone() for p in params],
                  "optimizer": opt.state_dict(), "scheduler": sched.state_dict()}
    for where, leaf in _walk(checkpoint):  # savable: Tensors and plain Python values only
        assert isinstance(leaf, (tinytorch.Tensor, int, float, bool, str, type(None))), where
    if via_file:
        tinytorch.save(checkpoint, tmp_path / "ckpt.npz")
        checkpoint = tinytorch.load(tmp_path / "ckpt.npz")

    params2 = [tinytorch.tensor(p.detach().numpy(), requires_grad=True)
               for p in checkpoint["params"]]
    opt2 = make_opt(optim, groups_of(params2, two_groups))
    sched2 = make_sched(optim, opt2)  # build the scheduler first, then load both
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert sched2.get_last_lr() == sched.get_last_lr()
    assert [g["lr"] for g in opt2.param_groups] == [g["lr"] for g in opt.param_groups]
    train(params2, opt2, sched2, data[10:])
    for p, q in zip(straight, params2):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())


def test_load_state_dict_copies_and_casts():
    w = tinytorch.tensor(np.ones((2, 2), np.float32), requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    sd = copy.deepcopy(opt.state_dict())
    sd["state"][0]["exp_avg"] = tinytorch.tensor(np.full((2, 2), 0.5))  # float64, cast back
    fresh = optim.Adam([w], lr=0.1)
    fresh.load_state_dict(sd)
    assert fresh.state[w]["exp_avg"].dtype == np.float32
    assert fresh.state[w]["step"].dtype == np.float32
    assert fresh.state[w]["exp_avg_sq"] is not sd["state"][0]["exp_avg_sq"]
    sd["state"][0]["exp_avg_sq"].array[...] = 123.0  # the loaded copy is not aliased
    assert fresh.state[w]["exp_avg_sq"].array.max() < 1
    sd["param_groups"][0]["betas"] = (0.5, 0.5)
    assert fresh.param_groups[0]["betas"] == (0.9, 0.999)
    assert fresh.param_groups[0]["params"][0] is w


def test_state_dict_is_pytorchs_layout():
    a, b, c = (tinytorch.ones(n, requires_grad=True) for n in (1, 2, 3))
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 1.0}], lr=0.1, momentum=0.9)
    (a.sum() + c.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0, 1]
    assert sd["param_groups"][1]["params"] == [2]
    assert set(sd["state"]) == {0, 2}  # b had no grad: no state
    assert sd["state"][2]["momentum_buffer"].tolist() == [1.0, 1.0, 1.0]
    assert sd["param_groups"][1]["lr"] == 1.0


def _trained_adam():
    ws = [tinytorch.ones(2, 3, requires_grad=True), tinytorch.ones(3, requires_grad=True)]
    opt = optim.Adam([{"params": ws[:1]}, {"params": ws[1:]}], lr=0.1)
    sum(w.sum() for w in ws).backward()
    opt.step()
    return opt


def test_load_state_dict_wrong_group_count_is_a_clear_error():
    sd = _trained_adam().state_dict()
    opt = optim.Adam([tinytorch.ones(2, 3, requires_grad=True),
                      tinytorch.ones(3, requires_grad=True)])
    with pytest.raises(ValueError, match=r"different number of parameter groups: it has 2, this "
                                         r"optimizer has 1; build the optimizer"):
        opt.load_state_dict(sd)


def test_load_state_dict_wrong_group_size_is_a_clear_error():
    sd = _trained_adam().state_dict()
    ws = [tinytorch.ones(2, 3, requires_grad=True), tinytorch.ones(3, requires_grad=True)]
    opt = optim.Adam([{"params": ws}, {"params": [tinytorch.ones(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match=r"group 0 has 1 parameters in the state dict but 2 in "
                                         r"this optimizer"):
        opt.load_state_dict(sd)


def test_load_state_dict_wrong_shape_is_a_clear_error_and_changes_nothing():
    sd = _trained_adam().state_dict()
    w1, w2 = tinytorch.ones(3, 2, requires_grad=True), tinytorch.ones(3, requires_grad=True)
    opt = optim.Adam([{"params": [w1]}, {"params": [w2]}], lr=0.5)
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(2, 3\) but "
                                         r"the parameter has shape \(3, 2\)"):
        opt.load_state_dict(sd)
    assert len(opt.state) == 0 and opt.param_groups[0]["lr"] == 0.5


def test_load_state_dict_refuses_what_is_not_a_state_dict():
    opt = _trained_adam()
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        opt.load_state_dict({"model": {}})
    sd = opt.state_dict()
    sd["state"][7] = sd["state"].pop(1)
    with pytest.raises(ValueError, match="parameter index 7"):
        opt.load_state_dict(sd)
