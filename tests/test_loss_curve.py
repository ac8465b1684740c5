"""The loss curve: every step's training loss and learning rate, kept in the checkpoint
(so a resumed run draws one continuous curve) and drawn raw and smoothed, with the
evaluations on top and the learning rate on a second axis (transformer/plots.py)."""

import importlib.util

import numpy as np
import pytest

import tinytorch as tt
from transformer.__main__ import main
from transformer.plots import smooth

TINY = ["--size", "tiny", "--vocab-size", "400", "--no-progress", "--eval-every", "3"]


def _curve(run):
    return np.asarray(tt.load(str(run / "checkpoint.npz"))["curve"])


@pytest.mark.parametrize("command", [["train", "--beam", "1"], ["lm", "train"]])
def test_every_step_is_in_the_checkpoint_and_a_resume_continues_it(tmp_path, command):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert main([*command, *TINY, "--steps", "6", "--out", str(straight)]) == 0
    assert main([*command, *TINY, "--steps", "4", "--out", str(split)]) == 0
    assert main([*command, *TINY, "--steps", "6", "--out", str(split), "--resume"]) == 0
    a, b = _curve(straight), _curve(split)
    assert a.shape == (6, 3)
    assert a[:, 0].tolist() == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(b, a, rtol=1e-6)              # (the run resumes exactly)
    assert np.all(np.diff(a[:, 2]) > 0)                       # warming up: the lr rises
    if importlib.util.find_spec("matplotlib") is not None:  # (the [train] extra draws it)
        assert (straight / "loss.png").stat().st_size > 10_000
    else:
        assert not (straight / "loss.png").exists()


def test_smoothing_keeps_a_constant_and_starts_at_the_first_value():
    np.testing.assert_allclose(smooth(np.full(50, 3.0)), 3.0, rtol=1e-12)
    x = np.random.default_rng(0).standard_normal(300) + np.linspace(5, 1, 300)
    s = smooth(x)
    assert s[0] == x[0]
    assert np.std(np.diff(s)) < 0.2 * np.std(np.diff(x))     # smoother
    assert abs(s[-1] - 1) < 0.5                               # and still following


@pytest.mark.parametrize("command", [["train", "--beam", "1"], ["lm", "train"]])
def test_cooldown_brings_the_lr_linearly_to_zero_at_the_end_of_the_budget(tmp_path, command):
    run = tmp_path / "run"
    assert main([*command, *TINY, "--warmup", "2", "--cooldown", "0.5", "--lr", "0.01",
                 "--steps", "8", "--out", str(run)]) == 0
    lrs = _curve(run)[:, 2]  # after step k: the lr of step k + 1 (the scheduler is at k)

    def expected(k):  # warm-up, inverse square root, times the cool-down over steps 4..8
        base = k / 2 if k < 2 else (2 / k) ** 0.5
        return 0.01 * base * min(1.0, (1 - k / 8) / 0.5)

    np.testing.assert_allclose(lrs, [expected(k) for k in range(1, 9)], rtol=1e-12, atol=1e-15)
    assert lrs[-1] == 0 and np.all(np.diff(lrs[3:]) < 0)     # down to 0, linearly
    assert lrs[2] == pytest.approx(0.01 * (2 / 3) ** 0.5)     # before it: untouched
