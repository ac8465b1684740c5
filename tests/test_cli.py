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
    for cmd in ("train", "translate", "evaluate", "attention"):
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


def test_attention_command_shows_every_kind_layer_and_head(corpus, tmp_path, capsys):
    from transformer.attention_maps import attention_maps
    from transformer.checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint

    out = tmp_path / "run"
    Trainer(_args(corpus, out, 2), log=lambda *a: None).run()
    plots = tmp_path / "plots"
    try:
        import matplotlib  # noqa: F401
        plot = ["--plot", str(plots)]
    except ImportError:  # without it, --plot is a clear user error
        assert main(["attention", "--out", str(out), "--plot", str(plots), "Hi."]) == 2
        assert "matplotlib" in capsys.readouterr().err
        plot = []
    assert main(["attention", "--out", str(out), "--lang", "es", "--target", "Hola mundo.",
                 *plot, "Hello world."]) == 0
    printed = capsys.readouterr().out
    model, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(out)), str(out), "cpu")
    cfg = model.config
    for kind in ("autoatención del codificador", "autoatención enmascarada del decodificador",
                 "atención cruzada"):
        for layer in range(1, cfg.num_encoder_layers + 1):
            for head in range(1, cfg.nhead + 1):
                assert f"{kind}, capa {layer}, cabeza {head} " in printed
    if plot:
        assert {p.name for p in plots.iterdir()} == {
            "attention-encoder.png", "attention-decoder.png", "attention-cross.png"}

    maps = attention_maps(model, tok, "Hello world.", tok.encode("Hola mundo."))
    n_src = len(tok.encode("Hello world.")) + 1       # + eos
    n_tgt = len(tok.encode("Hola mundo.")) + 1        # bos + tokens / tokens + eos
    shapes = {"encoder": (n_src, n_src), "decoder": (n_tgt, n_tgt), "cross": (n_tgt, n_src)}
    for kind, (weights, rows, cols) in maps.items():
        assert weights.shape == (2, cfg.nhead) + shapes[kind] == (2, cfg.nhead, len(rows), len(cols))
        np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-5)   # each query's weights
    decoder = maps["decoder"][0]
    assert (decoder[..., np.triu_indices(n_tgt, 1)[0], np.triu_indices(n_tgt, 1)[1]] == 0).all()
    assert main(["attention", "--out", str(out), "--layer", "9", "Hi."]) == 2
    assert "--layer 9" in capsys.readouterr().err


def test_plain_trains_on_the_textbook_paths(corpus, tmp_path, monkeypatch):
    """--plain: every training step runs with fast paths off; afterwards they are back on."""
    seen = []
    real_step = Trainer.train_step

    def recording_step(self, batch):
        seen.append(tt.fast_paths_enabled())
        return real_step(self, batch)

    monkeypatch.setattr(Trainer, "train_step", recording_step)
    args = _args(corpus, tmp_path / "plain", 3)
    args.plain = True
    trainer = Trainer(args, log=lambda *a: None)
    trainer.run()
    assert seen == [False, False, False]
    assert tt.fast_paths_enabled()
    assert (tmp_path / "plain" / "checkpoint.npz").exists()

    seen.clear()
    Trainer(_args(corpus, tmp_path / "fast", 2), log=lambda *a: None).run()
    assert seen == [True, True]


def test_every_train_option_is_a_flag(capsys):
    """build_parser derives the train options from TrainArgs: each field has a flag, with
    the field's default, and the flags keep their names (--heads, --ff, --no-progress)."""
    from dataclasses import fields

    from transformer.__main__ import build_parser

    parser = build_parser()
    train = parser.parse_args(["train"])
    for f in fields(TrainArgs):
        assert getattr(train, f.name) == f.default, f.name
    given = parser.parse_args(["train", "--plain", "--heads", "2", "--ff", "32", "--no-progress",
                               "--size", "tiny", "--minutes", "0.5", "--data", "x.tsv"])
    assert given.plain and given.nhead == 2 and given.dim_feedforward == 32
    assert given.progress is False and given.size == "tiny" and given.minutes == 0.5
    assert given.data == "x.tsv"
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--size", "huge"])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    shown = capsys.readouterr().out.split()
    for flag in ("--data", "--out", "--size", "--d-model", "--heads", "--layers", "--ff",
                 "--dropout", "--vocab-size", "--max-len", "--steps", "--minutes", "--batch-tokens",
                 "--lr", "--warmup", "--label-smoothing", "--clip", "--eval-every", "--beam",
                 "--seed", "--device", "--resume", "--no-progress", "--plain"):
        assert flag in shown, flag
