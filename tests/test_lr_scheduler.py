"""Learning-rate schedulers: PyTorch's lr sequences exactly, the warm-up formulas, state dicts."""

import itertools
import math
import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import optim
from tinytorch.optim import lr_scheduler

STEPS = 30


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def two_groups(o, tensor):
    """An SGD with two param groups of different lrs (and a momentum, to exercise state)."""
    return o.SGD([{"params": [tensor([1.0, 2.0])]}, {"params": [tensor([3.0])], "lr": 0.5}],
                 lr=0.1, momentum=0.9)


SCHEDULERS = {
    "lambda": lambda s, opt: s.LambdaLR(opt, lambda e: 0.95 ** e),
    "lambda_per_group": lambda s, opt: s.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: e // 4]),
    "step": lambda s, opt: s.StepLR(opt, step_size=7, gamma=0.5),
    "step_default_gamma": lambda s, opt: s.StepLR(opt, step_size=3),
    "cosine": lambda s, opt: s.CosineAnnealingLR(opt, T_max=10),
    "cosine_eta_min": lambda s, opt: s.CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
    "cosine_long": lambda s, opt: s.CosineAnnealingLR(opt, T_max=40, eta_min=1e-4),
    "linear": lambda s, opt: s.LinearLR(opt),
    "linear_down": lambda s, opt: s.LinearLR(opt, start_factor=1.0, end_factor=0.05,
                                             total_iters=12),
    "linear_up": lambda s, opt: s.LinearLR(opt, start_factor=0.1, end_factor=0.9, total_iters=25),
}


def lr_sequence(o, s, tensor, make, steps=STEPS):
    """[lrs after construction, after step 1, ...] as (get_last_lr(), group lrs) pairs."""
    opt = two_groups(o, tensor)
    sched = make(s, opt)
    seq = [(list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups])]
    for _ in range(steps):
        opt.step()
        sched.step()
        seq.append((list(sched.get_last_lr()), [g["lr"] for g in opt.param_groups]))
    return seq


def tt_tensor(values):
    return tinytorch.tensor(values, requires_grad=True)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_lr_sequence_is_pytorchs_exactly(torch, name):
    ours = lr_sequence(optim, lr_scheduler, tt_tensor, SCHEDULERS[name])

    def torch_tensor(values):
        return torch.tensor(values, requires_grad=True)

    theirs = lr_sequence(torch.optim, torch.optim.lr_scheduler, torch_tensor, SCHEDULERS[name])
    assert ours == theirs  # bit for bit: the same float operations in the same order


def test_chained_schedulers_compose_like_pytorch(torch):
    def lrs(o, s, tensor):
        opt = two_groups(o, tensor)
        a = s.LinearLR(opt, start_factor=0.25, total_iters=6)
        b = s.StepLR(opt, step_size=5, gamma=0.5)
        out = []
        for _ in range(STEPS):
            opt.step()
            a.step()
            b.step()
            out.append([g["lr"] for g in opt.param_groups])
        return out

    assert lrs(optim, lr_scheduler, tt_tensor) == lrs(
        torch.optim, torch.optim.lr_scheduler, lambda v: torch.tensor(v, requires_grad=True))


@pytest.mark.parametrize("name", ["step", "cosine_eta_min", "linear_down"])
def test_step_with_epoch_uses_the_closed_form_like_pytorch(torch, name):
    def lrs(o, s, tensor):
        opt = two_groups(o, tensor)
        sched = SCHEDULERS[name](s, opt)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for epoch in (3, 11, 4, 25):
                sched.step(epoch)
                out.append(sched.get_last_lr())
        return out

    ours = lrs(optim, lr_scheduler, tt_tensor)
    theirs = lrs(torch.optim, torch.optim.lr_scheduler,
                 lambda v: torch.tensor(v, requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-15)


def test_closed_forms_agree_with_the_recursive_ones():
    """The formulas in the docstrings are what the recursive updates compute."""
    for name in ("step", "cosine", "cosine_eta_min", "linear", "linear_down", "linear_up"):
        seq = lr_sequence(optim, lr_scheduler, tt_tensor, SCHEDULERS[name])
        opt = two_groups(optim, tt_tensor)
        sched = SCHEDULERS[name](lr_scheduler, opt)
        for e, (last, _) in enumerate(seq):
            sched.last_epoch = e
            np.testing.assert_allclose(sched._get_closed_form_lr(), last, rtol=1e-12, atol=1e-15)


def test_scheduled_training_matches_pytorch(torch):
    """Optimizer and scheduler together: the same weights as PyTorch after 30 steps."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(5, 3))
    data = [(rng.normal(size=(8, 5)), rng.normal(size=(8, 3))) for _ in range(STEPS)]

    def run(o, s, tensor):
        w = tensor(w0.copy(), requires_grad=True)
        b = tensor(np.zeros(3), requires_grad=True)
        opt = o.Adam([{"params": [w]}, {"params": [b], "lr": 0.05}], lr=0.02)
        scheds = [s.LinearLR(opt, start_factor=0.1, total_iters=5),
                  s.CosineAnnealingLR(opt, T_max=12, eta_min=1e-3)]
        for x, y in data:
            opt.zero_grad()
            ((tensor(x) @ w + b - tensor(y)) ** 2).mean().backward()
            opt.step()
            for sch in scheds:
                sch.step()
        return w.detach().numpy(), b.detach().numpy()

    ours = run(optim, lr_scheduler, tinytorch.tensor)
    theirs = run(torch.optim, torch.optim.lr_scheduler, torch.tensor)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-12)


# -- the warm-up schedules ---------------------------------------------------------------------
def test_warmup_inverse_sqrt_follows_its_formula():
    w = tinytorch.zeros(1, requires_grad=True)
    opt = optim.AdamW([w], lr=1e-3)
    sched = lr_scheduler.WarmupInverseSqrtLR(opt, warmup_steps=8)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(40):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    for e, lr in enumerate(lrs):
        k = e + 1
        expected = 1e-3 * k / 8 if k <= 8 else 1e-3 * math.sqrt(8 / k)
        assert lr == pytest.approx(expected, rel=1e-12)
    peak = int(np.argmax(lrs))
    assert peak == 7 and lrs[peak] == pytest.approx(1e-3)  # the 8th step runs at the peak
    assert all(a < b for a, b in itertools.pairwise(lrs[:peak + 1]))  # strictly up...
    assert all(a > b for a, b in itertools.pairwise(lrs[peak:]))  # ...then strictly down
    assert lrs[4 * 8 - 1] == pytest.approx(1e-3 / 2)  # halved at k = 4W


def test_warmup_inverse_sqrt_peak_lr_per_group():
    a, b = tinytorch.zeros(1, requires_grad=True), tinytorch.zeros(1, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.2}], lr=0.1)
    sched = lr_scheduler.WarmupInverseSqrtLR(opt, warmup_steps=4)
    assert sched.get_last_lr() == pytest.approx([0.1 / 4, 0.2 / 4])
    sched = lr_scheduler.WarmupInverseSqrtLR(optim.SGD([a], lr=0.1), warmup_steps=2, peak_lr=3.0)
    assert sched.get_last_lr() == [1.5]
    with pytest.raises(ValueError, match="one per param group"):
        lr_scheduler.WarmupInverseSqrtLR(opt, 4, peak_lr=[1.0])
    with pytest.raises(ValueError, match="positive integer"):
        lr_scheduler.WarmupInverseSqrtLR(opt, 0)


def test_noam_lambda_is_the_transformer_papers_schedule():
    d_model, warmup = 512, 4000
    f = lr_scheduler.noam_lambda(d_model, warmup, factor=2.0)
    for e in (0, 1, 10, 3998, 3999, 4000, 10_000, 100_000):
        k = e + 1
        assert f(e) == pytest.approx(2.0 * d_model ** -0.5 * min(k ** -0.5, k * warmup ** -1.5),
                                     rel=1e-14)
    assert max(f(e) for e in range(8000)) == pytest.approx(2.0 / math.sqrt(d_model * warmup))
    assert max(range(8000), key=f) == warmup - 1

    w = tinytorch.zeros(1, requires_grad=True)
    opt = optim.Adam([w], lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    noam = lr_scheduler.LambdaLR(opt, lr_scheduler.noam_lambda(64, 10))
    opt2 = optim.Adam([tinytorch.zeros(1, requires_grad=True)], lr=(64 * 10) ** -0.5)
    other = lr_scheduler.WarmupInverseSqrtLR(opt2, 10)
    for _ in range(30):  # the same schedule, peak given directly
        assert noam.get_last_lr()[0] == pytest.approx(other.get_last_lr()[0], rel=1e-12)
        opt.step()
        opt2.step()
        noam.step()
        other.step()
    assert noam.state_dict()["lr_lambdas"] == [None]  # a plain function is not saved


# -- base class behaviour ----------------------------------------------------------------------
def test_construction_sets_epoch_0_and_initial_lr():
    w = tinytorch.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.3)
    sched = lr_scheduler.LinearLR(opt, start_factor=0.5)
    assert sched.last_epoch == 0 and sched.base_lrs == [0.3]
    assert opt.param_groups[0]["initial_lr"] == 0.3 and opt.param_groups[0]["lr"] == 0.15
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), 3)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(optim.SGD([w], lr=0.1), 3, last_epoch=5)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        lr_scheduler.LambdaLR(opt, [lambda e: 1, lambda e: 1])
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(opt, start_factor=0)


def test_state_dict_excludes_the_optimizer_and_round_trips(tmp_path):
    w = tinytorch.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=9, eta_min=0.01)
    for _ in range(5):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 5 and sd["T_max"] == 9
    tinytorch.save({"scheduler": sd, "optimizer": opt.state_dict()}, tmp_path / "s.npz")
    back = tinytorch.load(tmp_path / "s.npz")

    opt2 = optim.SGD([tinytorch.zeros(1, requires_grad=True)], lr=0.1)
    sched2 = lr_scheduler.CosineAnnealingLR(opt2, T_max=1)
    opt2.load_state_dict(back["optimizer"])
    sched2.load_state_dict(back["scheduler"])
    for _ in range(20):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]


def test_lambda_state_dict_keeps_a_callable_objects_attributes():
    class Schedule:
        def __init__(self):
            self.scale = 1.0

        def __call__(self, e):
            return self.scale / (e + 1)

    f = Schedule()
    opt = optim.SGD([tinytorch.zeros(1, requires_grad=True)], lr=1.0)
    sched = lr_scheduler.LambdaLR(opt, f)
    f.scale = 3.0
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"scale": 3.0}]
    g = Schedule()
    sched2 = lr_scheduler.LambdaLR(optim.SGD([tinytorch.zeros(1, requires_grad=True)], lr=1.0), g)
    sched2.load_state_dict(sd)
    assert g.scale == 3.0 and sd["lr_lambdas"] == [{"scale": 3.0}]


def test_stepping_the_scheduler_before_the_optimizer_warns():
    opt = optim.SGD([tinytorch.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt = optim.SGD([tinytorch.zeros(1, requires_grad=True)], lr=0.1)
    sched = lr_scheduler.StepLR(opt, 2)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
