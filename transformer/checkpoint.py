"""Training checkpoints: everything needed to continue a run exactly, in one file.

A checkpoint holds the kind of model (``KINDS``: a translator, a language model or a
masked language model), the model config and weights, the tokenizer, the optimizer and
scheduler state, the random number generator state, the data position (epoch and
batch), the step count and the metrics so far. It is written with ``tinytorch.save``:
atomically (a crash mid-write leaves the previous checkpoint intact) and without
pickle (loading a checkpoint cannot run code).

Loading trusts nothing in the file: a missing entry, a config with ``nhead`` -1, a garbled
tokenizer or weights that do not fit the config each give a one-line ``CheckpointError``
that names the file and the entry, never a traceback.
"""

from __future__ import annotations

import os

import numpy as np

import tinytorch as tt
from tinytorch.serialization import CheckpointError

from .cli_args import UsageError
from .model import DecoderOnly, EncoderOnly, Transformer, TransformerConfig
from .tokenizer import BPETokenizer

FORMAT = "transformer-translator"  # (named when translators were the only kind)
#: kind -> (model class, what it is, the command that uses it, the command that trains it).
#: A checkpoint without a kind (written before there were others) holds a translator.
KINDS = {
    "translator": (Transformer, "a translator", "translate", "train"),
    "lm": (DecoderOnly, "a language model", "lm generate", "lm train"),
    "mlm": (EncoderOnly, "a masked language model", "mlm fill-mask", "mlm train"),
}
CHECKPOINT_NAME = "checkpoint.npz"
REQUIRED = ("config", "tokenizer", "model")  # what translating needs (resuming needs more)
_DAMAGED = "the checkpoint is damaged or was not written by `python -m transformer train`"


def checkpoint_path(out_dir) -> str:
    return os.path.join(os.fspath(out_dir), CHECKPOINT_NAME)


def save_checkpoint(path, *, model, tokenizer, optimizer, scheduler, batches, step: int,
                    elapsed: float, train_args: dict, metrics: list,
                    kind: str = "translator", curve=None) -> None:
    """``curve``: the training loss and learning rate of every step so far, (steps, 3)
    rows of (step, loss, lr), for the loss plot (older checkpoints have none)."""
    tt.save({
        "format": FORMAT,
        "kind": kind,
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
        "curve": np.zeros((0, 3)) if curve is None else np.asarray(curve, dtype=np.float64),
    }, path)


def load_checkpoint(path, map_location="cpu", kind: str | None = None) -> dict:
    """The checkpoint's contents, after checking it is one of ours, and with ``kind``
    that it holds that kind of model (a UsageError names the command that uses it)."""
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"no checkpoint at {path}: train one first (python -m transformer train --out DIR)")
    state = tt.load(path, map_location=map_location)
    found = state.get("format") if isinstance(state, dict) else type(state).__name__
    if not (isinstance(state, dict) and isinstance(found, str) and found == FORMAT):
        raise CheckpointError(f"{path}: a tinytorch file, but not a translator checkpoint "
                              f"(format {_short(repr(found))})")
    for key in REQUIRED:
        _entry(state, key, path)
    found = checkpoint_kind(state, path)
    if kind is not None and found != kind:
        where = os.path.dirname(os.fspath(path)) or "."
        if os.path.basename(os.fspath(path)) != CHECKPOINT_NAME:
            where = os.fspath(path)
        _, what, use, train = KINDS[found]
        raise UsageError(f"{where} holds {what}, not {KINDS[kind][1]}: use `python -m "
                         f"transformer {use} --out {where}` (continue training it with "
                         f"`python -m transformer {train} --out {where} --resume`)")
    return state


def checkpoint_kind(state: dict, path="checkpoint") -> str:
    """'translator', 'lm' or 'mlm': the kind of model the checkpoint holds."""
    kind = state.get("kind", "translator")
    if not (isinstance(kind, str) and kind in KINDS):
        raise CheckpointError(f"{path}: unknown model kind {_short(repr(kind))} (expected one "
                              f"of {', '.join(KINDS)}); {_DAMAGED}")
    return kind


def model_from_checkpoint(state: dict, path="checkpoint", device="cpu"):
    """(model in eval mode, tokenizer) rebuilt from a checkpoint's config and weights: a
    Transformer, DecoderOnly or EncoderOnly, as the checkpoint's kind says."""
    kind = checkpoint_kind(state, path)
    config, tokenizer = config_from_checkpoint(state, path)
    weights = _entry(state, "model", path)
    _check_size(config, weights, path, kind)
    model = KINDS[kind][0](config)
    problems = _weight_problems(model.state_dict(), weights)
    if problems:
        shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more"
                                           if len(problems) > 4 else "")
        raise CheckpointError(f"{path}: the weights in 'model' do not fit the saved config "
                              f"({len(problems)} problems: {shown})")
    try:
        model.load_state_dict(weights)
    except (RuntimeError, ValueError, TypeError) as e:  # (the checks above should catch all)
        raise CheckpointError(f"{path}: the weights in 'model' do not fit the saved config: "
                              f"{_short(str(e), 200)}") from None
    return model.to(device).eval(), tokenizer


def config_from_checkpoint(state: dict, path="checkpoint"):
    """(config, tokenizer) from a checkpoint, checked: CheckpointError names what is wrong."""
    config_dict, tokenizer_dict = _entry(state, "config", path), _entry(state, "tokenizer", path)
    try:
        config = TransformerConfig.from_dict(config_dict)
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: bad 'config' entry: {_short(str(e), 200)}") from None
    try:
        tokenizer = BPETokenizer.from_dict(tokenizer_dict)
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{path}: bad 'tokenizer' entry: {_short(str(e), 200)}") from None
    if len(tokenizer) != config.tgt_vocab_size:
        raise CheckpointError(
            f"{path}: the tokenizer has {len(tokenizer)} tokens but the model expects "
            f"{config.tgt_vocab_size}; the checkpoint is inconsistent")
    return config, tokenizer


def _entry(state: dict, key: str, path) -> dict:
    """``state[key]``, which must be a dict (a config, tokenizer or state dict)."""
    value = state.get(key)
    if not isinstance(value, dict):
        what = "is missing" if key not in state else f"is a {type(value).__name__}, not a dict"
        raise CheckpointError(f"{path}: the checkpoint's {key!r} entry {what}; {_DAMAGED}")
    return value


def _check_size(config: TransformerConfig, weights: dict, path, kind="translator") -> None:
    """Refuse a config that would build a far bigger model than the weights can fill.

    One digit too many in a damaged config (``dim_feedforward`` 64 -> 6400, ``max_len``
    34 -> 3400000) would make ``Transformer(config)`` allocate gigabytes before the shape
    check could object. So count first: the model's big matrices are a lower bound on its
    size (q, k, v and output projections: 4 d^2 per attention; 2 d ff per feed-forward),
    and the checkpoint must hold at least that many numbers. (A language model has only
    the decoder's layers, without cross-attention; a masked one only the encoder's.)
    """
    arrays = {id(w): w for w in weights.values() if isinstance(w, (tt.Tensor, np.ndarray))}
    held = sum(w.numel() if isinstance(w, tt.Tensor) else w.size for w in arrays.values())
    d, ff = config.d_model, config.dim_feedforward
    both = kind == "translator"
    encoder_layers = config.num_encoder_layers if kind != "lm" else 0
    decoder_layers = config.num_decoder_layers if kind != "mlm" else 0
    least = config.src_vocab_size * d                          # the (shared) embedding
    if not config.tie_embeddings:                              # output layer (target embedding)
        least += (2 if both else 1) * config.tgt_vocab_size * d
    least += encoder_layers * (4 * d * d + 2 * d * ff)
    least += decoder_layers * ((8 if both else 4) * d * d + 2 * d * ff)  # (+ cross-attention)
    tables = (2 if both else 1) * config.max_len * d           # source and target positions
    if config.positional == "learned":
        least += tables
    if least > held:
        raise CheckpointError(f"{path}: the config describes a model of at least {least:,} "
                              f"weights but 'model' holds {held:,}; {_DAMAGED}")
    if config.positional == "sinusoidal" and tables > max(16 * held, 1 << 20):
        raise CheckpointError(f"{path}: the config's max_len {config.max_len} would build "
                              f"position tables far bigger than the model; {_DAMAGED}")


def _weight_problems(own: dict, weights: dict) -> list[str]:
    """What keeps ``weights`` from loading into a model with state dict ``own``, briefly."""
    problems = [f"missing {k}" for k in own if k not in weights]
    problems += [f"unexpected {_short(repr(k), 40)}" for k in weights if k not in own]
    for k, target in own.items():
        if k not in weights:
            continue
        w = weights[k]
        if not isinstance(w, (tt.Tensor, np.ndarray)) or w.dtype.kind != "f":
            kind = f"dtype {w.dtype}" if hasattr(w, "dtype") else f"a {type(w).__name__}"
            problems.append(f"{k} is {kind}, not floating point")
        elif tuple(w.shape) != tuple(target.shape):
            problems.append(f"{k} {tuple(w.shape)}, model {tuple(target.shape)}")
    return problems


def _short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters: file content is quoted briefly in errors."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
