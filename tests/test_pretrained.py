"""The translator that ships in the package (transformer/pretrained.py).

- It loads into the current model code (every weight name and shape fits the classes as
  they are now: a change to the architecture fails here until the file is retrained with
  ``python -m transformer.pretrained``) and translates the notes' example.
- ``translate``, ``attention`` and ``evaluate`` use it when no run exists and neither
  --out nor --checkpoint is given, saying so in one line on stderr; an --out given by the
  user is never replaced by it.
- ``export`` keeps the config, the tokenizer and the weights (float16: rounded, nothing
  else), and drops what only training needs.
"""

import json

import numpy as np

import tinytorch as tt
from transformer import pretrained
from transformer.__main__ import main
from transformer.checkpoint import load_checkpoint, model_from_checkpoint
from transformer.evaluate import translate

def test_it_fits_the_current_model_code_and_translates_hello_world():
    assert pretrained.available()                            # committed with the package
    state = load_checkpoint(str(pretrained.PATH), kind="translator")
    model, tok = pretrained.load()
    assert set(model.state_dict()) == set(state["model"])   # strict: nothing left over
    assert all(p.dtype == tt.float32 for p in model.parameters())
    assert translate(model, tok, ["Hello world."]) == ["Hola mundo."]
    assert "optimizer" not in state and "rng" not in state   # translating needs the weights


def test_its_record_says_how_it_was_made():
    info = json.loads(pretrained.INFO.read_text(encoding="utf-8"))
    assert info["bytes"] == pretrained.PATH.stat().st_size < 5_000_000
    assert info["stored_as"] in ("float16", "float32")
    if info["stored_as"] == "float16":
        loss = info["test_bleu_greedy_float32"] - info["test_bleu_greedy_float16"]
        assert loss <= pretrained.FLOAT16_TOLERANCE
        state = load_checkpoint(str(pretrained.PATH))
        assert all(t.dtype == tt.float16 for t in state["model"].values()
                   if t.is_floating_point())


def test_the_cli_uses_it_when_no_run_exists(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)                              # no runs/translator here
    assert main(["translate", "Hello world."]) == 0
    out, err = capsys.readouterr()
    assert out == "Hola mundo.\n"
    assert err.count("\n") == 1 and "ships with the package" in err
    assert "python -m transformer train" in err
    assert main(["attention", "Hello world.", "--kind", "cross", "--layer", "1",
                 "--head", "1"]) == 0
    assert "Hello world. -> Hola mundo." in capsys.readouterr().out


def test_a_given_out_is_never_replaced(tmp_path, capsys):
    assert main(["translate", "--out", str(tmp_path / "mine"), "Hello world."]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no checkpoint at") and "ships with" not in err


def test_export_keeps_what_translating_needs_in_float16(tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--size", "tiny", "--steps", "3", "--eval-every", "3", "--out",
                 str(run), "--no-progress", "--vocab-size", "400", "--beam", "1"]) == 0
    half = tmp_path / "half.npz"
    pretrained.export(str(run / "checkpoint.npz"), str(half))
    full_model, tok = model_from_checkpoint(load_checkpoint(str(run / "checkpoint.npz")))
    half_model, half_tok = model_from_checkpoint(load_checkpoint(str(half)))
    assert half_tok.to_dict() == tok.to_dict()
    assert half.stat().st_size < 0.6 * (run / "checkpoint.npz").stat().st_size
    full, rounded = full_model.state_dict(), half_model.state_dict()
    for name, w in full.items():
        np.testing.assert_array_equal(rounded[name].numpy(),
                                      w.numpy().astype(np.float16).astype(np.float32))
