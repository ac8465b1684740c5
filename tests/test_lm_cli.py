"""The language model (GPT-style) from the command line: ``lm train`` and ``lm generate``.

Training reads sentences from a text file, a TSV column or a corpus directory; every
evaluation writes the validation perplexity and reproducible samples; an interrupted run
(steps split in two, Ctrl-C, SIGTERM) resumes to the same weights as an uninterrupted one.
Generation prints N samples per prompt from one batch, with the KV cache (the same tokens
as without it), reproducible with --seed; greedy equals ``generate()`` on the checkpoint.
Every mistake is one line on stderr and exit status 2. Tiny models on tests/tiny_corpus.py
(a few seconds per run).
"""

import json
import math
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from tiny_corpus import PAIRS, write_corpus

import tinytorch as tt
import transformer.language_model as language_model
from transformer.__main__ import main
from transformer.checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint
from transformer.generate import generate
from transformer.language_model import LanguageModelTrainer, LMTrainArgs
from transformer.lm_cli import printable

QUIET = dict(log=lambda *a: None)
TINY = ["--size", "tiny", "--vocab-size", "300", "--batch-tokens", "200", "--warmup", "5",
        "--no-progress"]


def _train_argv(data, out, *extra):
    return ["lm", "train", "--data", str(data), "--out", str(out), *TINY, *extra]


def _args(data, out, steps, **kw):
    return LMTrainArgs(data=str(data), out=str(out), size="tiny", vocab_size=300, steps=steps,
                       minutes=None, batch_tokens=200, warmup=5, eval_every=1000, progress=False,
                       **kw)


def _rows(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def _weights(trainer):
    return {k: v.numpy().copy() for k, v in trainer.model.state_dict().items()}


def _same_weights(a, b):
    a, b = _weights(a), _weights(b)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One trained tiny language model (20 steps), shared by the generation tests."""
    root = tmp_path_factory.mktemp("lm")
    corpus = write_corpus(root / "pairs.tsv")
    out = root / "run"
    assert main(_train_argv(corpus, out, "--steps", "20", "--eval-every", "10")) == 0
    return out


# -- training ------------------------------------------------------------------------------------

def test_lm_train_writes_perplexity_samples_and_a_test_report(run, capsys):
    rows = _rows(run)
    assert [r["step"] for r in rows] == [10, 20]
    for r in rows:
        assert r["valid_ppl"] == pytest.approx(math.exp(r["valid_loss"]))
        assert len(r["samples"]) == 4 and r["samples"][0].startswith("El banco")
    assert rows[1]["valid_loss"] < rows[0]["valid_loss"]           # it learns
    scores = json.loads((run / "test_scores.json").read_text())
    assert scores["test_ppl"] == pytest.approx(math.exp(scores["test_loss"]))
    assert len(scores["samples"]) == 3
    state = load_checkpoint(str(run / "checkpoint.npz"))
    assert state["kind"] == "lm" and state["step"] == 20
    model, tok = model_from_checkpoint(state)
    assert type(model).__name__ == "DecoderOnly" and not model.config.norm_first  # post-LN
    assert model.config.num_decoder_layers == 2                     # --size tiny


def test_the_samples_are_reproducible(run):
    """The samples of an evaluation come from a fixed seed: the same model gives the same
    samples (and drawing them leaves the global random numbers alone)."""
    model, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(run)))
    prompts = language_model.sample_prompts(["Hola mundo.", "Yo como pan.", "Gracias."])
    state = tt.get_rng_state()
    first = language_model.continue_prompts(model, tok, prompts, **language_model.SAMPLE_OPTIONS)
    again = language_model.continue_prompts(model, tok, prompts, **language_model.SAMPLE_OPTIONS)
    assert first == again
    assert tt.get_rng_state()["state"] == state["state"]


@pytest.mark.parametrize("form", ["text", "tsv column by index", "tsv column by name",
                                  "directory"])
def test_lm_train_reads_text_tsv_and_directories(tmp_path, capsys, form):
    spanish = [es for _, es in PAIRS]
    if form == "text":
        data, extra = tmp_path / "es.txt", []
        data.write_text("\n".join(spanish) + "\n", encoding="utf-8")
    elif form.startswith("tsv"):
        data = tmp_path / "three.tsv"
        lines = ["id\tenglish\tspanish"] + [f"{i}\t{en}\t{es}" for i, (en, es) in enumerate(PAIRS)]
        data.write_text("\n".join(lines) + "\n", encoding="utf-8")
        extra = ["--column", "2" if "index" in form else "Spanish"]
        if "index" in form:  # (a header of names this corpus format does not know: data)
            data.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    else:
        data, extra = tmp_path / "corpus", []
        data.mkdir()
        write_corpus(data / "pairs.tsv")
        write_corpus(data / "valid.tsv", PAIRS[:3])
        write_corpus(data / "test.tsv", PAIRS[3:5])
    out = tmp_path / "run"
    assert main(_train_argv(data, out, "--steps", "2", *extra)) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "training sentences" in printed and "test (" in printed
    trainer_view = LanguageModelTrainer(_args(data, tmp_path / "again", 1, column=(
        extra[1] if extra else None)), **QUIET)
    sentences = trainer_view.splits["train"] + trainer_view.splits["valid"] + \
        trainer_view.splits["test"]
    assert set(sentences) <= set(spanish)                            # the Spanish side only
    if form == "directory":
        assert trainer_view.splits["valid"] == spanish[:3]
        assert trainer_view.splits["test"] == spanish[3:5]


def test_the_english_column_of_a_corpus_directory(tmp_path):
    """--column english on a header-less english<TAB>spanish directory (Tatoeba's layout)."""
    data = tmp_path / "corpus"
    data.mkdir()
    write_corpus(data / "pairs.tsv")
    trainer = LanguageModelTrainer(_args(data, tmp_path / "r", 1, column="english"), **QUIET)
    assert set(trainer.splits["train"]) <= {en for en, _ in PAIRS}


def test_resume_gives_the_weights_of_an_uninterrupted_run(corpus, tmp_path):
    straight = LanguageModelTrainer(_args(corpus, tmp_path / "a", 6), **QUIET)
    straight.run()
    LanguageModelTrainer(_args(corpus, tmp_path / "b", 3), **QUIET).run()
    tt.manual_seed(12345)  # a different global state before resuming must not matter
    resumed = LanguageModelTrainer(_args(corpus, tmp_path / "b", 6, resume=True), **QUIET)
    assert resumed.step == 3
    resumed.run()
    _same_weights(straight, resumed)
    assert [m["step"] for m in resumed.metrics] == [3, 6]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_saves_one_checkpoint_and_resumes_exactly(corpus, tmp_path, monkeypatch, signum):
    """The signal arrives in the middle of step 3: the step completes, one checkpoint is
    saved, the run exits with 128 + the signal and names `lm train --resume`."""
    import transformer.trainer as loop

    straight = LanguageModelTrainer(_args(corpus, tmp_path / "a", 6), **QUIET)
    straight.run()
    said, saves = [], []
    first = LanguageModelTrainer(_args(corpus, tmp_path / "b", 6), log=said.append)
    real_step, real_save = first.optimizer.step, loop.save_checkpoint

    def step():
        if first.step == 2:  # (the third step)
            os.kill(os.getpid(), signum)
        return real_step()

    monkeypatch.setattr(first.optimizer, "step", step)
    monkeypatch.setattr(loop, "save_checkpoint", lambda *a, **k: saves.append(1) or
                        real_save(*a, **k))
    with pytest.raises(SystemExit) as stop:
        first.run()
    assert stop.value.code == 128 + signum
    assert first.step == 3 and len(saves) == 1
    assert any("python -m transformer lm train --out" in line and "--resume" in line
               for line in said)
    monkeypatch.undo()
    resumed = LanguageModelTrainer(_args(corpus, tmp_path / "b", 6, resume=True), **QUIET)
    assert resumed.step == 3
    resumed.run()
    _same_weights(straight, resumed)


def test_sigterm_to_a_real_lm_train_process(corpus, tmp_path):
    out = tmp_path / "run"
    argv = _train_argv(corpus, out, "--minutes", "3", "--eval-every", "1000")
    proc = subprocess.Popen([sys.executable, "-m", "transformer", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in proc.stdout:  # wait until the handlers are installed
            if line.startswith("training from step"):
                break
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "lm train --out" in rest and "--resume" in rest
    assert load_checkpoint(str(out / "checkpoint.npz"))["kind"] == "lm"


# -- generation ----------------------------------------------------------------------------------

def test_printable_keeps_each_sample_on_one_line():
    assert printable("El banco\nestá\x0b\u2028") == "El banco\\nestá\\x0b\\u2028"
    assert printable("¿Dónde está?\t") == "¿Dónde está?\\t"


def _generate(run, capsys, *argv):
    code = main(["lm", "generate", "--out", str(run), *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out.splitlines()


def test_generate_prints_n_samples_reproducibly(run, capsys):
    argv = ["El banco", "--temperature", "0.8", "--top-k", "50", "--top-p", "0.9",
            "--max-new-tokens", "40", "--seed", "0", "--num-samples", "3"]
    lines = _generate(run, capsys, *argv)
    assert len(lines) == 3 and all(line.startswith("El banco") for line in lines)
    assert _generate(run, capsys, *argv) == lines
    others = [_generate(run, capsys, *argv[:-4], "--seed", str(s), "--num-samples", "3")
              for s in (1, 2)]
    assert any(o != lines for o in others)                         # the seed matters


def test_generate_is_one_batch_with_the_cache_and_equals_the_uncached_tokens(run, capsys,
                                                                             monkeypatch):
    """All rows of all prompts go to generate() in one call, with use_cache=True; --no-cache
    prints the same text (sampled with a seed, and greedy)."""
    calls = []
    real = language_model.generate

    def spy(model, src, *args, **kwargs):
        calls.append((tuple(src.shape), kwargs["use_cache"]))
        return real(model, src, *args, **kwargs)

    monkeypatch.setattr(language_model, "generate", spy)
    prompts = run.parent / "prompts.txt"
    prompts.write_text("El perro\nYo como pan\n\n", encoding="utf-8")
    _, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(run)))
    longest = 1 + max(len(tok.encode(p)) for p in ("El perro", "Yo como pan"))
    cached = _generate(run, capsys, "--file", str(prompts), "--num-samples", "4", "--seed", "3")
    assert calls == [((8, longest), True)]            # 2 prompts x 4 samples, one batch
    assert len(cached) == 8 and all(c.startswith("El perro") for c in cached[:4])
    assert all(c.startswith("Yo como pan") for c in cached[4:])
    uncached = _generate(run, capsys, "--file", str(prompts), "--num-samples", "4", "--seed", "3",
                         "--no-cache")
    assert calls[1] == ((8, longest), False) and uncached == cached
    assert (_generate(run, capsys, "El", "--greedy")
            == _generate(run, capsys, "El", "--greedy", "--no-cache"))


def test_greedy_equals_generate_on_the_checkpoint(run, capsys):
    model, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(run)))
    for prompt in ("El banco", "Hola", ""):
        ids = tt.tensor([[tok.bos_id] + tok.encode(prompt)])
        expected = prompt + tok.decode(generate(model, ids, tok.bos_id, tok.eos_id,
                                                max_len=40, use_cache=False)[0])
        argv = [prompt] if prompt else []
        assert _generate(run, capsys, *argv, "--greedy") == [printable(expected)]
        beam = prompt + tok.decode(generate(model, ids, tok.bos_id, tok.eos_id, max_len=40,
                                            num_beams=3)[0])
        assert _generate(run, capsys, *argv, "--beam", "3") == [printable(beam)]


def test_generation_stops_at_the_end_of_the_sentence(run):
    """A continuation never holds eos: generation stopped there (or at the token limit)."""
    model, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(run)))
    ids = tt.tensor([[tok.bos_id] + tok.encode("Hola")] * 8)
    outs = generate(model, ids, tok.bos_id, tok.eos_id, max_len=12, do_sample=True,
                    generator=tt.Generator().manual_seed(0))
    assert all(tok.eos_id not in o and len(o) <= 12 for o in outs)
    assert any(len(o) < 12 for o in outs)                          # some reached eos


# -- mistakes: one line, exit status 2 -----------------------------------------------------------

@pytest.mark.parametrize("argv, words", [
    (["--top-p", "0"], "--top-p: expected a float in (0, 1]"),
    (["--top-k", "0"], "--top-k: expected an int >= 1"),
    (["--temperature", "0"], "--temperature: expected a finite float > 0"),
    (["--num-samples", "0"], "--num-samples: expected an int >= 1"),
    (["--greedy", "--top-k", "5"], "--top-k only changes sampling"),
    (["--beam", "2", "--temperature", "0.5"], "--temperature only changes sampling"),
    (["--greedy", "--beam", "2"], "choose one"),
    (["--greedy", "--num-samples", "2"], "one continuation per prompt"),
    (["--greedy", "--seed", "1"], "--seed only changes sampling"),
    ([" ".join(["banco"] * 80)], "give a shorter prompt"),
])
def test_generate_mistakes_are_one_line(run, capsys, argv, words):
    assert main(["lm", "generate", "--out", str(run), "El", *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and words in err, err


def test_train_mistakes_are_one_line(corpus, tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    text = tmp_path / "es.txt"
    text.write_text("Hola mundo.\n", encoding="utf-8")
    cases = [
        (_train_argv(empty, tmp_path / "a"), "no sentences in it"),
        (_train_argv(corpus, tmp_path / "b", "--column", "french"), "no column of that name"),
        (_train_argv(corpus, tmp_path / "c", "--column", "5"), "needs 6"),
        (_train_argv(text, tmp_path / "d", "--column", "1"), "leave --column out"),
        (_train_argv(corpus, tmp_path / "e", "--column", " "), "--column: expected"),
        (["lm", "train", "--column", "2", "--out", str(tmp_path / "f")],
         "the built-in corpus has two columns"),
        (_train_argv(corpus, tmp_path / "g", "--batch-tokens", "60"),
         "longest sentence that --max-len 64 allows (66 tokens)"),
        (_train_argv(corpus, tmp_path / "h", "--beam", "2"), "unrecognized arguments: --beam"),
        (["lm", "train", "--data", str(corpus), "--out", str(tmp_path / "none"), "--resume"],
         "no checkpoint"),
    ]
    for argv, words in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and words in err, (argv, err)
    assert not any((tmp_path / name).exists() for name in "abcdefgh")  # nothing written


def test_the_wrong_kind_of_checkpoint_is_one_line(run, corpus, tmp_path, capsys):
    from transformer.train import TrainArgs, Trainer

    translator = tmp_path / "translator"
    Trainer(TrainArgs(data=str(corpus), out=str(translator), size="tiny", vocab_size=300,
                      steps=1, minutes=None, batch_tokens=200, warmup=5, eval_every=1000,
                      progress=False), **QUIET).run()
    cases = [(["lm", "generate", "--out", str(translator), "El"],
              f"{translator} holds a translator, not a language model: use `python -m "
              f"transformer translate --out {translator}`"),
             (["translate", "--out", str(run), "Hello."],
              f"{run} holds a language model, not a translator: use `python -m transformer "
              f"lm generate --out {run}`"),
             (["evaluate", "--out", str(run)], "holds a language model"),
             (["mlm", "fill-mask", "--out", str(run), "El [MASK]."], "holds a language model"),
             (_train_argv(corpus, translator, "--steps", "2", "--resume"),
              "holds a translator, not a language model"),
             (["train", "--data", str(corpus), "--out", str(run), *TINY[:-1], "--resume"],
              "lm train --out")]
    for argv, words in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and words in err, (argv, err)


def test_every_lm_and_mlm_option_declares_its_values():
    """As tests/test_cli_validation.py checks for the other commands: each option that
    takes a value has a rule (its type) or choices, unless it takes any text (--column:
    a header name)."""
    from transformer.__main__ import build_parser
    from transformer.cli_args import Number, Path

    def subcommands(parser):
        return next(a for a in parser._actions if a.dest.endswith("command")).choices

    found = []
    for group in ("lm", "mlm"):
        for name, sub in subcommands(subcommands(build_parser())[group]).items():
            for action in sub._actions:
                if action.option_strings and action.nargs != 0:
                    found.append((group, name, action.option_strings[0]))
                    if action.option_strings[0] != "--column":
                        assert action.choices is not None or isinstance(
                            action.type, Number | Path), (group, name, action.option_strings)
    assert ("lm", "train", "--column") in found and ("mlm", "fill-mask", "--top-k") in found
    assert len([f for f in found if f[1] == "train"]) >= 2 * 20


def test_a_checkpoint_without_a_kind_is_a_translator_and_a_bad_kind_is_one_line(corpus, tmp_path,
                                                                                capsys):
    """Checkpoints written before there were language models have no "kind": they load
    as translators. A kind this code does not know is a damaged file: one line."""
    from transformer.train import TrainArgs, Trainer

    out = tmp_path / "old"
    Trainer(TrainArgs(data=str(corpus), out=str(out), size="tiny", vocab_size=300, steps=1,
                      minutes=None, batch_tokens=200, warmup=5, eval_every=1000,
                      progress=False), **QUIET).run()
    path = checkpoint_path(out)
    state = load_checkpoint(path)
    assert state.pop("kind") == "translator"
    tt.save(state, path)
    model, _ = model_from_checkpoint(load_checkpoint(path, kind="translator"))
    assert type(model).__name__ == "Transformer"
    assert main(["translate", "--out", str(out), "Hello world."]) == 0
    capsys.readouterr()
    state["kind"] = "gpt9"
    tt.save(state, path)
    assert main(["translate", "--out", str(out), "Hello world."]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "unknown model kind 'gpt9'" in err
