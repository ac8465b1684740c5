"""OneCycleLR, CosineAnnealingWarmRestarts, ReduceLROnPlateau: PyTorch's sequences exactly.

Each run is written once and given either library (the names match): the lrs, and for
OneCycleLR the momenta, after construction and after every step, compared bit for bit.
"""

import math
import warnings

import numpy as np
import pytest
from test_optim import batches, init_weights, mlp_loss

import tinytorch
from tinytorch.optim import lr_scheduler


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def sgd(lib):
    """Two param groups with different lrs and momentum (what OneCycleLR cycles)."""
    a, b = (lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True))
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.9)


def adam(lib):
    """Two param groups; OneCycleLR cycles β1 of ``betas``."""
    a, b = (lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True))
    return lib.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5, "betas": (0.8, 0.99)}],
                          lr=0.1)


def rmsprop(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    return lib.optim.RMSprop([a], lr=0.01, momentum=0.5)


def snapshot(opt, sched):
    return (list(sched.get_last_lr()),
            [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups])


SCHEDULES = {  # name: (optimizer, scheduler, steps)
    "onecycle": (sgd, lambda s, o: s.OneCycleLR(o, max_lr=1.0, total_steps=50), 50),
    "onecycle_per_group": (sgd, lambda s, o: s.OneCycleLR(
        o, max_lr=[0.3, 2.0], total_steps=40, pct_start=0.25, base_momentum=[0.8, 0.7],
        max_momentum=[0.9, 0.99], div_factor=10.0, final_div_factor=100.0), 40),
    "onecycle_linear": (sgd, lambda s, o: s.OneCycleLR(o, max_lr=0.5, total_steps=33,
                                                       anneal_strategy="linear"), 33),
    "onecycle_three_phase": (sgd, lambda s, o: s.OneCycleLR(o, max_lr=0.5, epochs=6,
                                                            steps_per_epoch=7,
                                                            three_phase=True), 42),
    "onecycle_three_phase_linear": (sgd, lambda s, o: s.OneCycleLR(
        o, max_lr=0.5, total_steps=30, three_phase=True, anneal_strategy="linear",
        pct_start=0.4), 30),
    "onecycle_adam_betas": (adam, lambda s, o: s.OneCycleLR(o, max_lr=0.01, total_steps=45), 45),
    "onecycle_rmsprop": (rmsprop, lambda s, o: s.OneCycleLR(o, max_lr=0.01, total_steps=25), 25),
    "onecycle_no_momentum": (sgd, lambda s, o: s.OneCycleLR(o, max_lr=0.2, total_steps=20,
                                                            cycle_momentum=False), 20),
    "warm_restarts": (sgd, lambda s, o: s.CosineAnnealingWarmRestarts(o, T_0=7), 60),
    "warm_restarts_mult": (sgd, lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.01), 80),
    "warm_restarts_mult3": (adam, lambda s, o: s.CosineAnnealingWarmRestarts(
        o, T_0=2, T_mult=3, eta_min=1e-4), 70),
}


def sequence(lib, name, steps=None):
    make_opt, make_sched, n = SCHEDULES[name]
    opt = make_opt(lib)
    sched = make_sched(lib.optim.lr_scheduler, opt)
    seq = [snapshot(opt, sched)]
    for _ in range(n if steps is None else steps):
        opt.step()
        sched.step()
        seq.append(snapshot(opt, sched))
    return seq, opt, sched


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_and_momentum_sequence_is_pytorchs_exactly(torch, name):
    ours, _, sched = sequence(tinytorch, name)
    theirs, _, tsched = sequence(torch, name)
    assert ours == theirs  # bit for bit: the same float operations in the same order
    state, tstate = sched.state_dict(), tsched.state_dict()
    assert set(state) == set(tstate) - {"_get_lr_called_within_step"}
    assert state == {k: tstate[k] for k in state}


def test_onecycle_follows_its_formula():
    _, opt, sched = sequence(tinytorch, "onecycle", steps=0)
    lrs, momenta = [sched.get_last_lr()[0]], [opt.param_groups[0]["momentum"]]
    for _ in range(50):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr()[0])
        momenta.append(opt.param_groups[0]["momentum"])
    top, start = 1.0, 1.0 / 25
    assert lrs[0] == pytest.approx(start) and momenta[0] == pytest.approx(0.95)
    assert lrs[14] == pytest.approx(top) and momenta[14] == pytest.approx(0.85)  # 0.3·50 - 1
    assert max(lrs) == lrs[14] and min(momenta) == momenta[14]
    assert lrs[49] == pytest.approx(start / 1e4) and momenta[49] == pytest.approx(0.95)
    pct, low = (30 - 14) / (49 - 14), start / 1e4
    assert lrs[30] == pytest.approx(low + (top - low) * (1 + math.cos(math.pi * pct)) / 2)
    assert opt.param_groups[0]["initial_lr"] == start and opt.param_groups[0]["max_lr"] == top


def test_onecycle_refuses_a_step_past_the_end_like_pytorch(torch):
    def past_the_end(lib):
        _, opt, sched = sequence(lib, "onecycle_linear")  # 33 steps: the last one allowed
        with pytest.raises(ValueError) as err:
            sched.step()
        return str(err.value)

    assert past_the_end(tinytorch) == past_the_end(torch) == (
        "Tried to step 34 times. The specified number of total steps is 33")


ONECYCLE_ERRORS = [
    {"max_lr": 0.1}, {"max_lr": 0.1, "total_steps": 0}, {"max_lr": 0.1, "total_steps": 2.5},
    {"max_lr": 0.1, "epochs": 0, "steps_per_epoch": 3},
    {"max_lr": 0.1, "epochs": 2, "steps_per_epoch": -1},
    {"max_lr": 0.1, "total_steps": 10, "pct_start": 1.5},
    {"max_lr": 0.1, "total_steps": 10, "pct_start": 1},
    {"max_lr": 0.1, "total_steps": 10, "anneal_strategy": "exp"},
    {"max_lr": [0.1, 0.2, 0.3], "total_steps": 10},
    {"max_lr": 0.1, "total_steps": 10, "base_momentum": [0.8]},
]


@pytest.mark.parametrize("kwargs", ONECYCLE_ERRORS)
def test_onecycle_bad_arguments_raise_pytorchs_message(torch, kwargs):
    def error(lib):
        with pytest.raises(ValueError) as err:
            lib.optim.lr_scheduler.OneCycleLR(sgd(lib), **kwargs)
        return str(err.value)

    assert error(tinytorch) == error(torch)


def test_onecycle_needs_an_optimizer_with_momentum(torch):
    def error(lib):
        opt = lib.optim.Adagrad([lib.tensor([1.0], requires_grad=True)])
        with pytest.raises(ValueError) as err:
            lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10)
        lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10, cycle_momentum=False)
        return str(err.value)

    assert error(tinytorch) == error(torch)


# -- CosineAnnealingWarmRestarts: step(epoch) ----------------------------------------------
EPOCHS = [0, 0.5, 1.25, 2.999, 3, 3.5, 8.75, 9, 20.1, 21, 44.9, 45, 2.2, 0, 100.5, 7]


@pytest.mark.parametrize("T_0, T_mult", [(3, 1), (3, 2), (5, 3), (1, 2)])
def test_warm_restarts_fractional_epochs_like_pytorch(torch, T_0, T_mult):
    def lrs(lib):
        opt = sgd(lib)
        sched = lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0, T_mult, eta_min=0.01)
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no deprecation warning here, as in PyTorch
            for e in EPOCHS:
                sched.step(e)
                out.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
                sched.step()  # interleaved: carries on from the epoch just set
                out.append((sched.get_last_lr(), sched.T_cur, sched.T_i, sched.last_epoch))
        return out

    assert lrs(tinytorch) == lrs(torch)


def test_warm_restarts_follows_its_formula():
    opt = sgd(tinytorch)
    sched = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.01)
    starts = [0, 4, 12, 28]  # periods 4, 8, 16
    for e in range(40):
        start = max(s for s in starts if s <= e)
        period = 4 * 2 ** starts.index(start)
        expected = 0.01 + (0.1 - 0.01) * (1 + math.cos(math.pi * (e - start) / period)) / 2
        assert sched.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)
        opt.step()
        sched.step()


@pytest.mark.parametrize("kwargs", [{"T_0": 0}, {"T_0": 2.0}, {"T_0": 2, "T_mult": 0},
                                    {"T_0": 2, "T_mult": 1.5}, {"T_0": 2, "eta_min": "0"}])
def test_warm_restarts_bad_arguments_raise_pytorchs_message(torch, kwargs):
    def error(lib):
        with pytest.raises(ValueError) as err:
            lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(sgd(lib), **kwargs)
        return str(err.value)

    assert error(tinytorch) == error(torch)
    with pytest.raises(ValueError, match="non-negative epoch"):
        lr_scheduler.CosineAnnealingWarmRestarts(sgd(tinytorch), 2).step(-1)


# -- ReduceLROnPlateau --------------------------------------------------------------------------
def noisy_losses(n=60, seed=0):
    """A validation loss that falls, then wanders on a plateau."""
    rng = np.random.default_rng(seed)
    return [float(1 / (1 + 0.3 * min(t, 15)) + 0.02 * rng.normal()) for t in range(n)]


PLATEAUS = {
    "default": {},
    "max_rel_cooldown": {"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 3},
    "min_abs_min_lr_per_group": {"threshold_mode": "abs", "threshold": 0.01, "patience": 0,
                                 "factor": 0.3, "min_lr": [0.01, 0.2]},
    "max_abs_eps": {"mode": "max", "threshold_mode": "abs", "threshold": 0.0, "patience": 1,
                    "factor": 0.2, "min_lr": 1e-3, "eps": 1e-2},
    "min_rel_big_threshold": {"threshold": 0.1, "patience": 3, "cooldown": 1},
}


def plateau_run(lib, kwargs, metrics, as_tensor=False):
    opt = sgd(lib)
    sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    out = [(sched.get_last_lr(), sched.best, sched.num_bad_epochs, sched.last_epoch)]
    for m in metrics:
        opt.step()
        sched.step(lib.tensor(m) if as_tensor else m)
        out.append((sched.get_last_lr(), [g["lr"] for g in opt.param_groups], sched.best,
                    sched.num_bad_epochs, sched.cooldown_counter, sched.last_epoch))
    return out, sched


@pytest.mark.parametrize("name", list(PLATEAUS))
def test_plateau_sequence_is_pytorchs_exactly(torch, name):
    kwargs = PLATEAUS[name]
    metrics = noisy_losses()
    if kwargs.get("mode") == "max":  # an accuracy: rises, then wanders
        metrics = [1 - m for m in metrics]
    ours, sched = plateau_run(tinytorch, kwargs, metrics, as_tensor=True)
    theirs, tsched = plateau_run(torch, kwargs, metrics, as_tensor=True)
    assert ours == theirs
    assert ours[-1][0] != ours[0][0]  # the lr did drop
    assert sched.state_dict() == tsched.state_dict()


def test_plateau_waits_patience_epochs_then_cools_down():
    opt = sgd(tinytorch)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2, cooldown=2, factor=0.5)
    lrs = []
    for m in [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]:
        sched.step(m)
        lrs.append(sched.get_last_lr()[0])
    # The 1st sets best; the 2nd to 4th are no better: 3 bad epochs > patience 2, halved
    # after the 4th. The 5th and 6th are the cooldown (not counted), the 7th and 8th make
    # 2 bad epochs (not > 2), and the 9th's 0.5 is an improvement: no second halving.
    assert lrs == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]
    assert sched.best == 0.5 and sched.num_bad_epochs == 1


def test_plateau_new_param_group_like_pytorch(torch):
    def grow(lib, min_lr):
        opt = sgd(lib)
        sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=min_lr)
        opt.add_param_group({"params": [lib.tensor([5.0], requires_grad=True)], "lr": 1.0})
        sched.step(1.0)
        try:
            sched.step(2.0)
        except RuntimeError as e:
            return str(e)
        return sched.get_last_lr(), sched.min_lrs

    assert grow(tinytorch, 0.001) == grow(torch, 0.001)  # one min_lr: extended to the group
    assert grow(tinytorch, [0.0, 0.0]) == grow(torch, [0.0, 0.0])  # a list: an error
    assert "differs from when `ReduceLROnPlateau` was initialized" in grow(tinytorch, [0, 0])


@pytest.mark.parametrize("kwargs", [{"factor": 1.0}, {"mode": "avg"}, {"threshold_mode": "x"},
                                    {"min_lr": [0.1]}])
def test_plateau_bad_arguments_raise_pytorchs_message(torch, kwargs):
    def error(lib):
        with pytest.raises(ValueError) as err:
            lib.optim.lr_scheduler.ReduceLROnPlateau(sgd(lib), **kwargs)
        return str(err.value)

    assert error(tinytorch) == error(torch)


# -- state dicts: save mid-schedule, resume, same sequence ---------------------------------
RESUMABLE = ["onecycle_per_group", "onecycle_three_phase", "onecycle_adam_betas",
             "warm_restarts_mult", "plateau"]


@pytest.mark.parametrize("at", [0, 17])
@pytest.mark.parametrize("name", RESUMABLE)
def test_state_dict_round_trip_mid_schedule(name, at, tmp_path):
    metrics = noisy_losses(40)

    def build(lib):
        if name == "plateau":
            opt = sgd(lib)
            return opt, lib.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=2)
        make_opt, make_sched, _ = SCHEDULES[name]
        opt = make_opt(lib)
        return opt, make_sched(lib.optim.lr_scheduler, opt)

    def advance(opt, sched, epochs):
        out = []
        for e in epochs:
            opt.step()
            sched.step(metrics[e]) if name == "plateau" else sched.step()
            out.append(snapshot(opt, sched))
        return out

    opt, sched = build(tinytorch)
    straight = advance(opt, sched, range(40))

    opt, sched = build(tinytorch)
    advance(opt, sched, range(at))
    tinytorch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()},
                   tmp_path / "ckpt.npz")
    checkpoint = tinytorch.load(tmp_path / "ckpt.npz")
    opt2, sched2 = build(tinytorch)  # build the scheduler first, then load both
    opt2.load_state_dict(checkpoint["optimizer"])
    sched2.load_state_dict(checkpoint["scheduler"])
    assert snapshot(opt2, sched2) == snapshot(opt, sched)
    assert advance(opt2, sched2, range(at, 40)) == straight[at:]


def test_scheduled_training_matches_pytorch(torch):
    """OneCycleLR cycling NAdam's β1 and RMSprop's momentum, over a whole training run."""
    data = batches(30)

    def run(lib, make_opt):
        params = [lib.tensor(w, requires_grad=True) for w in init_weights()]
        opt = make_opt(lib.optim, [{"params": params[:2]}, {"params": params[2:]}])
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=[0.02, 0.05], total_steps=30,
                                                  three_phase=True)
        for x, y in data:
            opt.zero_grad()
            mlp_loss(params, lib.tensor(x), lib.tensor(y)).backward()
            opt.step()
            sched.step()
        return [p.detach().numpy() for p in params]

    for make in (lambda o, p: o.NAdam(p, weight_decay=0.01),
                 lambda o, p: o.RMSprop(p, momentum=0.9, centered=True)):
        for a, b in zip(run(tinytorch, make), run(torch, make)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
