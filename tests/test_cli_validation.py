"""Every option of every command refuses bad values the same way: one line on stderr that
names the option and the values it accepts, exit status 2, no traceback, and nothing
written or changed under --out.

The bad values are drawn from each option's own rule (transformer/cli_args.py), found by
walking the parser, so a new option is covered as soon as it is declared, and an option
declared without a rule fails ``test_every_option_declares_its_values``. The CLI runs
in-process (``main(argv)``), so each example takes milliseconds.
"""

import hashlib
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_corpus import write_corpus

from transformer.__main__ import build_parser, main
from transformer.cli_args import Number, Path, directory, existing_file, existing_path, png_file
from transformer.train import TrainArgs, Trainer

# Options that take any text at all.
FREE_TEXT = {("attention", "--target")}


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """A corpus, a trained run (2 steps of a tiny model) and the bad paths, made once."""
    root = tmp_path_factory.mktemp("cli")
    corpus = root / "pairs.tsv"
    write_corpus(corpus)
    run = root / "run"
    Trainer(TrainArgs(data=str(corpus), out=str(run), size="tiny", vocab_size=300, steps=2,
                      minutes=None, batch_tokens=200, warmup=5, eval_every=1000,
                      progress=False), log=lambda *a: None).run()
    (root / "a_dir").mkdir()
    (root / "maps.png").mkdir()                                  # a directory named like a PNG
    (root / "latin1.txt").write_bytes("Buenos días\n".encode("latin-1"))
    (root / "blank.txt").write_text("\n\n", encoding="utf-8")
    return {"root": root, "corpus": str(corpus), "run": str(run),
            "file": str(corpus), "dir": str(root / "a_dir"), "missing": str(root / "missing"),
            "png_dir": str(root / "maps.png"), "under_file": str(corpus / "run")}


def _argv(command, place, option, value):
    """A valid command line with ``option value`` added (the last value of an option wins)."""
    run = place["run"]
    if command == "train":  # continues the saved run: a value wrongly accepted would train
        return ["train", "--data", place["corpus"], "--out", run, "--resume", "--size", "tiny",
                "--vocab-size", "300", "--batch-tokens", "200", "--warmup", "5",
                "--eval-every", "1000", "--steps", "3", "--no-progress", option, value]
    sentence = [] if command == "evaluate" or option == "--file" else ["Hello world."]
    return [command, "--out", run, option, value, *sentence]


def _options():
    """(command, option string, argparse action) for every option that takes a value."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for command, sub in subparsers.items():
        for action in sub._actions:
            if action.option_strings and action.nargs != 0:  # not --help, not a switch
                yield command, action.option_strings[0], action


OPTIONS = list(_options())


def test_every_option_declares_its_values():
    """Each option that takes a value has a rule (its type) or choices, unless it takes
    any text; every train option is one of them."""
    undeclared = [(c, o) for c, o, a in OPTIONS
                  if a.choices is None and not isinstance(a.type, Number | Path)
                  and (c, o) not in FREE_TEXT]
    assert undeclared == []
    assert len([o for c, o, _ in OPTIONS if c == "train"]) >= 20


def _bad_numbers(rule: Number):
    """Text that is not a number of the rule's kind, or a number outside its interval."""
    words = ["", "x", "1,5", "nan"]
    words += ["inf"] if rule.finite or rule.high is not None else []
    words += ["-inf"] if rule.finite or rule.low is not None else []
    out = [st.sampled_from(words)]
    if rule.kind is int:
        out.append(st.sampled_from(["2.5", "1e3", "0x10"]))
    if rule.low is not None:
        if rule.kind is int:
            out.append(st.integers(max_value=int(rule.low) - 1).map(str))
        else:
            out.append(st.floats(max_value=rule.low, exclude_max=not rule.low_open).map(repr))
    if rule.high is not None:
        out.append(st.floats(min_value=rule.high, exclude_min=not rule.high_open,
                             allow_nan=False).map(repr))
    return st.one_of(out)


def _bad_paths(rule: Path, option: str, place):
    """(value, what the message must say) for a path rule; --file is also read."""
    bad = {existing_path: ["missing"], existing_file: ["missing", "dir"],
           directory: ["file", "under_file"], png_file: ["dir", "png_dir"]}[rule]
    values = [(place[k], rule.describe()) for k in bad]
    if rule is png_file:
        values += [("attention.txt", rule.describe()), ("attention", rule.describe())]
    if option == "--file":
        values += [(str(place["root"] / "latin1.txt"), "not UTF-8"),
                   (str(place["root"] / "blank.txt"), "no sentences")]
    return st.sampled_from(values)


def _bad_values(option, action, place):
    """A strategy of (bad value as typed, a phrase the error line must contain)."""
    if action.choices is not None:
        return st.text(max_size=8).filter(lambda t: t not in action.choices).map(
            lambda t: (t, "one of" if t.startswith("-") else "choose from"))
    if isinstance(action.type, Number):
        return _bad_numbers(action.type).map(lambda t: (t, action.type.describe()))
    return _bad_paths(action.type, option, place)


def _snapshot(root):
    """Every file under ``root`` with its size, time and digest."""
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            found[path] = (os.path.getsize(path), os.stat(path).st_mtime_ns, digest)
    return found


@pytest.mark.parametrize("command,option,action", [pytest.param(*o, id=f"{o[0]} {o[1]}")
                                                   for o in OPTIONS
                                                   if (o[0], o[1]) not in FREE_TEXT])
@settings(max_examples=10, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bad_value_is_one_line_and_exit_2(command, option, action, place, capsys, data):
    value, allowed = data.draw(_bad_values(option, action, place), label="value")
    before = _snapshot(place["root"])
    capsys.readouterr()
    code = main(_argv(command, place, option, value))
    out, err = capsys.readouterr()
    assert code == 2, (option, value, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and option in lines[0] and allowed in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert _snapshot(place["root"]) == before


def test_values_at_the_edges_are_accepted(place):
    """The rules are not stricter than they say: p = 1 (PyTorch accepts it), p = 0, top_p
    = 1, temperature tiny, seed 0, clip inf (no clipping)."""
    parser = build_parser()
    a = parser.parse_args(["train", "--dropout", "1", "--label-smoothing", "0", "--seed", "0",
                           "--clip", "inf", "--vocab-size", "261", "--max-len", "1"])
    assert a.dropout == 1.0 and a.clip == math.inf
    TrainArgs(dropout=1.0, label_smoothing=0.0, seed=0, clip=math.inf, max_len=1).validate()
    TrainArgs(dropout=0.0).validate()
    t = parser.parse_args(["translate", "--sample", "--top-p", "1", "--top-k", "1",
                           "--temperature", "1e-3", "Hi."])
    assert (t.top_p, t.top_k, t.temperature) == (1.0, 1, 1e-3)


@pytest.mark.parametrize("options,words", [
    (["--d-model", "30"], ["--d-model 30", "--heads 4", "multiple of 4"]),
    (["--heads", "3"], ["--d-model 64 (from --size tiny)", "--heads 3"]),
    (["--batch-tokens", "100"], ["--batch-tokens 100", "--max-len 64", ">= 129"]),
    (["--max-len", "200"], ["--batch-tokens 200", "--max-len 200", ">= 401"]),
    (["--vocab-size", "270"], ["--vocab-size 270", "at least", "distinct characters"]),
    (["--resume", "--overwrite"], ["--resume and --overwrite"]),
])
def test_options_that_do_not_fit_together(place, tmp_path, capsys, options, words):
    """Rules between options, and the corpus's own minimum vocabulary: one line, exit 2,
    the new --out not even created."""
    out = tmp_path / "new"
    argv = ["train", "--data", place["corpus"], "--out", str(out), "--size", "tiny",
            "--vocab-size", "300", "--batch-tokens", "200", "--steps", "1", "--no-progress"]
    assert main(argv + options) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and all(w in err for w in words), err
    assert not out.exists()


def test_train_args_from_python_are_checked_too(tmp_path):
    """Trainer(TrainArgs(...)) refuses what the CLI refuses, before writing anything."""
    from transformer.cli_args import UsageError

    out = tmp_path / "run"
    for bad in (dict(nhead=0), dict(dropout=1.5), dict(lr=float("nan")), dict(seed=-1),
                dict(steps=0), dict(minutes=0.0), dict(size="huge"), dict(batch_tokens=True)):
        with pytest.raises(UsageError, match="expected"):
            Trainer(TrainArgs(out=str(out), **bad), log=lambda *a: None)
    assert not out.exists()
