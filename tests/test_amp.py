"""Mixed precision: ``tinytorch.autocast`` is a no-op that says so (NumPy has no bfloat16;
ops compute in their inputs' dtype), and ``GradScaler`` is PyTorch's, step for step."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinytorch
from tinytorch import nn

no_cuda = pytest.mark.skipif(tinytorch.cuda.is_available(), reason="a GPU is present")


def _torch():
    return pytest.importorskip("torch")


# -- autocast: a no-op that says so ---------------------------------------------------------
def test_autocast_on_cpu_runs_the_block_unchanged_and_says_so(monkeypatch):
    monkeypatch.setattr(tinytorch.amp, "_said_no_op", [False])
    x, w = tinytorch.randn(2, 3), tinytorch.randn(3, 3)
    with pytest.warns(UserWarning, match="no mixed precision.*torch.bfloat16"):
        with tinytorch.autocast("cpu", dtype=tinytorch.bfloat16):
            y = x @ w
    assert y.dtype == tinytorch.float32 and np.array_equal(y.array, (x @ w).array)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once is enough; disabled ones are silent
        with tinytorch.autocast("cpu"):
            pass
        with tinytorch.autocast("cuda", enabled=False):
            pass

    @tinytorch.autocast("cpu")
    def f(a):
        return a @ a.T
    assert f(x).dtype == tinytorch.float32


@no_cuda
def test_autocast_cuda_without_a_gpu_disables_itself_as_torch():
    with pytest.warns(UserWarning, match="CUDA is not available"):
        with tinytorch.autocast("cuda"):
            pass
    with pytest.warns(FutureWarning, match="deprecated"):
        tinytorch.cuda.amp.autocast(enabled=False)
    with pytest.warns(UserWarning, match="Disabling autocast"):
        tinytorch.autocast("cpu", dtype=tinytorch.float64)
    with pytest.raises(ValueError, match="unknown device"):
        tinytorch.autocast("gpu")


# -- GradScaler: PyTorch's --------------------------------------------------------------------
def _scaler_run(lib, grads_to_inject):
    w = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([w], lr=0.1)
    scaler = lib.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    trace = []
    for bad in grads_to_inject:
        opt.zero_grad()
        scaler.scale((w * 3).sum()).backward()
        if bad:
            w.grad = lib.tensor([float("inf"), 1.0])
        scaler.step(opt)
        scaler.update()
        trace.append((scaler.get_scale(), [round(v, 6) for v in w.tolist()],
                      scaler.state_dict()["_growth_tracker"]))
    return trace, scaler


def test_grad_scaler_matches_torch():
    torch = _torch()
    steps = [False, False, True, False, False, False]
    ours, scaler = _scaler_run(tinytorch, steps)
    theirs, t_scaler = _scaler_run(torch, steps)
    assert ours == [(s, w, int(g)) for s, w, g in theirs]
    assert scaler.state_dict() == {k: (float(v) if k == "scale" else v)
                                   for k, v in t_scaler.state_dict().items()}
    fresh = tinytorch.amp.GradScaler("cpu")
    fresh.load_state_dict(scaler.state_dict())
    assert fresh.state_dict() == scaler.state_dict()


def test_grad_scaler_order_errors_as_torch():
    w = nn.Parameter(tinytorch.ones(2))
    opt = tinytorch.optim.SGD([w], lr=0.1)
    scaler = tinytorch.amp.GradScaler("cpu")
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    assert w.grad.tolist() == [1.0, 1.0]  # divided back by the scale
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.step(opt)
    with pytest.raises(ValueError, match="Tensor or an iterable"):
        scaler.scale(3.0)
    one = tinytorch.tensor(1.0)
    assert [t.item() for t in scaler.scale([one, (one,)])[:1]] == [65536.0]


@no_cuda
def test_grad_scaler_for_cuda_without_a_gpu_is_disabled_as_torch():
    torch = _torch()
    w = nn.Parameter(tinytorch.ones(2))
    opt = tinytorch.optim.SGD([w], lr=0.1)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        scaler = tinytorch.amp.GradScaler()
    with pytest.warns(UserWarning, match="CUDA is not available"):
        t_scaler = torch.amp.GradScaler()
    loss = w.sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == t_scaler.get_scale() == 1.0
    assert scaler.state_dict() == t_scaler.state_dict() == {} and not scaler.is_enabled()
    loss.backward()
    scaler.step(opt)
    scaler.update()
    assert w.tolist() == pytest.approx([0.9, 0.9])
    with pytest.warns(FutureWarning):
        old = tinytorch.cuda.amp.GradScaler(enabled=False)
    assert isinstance(old, tinytorch.amp.GradScaler) and not old.is_enabled()
