"""One --out directory holds one run: a new run does not overwrite or append to an old
one, --overwrite starts over, --resume continues only with the options the run had."""

import importlib.util
import json

import pytest

from transformer.__main__ import main
from transformer.checkpoint import load_checkpoint
from transformer.train import TrainArgs, Trainer


def _train(corpus, out, *extra):
    return ["train", "--data", str(corpus), "--out", str(out), "--size", "tiny",
            "--vocab-size", "300", "--batch-tokens", "200", "--warmup", "5", "--eval-every", "1000",
            "--no-progress", *extra]


def _rows(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def test_a_new_run_refuses_a_directory_that_holds_one(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_train(corpus, out, "--steps", "2")) == 0
    saved = {p.name: p.read_bytes() for p in out.iterdir()}
    plot = {"loss.png"} if importlib.util.find_spec("matplotlib") else set()  # (an extra)
    assert set(saved) == {"checkpoint.npz", "metrics.jsonl", "test_scores.json"} | plot
    capsys.readouterr()
    assert main(_train(corpus, out, "--steps", "3")) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "holds a training run" in err and "--resume" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == saved  # untouched

    # metrics.jsonl alone is a run too (a run stopped before its first checkpoint)
    only_metrics = tmp_path / "m"
    only_metrics.mkdir()
    (only_metrics / "metrics.jsonl").write_text("{}\n")
    assert main(_train(corpus, only_metrics, "--steps", "1")) == 2
    assert "metrics.jsonl" in capsys.readouterr().err


def test_overwrite_starts_over(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_train(corpus, out, "--steps", "2")) == 0
    (out / "notes.txt").write_text("mine")
    (out / ".checkpoint.npz.abc123.tmp").write_bytes(b"left by a killed save")
    assert main(_train(corpus, out, "--steps", "3", "--overwrite")) == 0
    assert [r["step"] for r in _rows(out)] == [3]          # not [2, 3]: a new metrics file
    assert load_checkpoint(str(out / "checkpoint.npz"))["step"] == 3
    assert (out / "notes.txt").read_text() == "mine"        # only the run's files go
    assert not (out / ".checkpoint.npz.abc123.tmp").exists()


def test_resume_refuses_other_model_data_or_batching_options(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(_train(corpus, out, "--steps", "2")) == 0
    before = (out / "checkpoint.npz").read_bytes()
    other = tmp_path / "other.tsv"
    other.write_text("Yes.\tSí.\n" * 40, encoding="utf-8")
    capsys.readouterr()
    argv = _train(corpus, out, "--steps", "4", "--resume", "--size", "small", "--batch-tokens",
                  "300", "--data", str(other), "--lr", "0.01")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    for said in ("--size was tiny, now small", "--batch-tokens was 200, now 300",
                 f"--data was {corpus}, now {other}", "--lr was 0.001, now 0.01"):
        assert said in err, (said, err)
    assert (out / "checkpoint.npz").read_bytes() == before


def test_resume_may_change_the_budget_and_display_options(corpus, tmp_path, capsys, monkeypatch):
    """--steps, --minutes, --eval-every, --beam, --no-progress, --plain and --out (the same
    corpus by another path) may change; the metrics file keeps one row per evaluation."""
    out = tmp_path / "run"
    assert main(_train(corpus, out, "--steps", "2")) == 0
    monkeypatch.chdir(tmp_path)  # --data given relative to another directory: same file
    argv = ["train", "--data", "pairs.tsv", "--out", "run", "--size", "tiny", "--vocab-size",
            "300", "--batch-tokens", "200", "--warmup", "5", "--resume", "--steps", "4",
            "--eval-every", "3", "--beam", "2", "--plain"]
    assert main(argv) == 0, capsys.readouterr().err
    assert [r["step"] for r in _rows(out)] == [2, 3, 4]


def test_resume_without_a_checkpoint_is_one_line(corpus, tmp_path, capsys):
    assert main(_train(corpus, tmp_path / "none", "--steps", "2", "--resume")) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "no checkpoint" in err
    assert not (tmp_path / "none").exists()


def test_resume_at_the_end_rewrites_metrics_from_the_checkpoint(corpus, tmp_path, capsys):
    """A resumed run that has nothing left to train (the budget is spent) reports again
    without crashing, and metrics.jsonl says what the checkpoint says."""
    out = tmp_path / "run"
    assert main(_train(corpus, out, "--steps", "2")) == 0
    with open(out / "metrics.jsonl", "a") as f:  # a row written after the checkpoint
        f.write(json.dumps({"step": 99}) + "\n")
    assert main(_train(corpus, out, "--steps", "2", "--resume")) == 0
    assert [r["step"] for r in _rows(out)] == [2]


@pytest.mark.parametrize("budget", [["--steps", "0"], ["--minutes", "0"]])
def test_a_zero_budget_is_refused(corpus, tmp_path, capsys, budget):
    """Zero steps would only evaluate an untrained model (and used to crash on the
    missing metrics.jsonl): refused before anything is written."""
    assert main(_train(corpus, tmp_path / "z", *budget)) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and budget[0] in err
    assert "an int >= 1" in err or "a finite float > 0" in err
    assert not (tmp_path / "z").exists()


def test_the_checkpoint_records_data_as_an_absolute_path(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(corpus.parent)
    args = TrainArgs(data="pairs.tsv", out=str(tmp_path / "r"), size="tiny", vocab_size=300,
                     steps=1, minutes=None, batch_tokens=200, warmup=5, progress=False)
    Trainer(args, log=lambda *a: None).run()
    saved = load_checkpoint(str(tmp_path / "r" / "checkpoint.npz"))["train_args"]
    assert saved["data"] == str(corpus)


@pytest.mark.parametrize("damage", ["no optimizer", "bad rng", "bad config", "bad weights"])
def test_resume_from_a_damaged_checkpoint_is_one_line(corpus, tmp_path, capsys, damage):
    """Every entry --resume reads is checked: one line, exit 2, nothing written."""
    import tinytorch as tt

    out = tmp_path / "run"
    assert main(_train(corpus, out, "--steps", "1")) == 0
    path = out / "checkpoint.npz"
    state = load_checkpoint(str(path))
    if damage == "no optimizer":
        del state["optimizer"]
    elif damage == "bad rng":
        state["rng"] = {"bit_generator": "nonsense"}
    elif damage == "bad config":
        state["config"]["nhead"] = -1
    else:
        name = next(iter(state["model"]))
        state["model"][name] = tt.zeros(3)
    tt.save(state, str(path))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    assert main(_train(corpus, out, "--steps", "2", "--resume")) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "checkpoint.npz" in err, err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_dropout_one_trains_like_pytorch_accepts_it(corpus, tmp_path, capsys):
    """--dropout 1.0 (PyTorch accepts p = 1): every dropout, attention's too, outputs zeros;
    the run trains and saves without a ZeroDivisionError."""
    out = tmp_path / "run"
    assert main(_train(corpus, out, "--steps", "2", "--dropout", "1.0", "--beam", "1")) == 0
    assert load_checkpoint(str(out / "checkpoint.npz"))["step"] == 2


def test_out_of_memory_is_one_line_not_a_traceback(corpus, tmp_path, capsys, monkeypatch):
    """Sizes too large for the machine (say --d-model 1000000) end in MemoryError somewhere
    in NumPy: the CLI says so in one line and exits 2."""
    def too_big(self, *args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(Trainer, "__init__", too_big)
    assert main(_train(corpus, tmp_path / "run", "--steps", "1")) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "out of memory" in err and "--d-model" in err
    assert main(_train(corpus, tmp_path / "run2", "--max-len", "100000")) == 2
    assert "--max-len: expected an int in [1, 4096]" in capsys.readouterr().err
