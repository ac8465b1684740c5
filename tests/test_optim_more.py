"""RMSprop, Adagrad, Adamax, NAdam, RAdam: PyTorch's update rules step for step, state dicts.

The same model and batches as tests/test_optim.py (a 2-layer MLP in float64, from the same
initial weights in tinytorch and in PyTorch); each run is written once and given either
library, since the names match.
"""

import copy

import numpy as np
import pytest
from test_optim import _walk, batches, init_weights, mlp_loss

import tinytorch
from tinytorch.autograd.function import version_cell

STEPS = 20

OPTIMIZERS = {
    "rmsprop": lambda o, p: o.RMSprop(p),
    "rmsprop_alpha_eps": lambda o, p: o.RMSprop(p, lr=0.005, alpha=0.3, eps=1e-4),
    "rmsprop_centered": lambda o, p: o.RMSprop(p, lr=0.005, centered=True),
    "rmsprop_momentum": lambda o, p: o.RMSprop(p, lr=0.005, momentum=0.9),
    "rmsprop_centered_momentum_wd": lambda o, p: o.RMSprop(p, lr=0.005, momentum=0.5,
                                                           centered=True, weight_decay=0.1),
    "rmsprop_maximize": lambda o, p: o.RMSprop(p, lr=0.001, maximize=True, weight_decay=0.1),
    "adagrad": lambda o, p: o.Adagrad(p, lr=0.1),
    "adagrad_lr_decay": lambda o, p: o.Adagrad(p, lr=0.1, lr_decay=0.05, eps=1e-6),
    "adagrad_initial_acc_wd": lambda o, p: o.Adagrad(p, lr=0.1, initial_accumulator_value=0.5,
                                                     weight_decay=0.1),
    "adagrad_maximize": lambda o, p: o.Adagrad(p, lr=0.01, maximize=True, weight_decay=0.1),
    "adamax": lambda o, p: o.Adamax(p),
    "adamax_betas_wd": lambda o, p: o.Adamax(p, lr=0.02, betas=(0.8, 0.9), eps=1e-3,
                                             weight_decay=0.1),
    "adamax_maximize": lambda o, p: o.Adamax(p, lr=0.01, maximize=True),
    "nadam": lambda o, p: o.NAdam(p, lr=0.01),
    "nadam_wd_momentum_decay": lambda o, p: o.NAdam(p, lr=0.01, weight_decay=0.1,
                                                    momentum_decay=0.05),
    "nadam_decoupled": lambda o, p: o.NAdam(p, lr=0.01, betas=(0.8, 0.95), weight_decay=0.1,
                                            decoupled_weight_decay=True),
    "nadam_maximize": lambda o, p: o.NAdam(p, lr=0.01, maximize=True, weight_decay=0.1),
    "radam": lambda o, p: o.RAdam(p, lr=0.01),
    "radam_short_memory": lambda o, p: o.RAdam(p, lr=0.01, betas=(0.8, 0.9), eps=1e-6),
    "radam_wd": lambda o, p: o.RAdam(p, lr=0.01, weight_decay=0.1),
    "radam_decoupled_maximize": lambda o, p: o.RAdam(p, lr=0.01, weight_decay=0.1,
                                                     decoupled_weight_decay=True, maximize=True),
}
SCALAR_STATE = ("step", "mu_product")


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def build(lib, make_opt, two_groups=False, dtype=np.float64):
    """The MLP's parameters and an optimizer over them: one group, or two where the second
    has its own lr and weight decay."""
    params = [lib.tensor(w, requires_grad=True) for w in init_weights(dtype)]
    groups = params if not two_groups else [
        {"params": params[:2]}, {"params": params[2:], "lr": 0.03, "weight_decay": 0.02}]
    return params, make_opt(lib.optim, groups)


def train(lib, params, opt, data):
    for x, y in data:
        opt.zero_grad()
        mlp_loss(params, lib.tensor(x), lib.tensor(y)).backward()
        opt.step()


def run(lib, make_opt, two_groups=False, dtype=np.float64, steps=STEPS):
    params, opt = build(lib, make_opt, two_groups, dtype)
    train(lib, params, opt, batches(steps, dtype))
    return params, opt


def values(params):
    return [p.detach().numpy() for p in params]


def assert_state_dicts_match(ours, theirs):
    """Same indices, state names and numbers (scalars exactly), same hyperparameters."""
    assert ours["state"].keys() == theirs["state"].keys()
    for i, s in ours["state"].items():
        assert s.keys() == theirs["state"][i].keys()
        for k, v in s.items():
            if k in SCALAR_STATE:
                assert v.dtype == theirs["state"][i][k].numpy().dtype, k
                assert v.item() == theirs["state"][i][k].item(), k
            else:
                np.testing.assert_allclose(v.numpy(), theirs["state"][i][k].numpy(),
                                           rtol=1e-12, atol=1e-15)
    for g, tg in zip(ours["param_groups"], theirs["param_groups"], strict=True):
        assert g["params"] == tg["params"]
        assert {k: tg[k] for k in g} == g  # every key we have, with PyTorch's value


# -- the update rules match PyTorch's -------------------------------------------------------
@pytest.mark.parametrize("two_groups", [False, True], ids=["one_group", "two_groups"])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_matches_pytorch_over_20_steps(torch, name, two_groups):
    ours, opt = run(tinytorch, OPTIMIZERS[name], two_groups)
    theirs, topt = run(torch, OPTIMIZERS[name], two_groups)
    for p, q in zip(values(ours), values(theirs)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)  # float64 rounding only
    assert_state_dicts_match(opt.state_dict(), topt.state_dict())


@pytest.mark.parametrize("name", ["nadam", "radam_wd", "rmsprop_centered", "adagrad"])
def test_float64_default_dtype_gives_float64_scalar_state_like_pytorch(torch, name):
    # PyTorch keeps `step` (and NAdam's mu_product) in float64 when that is the default dtype
    before, torch_before = tinytorch.get_default_dtype(), torch.get_default_dtype()
    try:
        tinytorch.set_default_dtype(tinytorch.float64)
        torch.set_default_dtype(torch.float64)
        ours, opt = run(tinytorch, OPTIMIZERS[name], steps=8)
        theirs, topt = run(torch, OPTIMIZERS[name], steps=8)
    finally:
        tinytorch.set_default_dtype(before)
        torch.set_default_dtype(torch_before)
    assert opt.state[ours[0]]["step"].dtype == np.float64
    for p, q in zip(values(ours), values(theirs)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
    assert_state_dicts_match(opt.state_dict(), topt.state_dict())


def test_adagrad_state_is_made_at_construction_like_pytorch(torch):
    make = OPTIMIZERS["adagrad_initial_acc_wd"]
    _, opt = build(tinytorch, make)
    _, topt = build(torch, make)
    assert_state_dicts_match(opt.state_dict(), topt.state_dict())  # before any step: 0, 0.5

    def grow(lib):  # a group added later gets its state at its first step, from the defaults
        params, opt = build(lib, make)
        extra = lib.tensor(np.linspace(-1, 1, 3), requires_grad=True)
        opt.add_param_group({"params": [extra], "initial_accumulator_value": 7.0})
        assert len(opt.state) == 4
        for x, y in batches(3):
            opt.zero_grad()
            (mlp_loss(params, lib.tensor(x), lib.tensor(y)) + (extra ** 2).sum()).backward()
            opt.step()
        return params + [extra], opt

    ours, opt = grow(tinytorch)
    theirs, topt = grow(torch)
    for p, q in zip(values(ours), values(theirs)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)
    assert_state_dicts_match(opt.state_dict(), topt.state_dict())


def test_nadam_mu_product_is_rounded_where_pytorchs_is(torch):
    # Π_t is float32 state: the update must read it back rounded, or it is off by ~1e-7
    _, opt = run(tinytorch, OPTIMIZERS["nadam"], steps=40)
    _, topt = run(torch, OPTIMIZERS["nadam"], steps=40)
    for i, s in opt.state_dict()["state"].items():
        assert s["mu_product"].dtype == np.float32
        assert s["mu_product"].item() == topt.state_dict()["state"][i]["mu_product"].item()


# -- state dicts -------------------------------------------------------------------------------
@pytest.mark.parametrize("via_file", [False, True], ids=["in_memory", "tinytorch_save"])
@pytest.mark.parametrize("name", ["rmsprop_centered_momentum_wd", "adagrad_lr_decay",
                                  "adamax_betas_wd", "nadam_decoupled", "radam_wd"])
def test_state_dict_round_trip_resumes_like_pytorch(torch, name, via_file, tmp_path):
    def resumed(lib, save, load, dtype=np.float64):
        data = batches(STEPS, dtype)
        params, opt = build(lib, OPTIMIZERS[name], two_groups=True, dtype=dtype)
        train(lib, params, opt, data[:10])
        checkpoint = load(save({"params": [p.detach().clone() for p in params],
                                "optimizer": opt.state_dict()}))
        params2 = [lib.tensor(p.detach().numpy(), requires_grad=True)
                   for p in checkpoint["params"]]
        opt2 = OPTIMIZERS[name](lib.optim, [{"params": params2[:2]}, {"params": params2[2:]}])
        opt2.load_state_dict(checkpoint["optimizer"])
        assert opt2.param_groups[1]["lr"] == 0.03 and opt2.param_groups[1]["weight_decay"] == 0.02
        train(lib, params2, opt2, data[10:])
        return values(params2), checkpoint

    def save(obj):
        for where, leaf in _walk(obj):  # savable: Tensors and plain Python values only
            assert isinstance(leaf, (tinytorch.Tensor, int, float, bool, str, type(None))), where
        if not via_file:
            return copy.deepcopy(obj)
        tinytorch.save(obj, tmp_path / "ckpt.npz")
        return tmp_path / "ckpt.npz"

    ours, _ = resumed(tinytorch, save, (lambda x: tinytorch.load(x)) if via_file else (lambda x: x))
    theirs, _ = resumed(torch, copy.deepcopy, lambda x: x)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)

    straight = values(run(tinytorch, OPTIMIZERS[name], two_groups=True)[0])
    if not name.startswith("nadam"):
        for p, q in zip(straight, ours):
            assert np.array_equal(p, q)  # resuming changes nothing, to the bit
    else:
        # As in PyTorch, loading casts mu_product to the parameters' float64: the resumed
        # run reads an unrounded Π_t, so it differs from the straight one in the last digits.
        for p, q in zip(straight, ours):
            np.testing.assert_allclose(p, q, rtol=1e-6)
        f32, _ = resumed(tinytorch, save, (lambda x: tinytorch.load(x)) if via_file
                         else (lambda x: x), dtype=np.float32)
        straight32 = values(run(tinytorch, OPTIMIZERS[name], True, np.float32)[0])
        for p, q in zip(straight32, f32):
            assert np.array_equal(p, q)  # float32 parameters: float32 Π_t, bit-identical


@pytest.mark.skipif(not tinytorch.cuda.is_available(), reason="needs CUDA + CuPy")
@pytest.mark.parametrize("name", ["rmsprop_centered_momentum_wd", "adagrad_lr_decay",
                                  "adamax_betas_wd", "nadam_decoupled", "radam_wd"])
def test_cuda_steps_and_resumes_like_the_cpu(name):
    def run_on(device):
        params = [tinytorch.tensor(w, device=device, requires_grad=True) for w in init_weights()]

        def train(opt, data):
            for x, y in data:
                opt.zero_grad()
                mlp_loss(params, tinytorch.tensor(x, device=device),
                         tinytorch.tensor(y, device=device)).backward()
                opt.step()

        data = batches(10)
        first = OPTIMIZERS[name](tinytorch.optim, params)
        train(first, data[:5])
        resumed = OPTIMIZERS[name](tinytorch.optim, params)
        resumed.load_state_dict(copy.deepcopy(first.state_dict()))
        train(resumed, data[5:])
        return [p.detach().cpu().numpy() for p in params], resumed

    gpu, opt = run_on("cuda")
    cpu, _ = run_on("cpu")
    for p, q in zip(gpu, cpu):
        np.testing.assert_allclose(p, q, rtol=1e-10, atol=1e-13)
    for key, v in opt.state[opt.param_groups[0]["params"][0]].items():
        assert str(v.device).startswith("cpu" if key == "step" else "cuda"), key  # as PyTorch


# -- what every optimizer does --------------------------------------------------------------
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

    params, opt = run(tinytorch, make, dtype=np.float32, steps=5)
    for p in params:
        assert p.dtype == np.float32
        for k, v in opt.state[p].items():
            assert v.dtype == np.float32, k
    assert all(np.isfinite(v).all() for v in values(params))


@pytest.mark.parametrize("name", ["rmsprop_momentum", "adagrad", "adamax", "nadam", "radam"])
def test_params_without_grad_are_skipped(name):
    used = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    unused = tinytorch.tensor([3.0, 4.0], requires_grad=True)
    opt = OPTIMIZERS[name](tinytorch.optim, [used, unused])
    (used * used).sum().backward()
    opt.step()
    assert unused.tolist() == [3.0, 4.0] and used.tolist() != [1.0, 2.0]
    if name == "adagrad":  # made at construction, as in PyTorch, and left alone
        assert opt.state[unused]["step"].item() == 0 and opt.state[used]["step"].item() == 1
    else:
        assert unused not in opt.state and used in opt.state


@pytest.mark.parametrize("name", ["rmsprop_centered_momentum_wd", "adagrad", "adamax",
                                  "nadam_decoupled", "radam"])
def test_step_bumps_the_version_and_returns_the_closures_loss(name):
    w = tinytorch.tensor([1.0, -2.0], requires_grad=True)
    opt = OPTIMIZERS[name](tinytorch.optim, [w])

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with tinytorch.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0 and opt.state[w]["step"].item() == 1
    before = version_cell(w)[0]
    y = (w * w).sum()  # saves w for its backward
    opt.step()
    assert version_cell(w)[0] == before + 1
    with pytest.raises(RuntimeError):
        y.backward()


INVALID = [
    ("RMSprop", {"lr": -1}), ("RMSprop", {"eps": -1}), ("RMSprop", {"momentum": -0.5}),
    ("RMSprop", {"weight_decay": -1}), ("RMSprop", {"alpha": -0.1}),
    ("Adagrad", {"lr": -1}), ("Adagrad", {"lr_decay": -1}), ("Adagrad", {"weight_decay": -1}),
    ("Adagrad", {"initial_accumulator_value": -1}), ("Adagrad", {"eps": -1}),
    ("Adamax", {"lr": -1}), ("Adamax", {"eps": -1}), ("Adamax", {"betas": (1.0, 0.9)}),
    ("Adamax", {"betas": (0.9, -0.1)}), ("Adamax", {"weight_decay": -1}),
    ("NAdam", {"lr": -1}), ("NAdam", {"betas": (0.9, 1.0)}), ("NAdam", {"weight_decay": -1}),
    ("NAdam", {"momentum_decay": -1}), ("NAdam", {"eps": -1}),
    ("RAdam", {"lr": -1}), ("RAdam", {"betas": (-0.1, 0.9)}), ("RAdam", {"weight_decay": -1}),
    ("RAdam", {"eps": -1}),
]


@pytest.mark.parametrize("name, kwargs", INVALID, ids=[f"{n}-{k}" for n, kw in INVALID
                                                       for k in kw])
def test_invalid_hyperparameters_raise_pytorchs_message(torch, name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(tinytorch.optim, name)([tinytorch.zeros(2, requires_grad=True)], **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_defaults_and_keyword_only_arguments_are_pytorchs(torch):
    import inspect

    for name in ("RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam"):
        ours = inspect.signature(getattr(tinytorch.optim, name))
        theirs = inspect.signature(getattr(torch.optim, name))
        for pname, param in ours.parameters.items():
            assert pname in theirs.parameters, (name, pname)
            tp = theirs.parameters[pname]
            assert param.default == tp.default, (name, pname)
            assert param.kind == tp.kind, (name, pname)
