"""The translator's training run and CLI: exact resume, checkpoints, clear user errors."""

import numpy as np
import pytest

import tinytorch as tt
from transformer.__main__ import main
from transformer.cli_args import UsageError
from transformer.train import TrainArgs, Trainer


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
        assert weights.shape == (2, cfg.nhead) + shapes[kind]
        assert weights.shape == (2, cfg.nhead, len(rows), len(cols))
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


def test_every_train_option_is_a_flag(capsys, corpus):
    """build_parser derives the train options from TrainArgs: each field has a flag, with
    the field's default, and the flags keep their names (--heads, --ff, --no-progress)."""
    from dataclasses import fields

    from transformer.__main__ import build_parser

    parser = build_parser()
    train = parser.parse_args(["train"])
    for f in fields(TrainArgs):
        assert getattr(train, f.name) == f.default, f.name
    given = parser.parse_args(["train", "--plain", "--heads", "2", "--ff", "32", "--no-progress",
                               "--size", "tiny", "--minutes", "0.5", "--data", str(corpus)])
    assert given.plain and given.nhead == 2 and given.dim_feedforward == 32
    assert given.progress is False and given.size == "tiny" and given.minutes == 0.5
    assert given.data == str(corpus)
    with pytest.raises(UsageError, match="--size: invalid choice: 'huge'"):
        parser.parse_args(["train", "--size", "huge"])
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    shown = capsys.readouterr().out.split()
    for flag in ("--data", "--out", "--size", "--d-model", "--heads", "--layers", "--ff",
                 "--dropout", "--vocab-size", "--max-len", "--steps", "--minutes", "--batch-tokens",
                 "--lr", "--warmup", "--label-smoothing", "--clip", "--eval-every", "--beam",
                 "--seed", "--device", "--resume", "--overwrite", "--no-progress", "--plain"):
        assert flag in shown, flag


def test_translate_refuses_options_it_would_ignore(corpus, tmp_path, capsys):
    """Sampling options without --sample, --sample with a beam, a sentence with --file:
    each would be silently ignored, so each is one line and exit 2."""
    out = tmp_path / "run"
    Trainer(_args(corpus, out, 2), log=lambda *a: None).run()
    lines = tmp_path / "lines.txt"
    lines.write_text("Hello world.\n", encoding="utf-8")
    for argv, words in ((["--top-p", "0.9"], "--top-p only changes sampling: add --sample"),
                        (["--temperature", "0.5"], "--temperature only changes sampling"),
                        (["--sample", "--beam", "4"], "--sample and --beam 4: choose one"),
                        (["--file", str(lines)], "give one of them")):
        assert main(["translate", "--out", str(out), *argv, "Hello world."]) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and words in err, err
    assert main(["translate", "--out", str(out), "--attention-text"]) == 2  # (stdin: no)
    assert "need a sentence" in capsys.readouterr().err
    assert main(["translate", "--out", str(out), "--sample", "--top-p", "0.5", "--top-k", "3",
                 "--temperature", "0.7", "Hello world."]) == 0
    assert main(["translate", "--out", str(out), "--file", str(lines)]) == 0
    assert capsys.readouterr().err == ""


def test_a_sentence_longer_than_the_model_reads_is_cut_with_a_warning(corpus, tmp_path, capsys):
    """The model reads at most max_len - 1 tokens (plus eos). A longer sentence is
    translated from its first tokens, and stderr says so in one line per sentence; the
    other lines of a --file are translated as usual (refusing would lose them)."""
    from transformer.checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint

    out = tmp_path / "run"
    Trainer(_args(corpus, out, 2), log=lambda *a: None).run()
    model, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(out)))
    limit = model.config.max_len - 1
    long = " ".join(["bread"] * 2000)
    n = len(tok.encode(long))
    assert main(["translate", "--out", str(out), long]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"warning: the sentence has {n} tokens and the model reads at most {limit}: only its "
        f"first {limit} tokens were translated (split long text into sentences)"]
    assert len(captured.out.splitlines()) == 1
    lines = tmp_path / "lines.txt"
    lines.write_text(f"Hello world.\n{long}\nGood night.\n", encoding="utf-8")
    assert main(["translate", "--out", str(out), "--file", str(lines)]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 3
    assert len(captured.err.splitlines()) == 1 and "sentence 2 has" in captured.err
    assert main(["attention", "--out", str(out), "--kind", "cross", long]) == 0
    assert "warning: the sentence has" in capsys.readouterr().err


def test_translate_attention_png(corpus, tmp_path, capsys):
    """--attention writes the PNG it names (making its folder) and prints that name; a
    directory or a name without .png is refused (it used to write DIR.png)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    Trainer(_args(corpus, out, 2), log=lambda *a: None).run()
    png = tmp_path / "maps" / "att.png"
    assert main(["translate", "--out", str(out), "--attention", str(png), "Hello world."]) == 0
    assert png.exists() and f"attention map: {png}" in capsys.readouterr().out
    for bad in (str(tmp_path), str(tmp_path / "att.txt")):
        assert main(["translate", "--out", str(out), "--attention", bad, "Hello world."]) == 2
        assert "--attention: expected a file name ending in .png" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".png") == []


def test_a_closed_output_pipe_is_not_a_traceback(monkeypatch, capsys):
    """`python -m transformer attention ... | head -3`: head stops reading, the next print
    raises BrokenPipeError; the command ends quietly with status 1."""
    import transformer.__main__ as cli

    def closed_pipe(a):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "cmd_evaluate", closed_pipe)
    assert main(["evaluate"]) == 1
    assert capsys.readouterr().err == ""
