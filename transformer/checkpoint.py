"""Training checkpoints: everything needed to continue a run exactly, in one file.

A checkpoint holds the model config and weights, the tokenizer, the optimizer and
scheduler state, the random number generator state, the data position (epoch and
batch), the step count and the metrics so far. It is written with ``tinytorch.save``:
atomically (a crash mid-write leaves the previous checkpoint intact) and without
pickle (loading a checkpoint cannot run code).
"""

from __future__ import annotations

import os

import tinytorch as tt
from tinytorch.serialization import CheckpointError

from .model import Transformer, TransformerConfig
from .tokenizer import BPETokenizer

FORMAT = "transformer-translator"
CHECKPOINT_NAME = "checkpoint.npz"


def checkpoint_path(out_dir) -> str:
    return os.path.join(os.fspath(out_dir), CHECKPOINT_NAME)


def save_checkpoint(path, *, model, tokenizer, optimizer, scheduler, batches, step: int,
                    elapsed: float, train_args: dict, metrics: list) -> None:
    tt.save({
        "format": FORMAT,
        "config": model.config.to_dict(),
        "train_args": train_args,
        "tokenizer": tokenizer.to_dict(),
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "rng": tt.get_rng_state(),
        "data": batches.state_dict(),
        "step": step,
        "elapsed": elapsed,
        "metrics": metrics,
    }, path)


def load_checkpoint(path, map_location="cpu") -> dict:
    """The checkpoint's contents, after checking it is a translator checkpoint."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no checkpoint at {path}: train one first (python -m transformer train --out DIR)")
    state = tt.load(path, map_location=map_location)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: a tinytorch file, but not a translator checkpoint (format "
            f"{state.get('format') if isinstance(state, dict) else type(state).__name__!r})")
    return state


def model_from_checkpoint(state: dict, path="checkpoint", device="cpu"):
    """(model in eval mode, tokenizer) rebuilt from a checkpoint's config and weights."""
    config = TransformerConfig.from_dict(state["config"])
    tokenizer = BPETokenizer.from_dict(state["tokenizer"])
    if len(tokenizer) != config.tgt_vocab_size:
        raise CheckpointError(
            f"{path}: the tokenizer has {len(tokenizer)} tokens but the model expects "
            f"{config.tgt_vocab_size}; the checkpoint is inconsistent")
    model = Transformer(config)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as e:
        raise CheckpointError(f"{path}: the weights do not fit the saved config: {e}") from None
    return model.to(device).eval(), tokenizer
