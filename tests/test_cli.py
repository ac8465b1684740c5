"""The translator's training run and CLI: exact resume, checkpoints, clear user errors."""

import numpy as np
import pytest

import tinytorch as tt
from transformer.__main__ import main
from transformer.train import TrainArgs, Trainer

PAIRS = [("Hello world.", "Hola mundo."), ("Good night.", "Buenas noches."),
         ("I eat bread.", "Yo como pan."), ("She eats bread.", "Ella come pan."),
         ("We eat fish.", "Nosotros comemos pescado."), ("The dog sleeps.", "El perro duerme."),
         ("The cat sleeps.", "El gato duerme."), ("Thank you.", "Gracias.")] * 8


@pytest.fixture
def corpus(tmp_path):
    f = tmp_path / "pairs.tsv"
    f.write_text("".join(f"{en}\t{es}\n" for en, es in PAIRS), encoding="utf-8")
    return f


def _args(corpus, out, steps, resume=False):
    return TrainArgs(data=str(corpus), out=str(out), size="tiny", vocab_size=300, steps=steps,
                     minutes=None, batch_tokens=200, warmup=5, eval_every=1000, dropout=0.1,
                     resume=resume, progress=False)


def _weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def test_interrupted_and_resumed_run_is_bit_identical(corpus, tmp_path):
    """Dropout, data order and optimizer state all continue exactly from the checkpoint."""
    quiet = dict(log=lambda *a: None)
    straight = Trainer(_args(corpus, tmp_path / "a", 8), **quiet)
    straight.run()
    first = Trainer(_args(corpus, tmp_path / "b", 3), **quiet)
    first.run()
    tt.manual_seed(12345)  # a different global state before resuming must not matter
    resumed = Trainer(_args(corpus, tmp_path / "b", 8, resume=True), **quiet)
    assert resumed.step == 3
    resumed.run()
    a, b = _weights(straight), _weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert [m["step"] for m in resumed.metrics] == [3, 8]


def test_cli_translate_and_errors(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    Trainer(_args(corpus, out, 2), log=lambda *a: None).run()
    assert main(["translate", "--out", str(out), "Hello world."]) == 0
    assert main(["translate", "--out", str(out), "--attention-text", "Hello world."]) == 0
    assert "cross-attention, layer 1, head 1" in capsys.readouterr().out
    # user mistakes: one line on stderr, exit status 2
    assert main(["translate", "--out", str(tmp_path / "nothing"), "Hi."]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint at all")
    assert main(["translate", "--checkpoint", str(bad), "Hi."]) == 2
    assert "bad.npz" in capsys.readouterr().err
    assert main(["train", "--data", str(tmp_path / "missing.tsv")]) == 2
    assert "missing.tsv" in capsys.readouterr().err
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n", encoding="utf-8")
    assert main(["train", "--data", str(empty), "--out", str(tmp_path / "e")]) == 2
    assert "empty" in capsys.readouterr().err
    if not tt.cuda.is_available():
        assert main(["translate", "--out", str(out), "--device", "cuda", "Hi."]) == 2
        assert "CuPy" in capsys.readouterr().err


def test_every_command_has_help(capsys):
    for cmd in ("train", "translate", "evaluate"):
        with pytest.raises(SystemExit) as e:
            main([cmd, "--help"])
        assert e.value.code == 0
        assert "usage" in capsys.readouterr().out


def test_ctrl_c_finishes_the_step_saves_and_resumes_exactly(corpus, tmp_path, monkeypatch):
    """SIGINT arrives in the middle of step 3 (after backward, before the optimizer):
    the step completes, the checkpoint is saved, the run exits with 130 and says how to
    resume; the resumed run ends bit-identical to an uninterrupted one."""
    import os
    import signal

    straight = Trainer(_args(corpus, tmp_path / "a", 6), log=lambda *a: None)
    straight.run()

    said = []
    first = Trainer(_args(corpus, tmp_path / "b", 6), log=said.append)
    calls = {"n": 0}
    real_step = first.optimizer.step

    def step_with_ctrl_c(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)  # delivered here, mid-step
        return real_step(*args, **kwargs)

    monkeypatch.setattr(first.optimizer, "step", step_with_ctrl_c)
    with pytest.raises(SystemExit) as exit_info:
        first.run()
    assert exit_info.value.code == 130
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored
    assert first.step == 3
    assert any("--resume" in line for line in said)

    resumed = Trainer(_args(corpus, tmp_path / "b", 6, resume=True), log=lambda *a: None)
    assert resumed.step == 3
    resumed.run()
    a, b = _weights(straight), _weights(resumed)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
