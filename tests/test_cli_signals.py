"""Ctrl-C (SIGINT) and SIGTERM never lose more than the step in progress.

In-process tests send the signal to this process from inside the training at a chosen
point (a patched method calls ``os.kill``; Python runs the handler right after), so they
are exact and need no sleeps. The subprocess tests send real signals to a real
``python -m transformer train``, synchronised on the line it prints once its handlers
are installed.
"""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from transformer.__main__ import main
from transformer.checkpoint import load_checkpoint
from transformer.train import TrainArgs, Trainer

QUIET = dict(log=lambda *a: None)



@pytest.fixture(autouse=True)
def _handlers_are_restored():
    yield
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def _args(corpus, out, steps, resume=False, eval_every=1000):
    return TrainArgs(data=str(corpus), out=str(out), size="tiny", vocab_size=300, steps=steps,
                     minutes=None, batch_tokens=200, warmup=5, eval_every=eval_every,
                     dropout=0.1, resume=resume, progress=False)


def _argv(corpus, out, *budget):
    return ["train", "--data", str(corpus), "--out", str(out), "--size", "tiny", "--vocab-size",
            "300", "--batch-tokens", "200", "--warmup", "5", "--eval-every", "1000",
            "--no-progress", *budget]


def _send_on_call(monkeypatch, owner, name, signals, on_call=1):
    """Make ``owner.name`` send ``signals`` to this process on its ``on_call``-th call,
    then do its work."""
    real = getattr(owner, name)
    calls = {"n": 0}

    def sending(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == on_call:
            for s in signals:
                os.kill(os.getpid(), s)
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, sending)


def _weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def _same_weights(a, b):
    a, b = _weights(a), _weights(b)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def _saved_step(out):
    return int(load_checkpoint(str(out / "checkpoint.npz"))["step"])


@pytest.mark.parametrize("signals", [[signal.SIGINT], [signal.SIGTERM],
                                     [signal.SIGINT, signal.SIGINT]],
                         ids=["ctrl-c", "sigterm", "two quick ctrl-c"])
def test_a_signal_mid_step_finishes_it_saves_and_resumes_exactly(corpus, tmp_path, monkeypatch,
                                                                 capfd, signals):
    """The signals arrive in the middle of step 3 (after backward, before the optimizer):
    the step completes, the checkpoint is saved, the run exits with 128 + the signal and
    says how to resume; the resumed run ends bit-identical to an uninterrupted one."""
    straight = Trainer(_args(corpus, tmp_path / "a", 6), **QUIET)
    straight.run()
    said = []
    first = Trainer(_args(corpus, tmp_path / "b", 6), log=said.append)
    _send_on_call(monkeypatch, first.optimizer, "step", signals, on_call=3)
    with pytest.raises(SystemExit) as stop:
        first.run()
    assert stop.value.code == 128 + signals[0]
    assert first.step == 3 and _saved_step(tmp_path / "b") == 3
    assert any("--resume" in line for line in said)
    err = capfd.readouterr().err
    assert "finishing this step" in err and "Traceback" not in err
    if len(signals) == 2:
        assert "again: still stopping" in err

    resumed = Trainer(_args(corpus, tmp_path / "b", 6, resume=True), **QUIET)
    assert resumed.step == 3
    resumed.run()
    _same_weights(straight, resumed)


def test_a_second_ctrl_c_during_the_save_waits_for_it(corpus, tmp_path, monkeypatch, capfd):
    """Ctrl-C at step 2, and again while the checkpoint is being written: the save
    completes (a whole checkpoint of step 2), then the run exits with 130."""
    import transformer.trainer as loop

    trainer = Trainer(_args(corpus, tmp_path / "r", 6), **QUIET)
    _send_on_call(monkeypatch, trainer.optimizer, "step", [signal.SIGINT], on_call=2)
    _send_on_call(monkeypatch, loop, "save_checkpoint", [signal.SIGINT])
    with pytest.raises(SystemExit) as stop:
        trainer.run()
    assert stop.value.code == 130
    assert _saved_step(tmp_path / "r") == 2
    err = capfd.readouterr().err
    assert "again: still stopping" in err and "Traceback" not in err


def test_ctrl_c_during_a_periodic_save_stops_after_it(corpus, tmp_path, monkeypatch):
    import transformer.trainer as loop

    trainer = Trainer(_args(corpus, tmp_path / "r", 6, eval_every=2), **QUIET)
    _send_on_call(monkeypatch, loop, "save_checkpoint", [signal.SIGTERM])
    with pytest.raises(SystemExit) as stop:
        trainer.run()
    assert stop.value.code == 143 and _saved_step(tmp_path / "r") == 2


def test_ctrl_c_during_a_periodic_evaluation_abandons_it(corpus, tmp_path, monkeypatch):
    """The evaluation at step 2 is cut short (it only reads the model); step 2 is saved,
    and the resumed run ends as if nothing happened."""
    straight = Trainer(_args(corpus, tmp_path / "a", 6, eval_every=2), **QUIET)
    straight.run()
    first = Trainer(_args(corpus, tmp_path / "b", 6, eval_every=2), **QUIET)
    _send_on_call(monkeypatch, Trainer, "measure", [signal.SIGINT])
    with pytest.raises(SystemExit) as stop:
        first.run()
    assert stop.value.code == 130 and _saved_step(tmp_path / "b") == 2
    assert first.metrics == []  # the abandoned evaluation left no row
    monkeypatch.undo()
    resumed = Trainer(_args(corpus, tmp_path / "b", 6, resume=True, eval_every=2), **QUIET)
    resumed.run()
    _same_weights(straight, resumed)
    assert [m["step"] for m in resumed.metrics] == [4, 6]


def test_ctrl_c_during_the_final_evaluation_keeps_the_checkpoint(corpus, tmp_path, monkeypatch,
                                                                 capfd):
    """After the last step the checkpoint is written first; a Ctrl-C in the validation
    that follows ends the command with one line and status 130, no traceback."""
    out = tmp_path / "run"
    _send_on_call(monkeypatch, Trainer, "measure", [signal.SIGINT])
    with pytest.raises(SystemExit) as stop:
        main(_argv(corpus, out, "--steps", "3"))
    assert stop.value.code == 130
    assert _saved_step(out) == 3
    captured = capfd.readouterr()
    said = [line for line in captured.out.splitlines() if "during" in line]
    assert len(said) == 1 and "Ctrl-C during the final evaluation" in said[0]
    assert "python -m transformer evaluate --out" in said[0]
    assert "Traceback" not in captured.err
    assert not (out / "test_scores.json").exists()


def test_sigterm_during_the_test_report_keeps_the_checkpoint(corpus, tmp_path, monkeypatch,
                                                             capfd):
    out = tmp_path / "run"
    _send_on_call(monkeypatch, Trainer, "_final_report", [signal.SIGTERM])
    with pytest.raises(SystemExit) as stop:
        main(_argv(corpus, out, "--steps", "3"))
    assert stop.value.code == 143
    state = load_checkpoint(str(out / "checkpoint.npz"))
    assert state["step"] == 3 and [m["step"] for m in state["metrics"]] == [3]
    captured = capfd.readouterr()
    assert "SIGTERM during the test report" in captured.out
    assert "Traceback" not in captured.err


def test_ctrl_c_outside_training_is_one_line(corpus, tmp_path, monkeypatch, capsys):
    """Before training starts (here: while the tokenizer trains) nothing needs saving:
    the command says 'interrupted' and exits with 130."""
    import transformer.trainer as loop

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop.BPETokenizer, "train", interrupted)
    assert main(_argv(corpus, tmp_path / "run", "--steps", "3")) == 130
    assert capsys.readouterr().err.strip() == "interrupted (Ctrl-C)"


@pytest.mark.parametrize("signals", [[signal.SIGTERM], [signal.SIGINT, signal.SIGINT]],
                         ids=["sigterm", "two ctrl-c"])
def test_real_signals_to_a_training_process(corpus, tmp_path, signals):
    """A real process, real signals: SIGTERM (how schedulers stop a job) and a double
    Ctrl-C both end with a saved checkpoint, the resume hint and no traceback."""
    out = tmp_path / "run"
    argv = _argv(corpus, out, "--minutes", "3")  # runs until stopped
    proc = subprocess.Popen([sys.executable, "-m", "transformer", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        seen = []
        for line in proc.stdout:  # wait until the handlers are installed
            seen.append(line)
            if line.startswith("training from step"):
                break
        assert seen and seen[-1].startswith("training from step"), (seen, proc.stderr.read())
        for s in signals:
            proc.send_signal(s)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signals[0], err
    assert "Traceback" not in err and "--resume" in rest
    step = _saved_step(out)  # (0 if the signal came before the first step: still resumable)
    resumed = Trainer(_args(corpus, out, step + 1, resume=True), **QUIET)
    resumed.run()
    assert resumed.step == step + 1
