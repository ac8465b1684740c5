"""The small translator that ships inside the package, to try before training one.

``translate``, ``attention`` and ``evaluate`` use it when they are given neither
``--checkpoint`` nor ``--out`` and no run has been trained in the default ``--out``
(runs/translator): right after ``pip install``, ``python -m transformer translate "Hello
world."`` answers at once, and a one-line notice says which model answered and how to
train your own.

It is the default ``python -m transformer train`` run on the built-in corpus, with a fixed
number of steps instead of a time budget (so that it does not depend on the machine),
stored without the optimizer (translating needs the weights only) and in float16 when
that keeps its test BLEU within ``FLOAT16_TOLERANCE`` of float32 (half the bytes). The
weights are cast back to float32 on loading: float16 is only how they are stored.

Retrain it (after a change to the model code, which its test would catch):

    python -m transformer.pretrained            # trains, compares float16, writes the file

which writes ``transformer/pretrained/translator.npz`` and ``translator.json`` (how it was
made and its scores).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import tinytorch as tt

from .checkpoint import FORMAT, checkpoint_path, load_checkpoint, model_from_checkpoint

HERE = Path(__file__).resolve().parent / "pretrained"
PATH = HERE / "translator.npz"
INFO = HERE / "translator.json"
#: How it is trained: the default run, with a fixed number of steps.
TRAIN_OPTIONS = ["--steps", "2300", "--seed", "0"]
#: float16 is kept only if its test BLEU (greedy) is at most this far below float32's.
FLOAT16_TOLERANCE = 0.5

NOTICE = ("(no trained model in runs/translator: using the small translator that ships with "
          "the package, trained on the built-in corpus; train your own with `python -m "
          "transformer train`)")


def available() -> bool:
    return PATH.is_file()


def load(device="cpu"):
    """(model in eval mode, tokenizer) of the packaged translator, in float32."""
    return model_from_checkpoint(load_checkpoint(str(PATH), kind="translator"), str(PATH),
                                 device)


def export(checkpoint: str, out: str, dtype=np.float16) -> None:
    """Write the translating part of a training checkpoint (kind, config, tokenizer and
    weights, the weights as ``dtype``) to ``out``, atomically."""
    state = load_checkpoint(checkpoint, kind="translator")
    weights = {name: tt.from_numpy(t.numpy().astype(dtype)) if t.is_floating_point() else t
               for name, t in state["model"].items()}
    tt.save({"format": FORMAT, "kind": "translator", "config": state["config"],
             "tokenizer": state["tokenizer"], "model": weights}, out)


def _test_bleu(path: str) -> float:
    from .data.synthetic import make_splits  # noqa: PLC0415
    from .evaluate import evaluate_pairs  # noqa: PLC0415

    model, tok = model_from_checkpoint(load_checkpoint(path), path)
    return evaluate_pairs(model, tok, make_splits(seed=0)["test"])["bleu"]


def retrain() -> dict:
    """Train the packaged translator from scratch and write PATH and INFO. Returns INFO."""
    with tempfile.TemporaryDirectory() as run:
        subprocess.run([sys.executable, "-m", "transformer", "train", "--out", run,
                        "--no-progress", *TRAIN_OPTIONS], check=True)
        full = checkpoint_path(run)
        half = os.path.join(run, "float16.npz")
        export(full, half, np.float16)
        bleu32, bleu16 = _test_bleu(full), _test_bleu(half)
        dtype = "float16" if bleu32 - bleu16 <= FLOAT16_TOLERANCE else "float32"
        HERE.mkdir(exist_ok=True)
        export(full, str(PATH), np.float16 if dtype == "float16" else np.float32)
        info = {"trained_with": "python -m transformer train " + " ".join(TRAIN_OPTIONS),
                "stored_as": dtype, "test_bleu_greedy_float32": round(bleu32, 2),
                "test_bleu_greedy_float16": round(bleu16, 2),
                "bytes": PATH.stat().st_size}
    INFO.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


if __name__ == "__main__":
    print(json.dumps(retrain(), indent=2))
