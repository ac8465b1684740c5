"""Every training option, written once: its default, its ``--help`` text, the values it
accepts, and whether ``--resume`` may change it.

``python -m transformer train`` makes one flag per ``TrainArgs`` field
(``add_train_options``; ``lm train`` and ``mlm train`` one per field of a subclass);
``TrainArgs.validate()`` checks every field's rule and the rules that tie fields
together, before anything is written; ``resume_differences``
names what a resumed run changed that it must keep (the model, the data, the tokenizer,
the batches, the optimizer and the random numbers all depend on those).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields

from .cli_args import (Number, UsageError, directory, existing_path, non_negative_int,
                       positive_float, positive_int, probability)
from .model import TransformerConfig
from .tokenizer import N_BYTES, N_SPECIAL

# Model sizes for --size; any field can still be overridden on the command line.
SIZES = {
    "tiny": dict(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                 dim_feedforward=256),
    "small": dict(d_model=128, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                  dim_feedforward=512),
    "base": dict(d_model=256, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                 dim_feedforward=1024),
}

# The tokenizer starts from 4 special tokens, 256 byte tokens and one token per character
# of the corpus (tokenizer.py), so no vocabulary can be smaller than this; the corpus
# decides the real minimum (trainer.check_vocab_size).
vocab_rule = Number(int, low=N_SPECIAL + N_BYTES + 1,
                    note=f"({N_SPECIAL} special + {N_BYTES} byte tokens + the corpus's characters)")
label_smoothing_rule = Number(float, low=0, high=1, high_open=True,
                              note="(1 would ignore the labels)")
clip_rule = Number(float, low=0, low_open=True, finite=False, note="(inf: no clipping)")


def option(default, help, rule=None, may_change_on_resume=False, **cli):
    """A TrainArgs field with its command-line help and ``rule`` (cli_args.py: which values
    it accepts). ``cli`` may name the flag (when it is not ``--field-name``) and its
    choices, or say ``command_line=False`` (a field a subclass does not use: no flag).
    ``may_change_on_resume``: a resumed run may give another value (a budget, a display
    setting); any other field must keep the value the run was started with."""
    return field(default=default, metadata={"help": help, "rule": rule,
                                            "may_change_on_resume": may_change_on_resume, **cli})


def flag(f) -> str:
    """The command-line flag of a TrainArgs field: ``--field-name`` unless it names another."""
    return f.metadata.get("flag", "--" + f.name.replace("_", "-"))


@dataclass
class TrainArgs:
    """Every training option, with its default, ``--help`` text and rule, written once."""

    data: str | None = option(None, "a TSV of english<TAB>spanish lines, or a directory with "
                              "pairs.tsv/valid.tsv/test.tsv (None: the built-in synthetic "
                              "corpus); a UTF-8 BOM and a header line such as "
                              "'english<TAB>spanish' are skipped", existing_path)
    out: str = option("runs/translator", "directory for checkpoint and metrics", directory,
                      may_change_on_resume=True)
    size: str = option("small", "model size (d_model, heads, layers, feed-forward width)",
                       choices=list(SIZES))
    d_model: int | None = option(None, "override the size's d_model", positive_int)
    nhead: int | None = option(None, "override the number of attention heads", positive_int,
                               flag="--heads")
    layers: int | None = option(None, "override encoder and decoder layers (each)", positive_int)
    dim_feedforward: int | None = option(None, "override the feed-forward width", positive_int,
                                         flag="--ff")
    dropout: float = option(0.1, "dropout probability", probability)
    vocab_size: int = option(1000, "BPE vocabulary (joint EN+ES)", vocab_rule)
    max_len: int = option(64, "longest sentence in tokens (longer ones are cut)",
                          Number(int, low=1, high=4096))
    steps: int | None = option(None, "train this many steps (overrides --minutes)", positive_int,
                               may_change_on_resume=True)
    minutes: float | None = option(7.0, "training time budget", positive_float,
                                   may_change_on_resume=True)
    batch_tokens: int = option(3000, "padded src+tgt tokens per batch (at least 2 * max_len + 1)",
                               positive_int)
    lr: float = option(1e-3, "peak learning rate (reached after the warm-up)", positive_float)
    warmup: int = option(300, "warm-up steps", positive_int)
    cooldown: float = option(0.0, "the last fraction of the budget (--steps, else --minutes) "
                             "over which the learning rate falls linearly to 0 (0: none; "
                             "the inverse square root decay to the end)", probability)
    label_smoothing: float = option(0.1, "label smoothing of the training loss",
                                    label_smoothing_rule)
    clip: float = option(1.0, "clip the gradient norm to this", clip_rule)
    eval_every: int = option(250, "steps between evaluations", positive_int,
                             may_change_on_resume=True)
    seed: int = option(0, "random seed (corpus split, weights, dropout, batch order)",
                       non_negative_int)
    device: str = option("cpu", "cpu or cuda", choices=["cpu", "cuda"], may_change_on_resume=True)
    resume: bool = option(False, "continue the run saved in --out (with the same options; "
                          "--steps, --minutes, --eval-every, --beam, --device may change)",
                          may_change_on_resume=True)
    overwrite: bool = option(False, "start a new run in --out, deleting the run saved there "
                             "(checkpoint, metrics, plots)", may_change_on_resume=True)
    beam: int = option(4, "beam size for the final test score (greedy is reported too)",
                       positive_int, may_change_on_resume=True)
    progress: bool = option(True, "show a progress bar; --no-progress turns it off",
                            flag="--no-progress", may_change_on_resume=True)
    plain: bool = option(False, "train on the textbook paths: no fused ops, no packing "
                         "(slower; for reading and debugging)", may_change_on_resume=True)

    def shape(self) -> dict:
        """The model's shape: the size's, with the fields given here overriding it."""
        shape = dict(SIZES[self.size])
        for key, value in (("d_model", self.d_model), ("nhead", self.nhead),
                           ("dim_feedforward", self.dim_feedforward)):
            if value is not None:
                shape[key] = value
        if self.layers is not None:
            shape["num_encoder_layers"] = shape["num_decoder_layers"] = self.layers
        return shape

    def model_config(self, vocab: int, pad_id: int) -> TransformerConfig:
        return TransformerConfig(src_vocab_size=vocab, tgt_vocab_size=vocab, dropout=self.dropout,
                                 max_len=self.max_len + 2, pad_id=pad_id, **self.shape())

    def longest_example(self) -> tuple[int, str]:
        """The most tokens one example can put in a batch, and what an example is."""
        return 2 * self.max_len + 1, "pair"  # max_len source tokens (with eos) + bos, max_len, eos

    def validate(self) -> None:
        """Raise UsageError (one line: the option, what it accepts) for the first value that
        is not allowed: each field's rule and choices, then the rules between fields."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and "None" in str(f.type):  # an optional field left out
                continue
            rule, choices = f.metadata["rule"], f.metadata.get("choices")
            wrong = rule.problem(value) if rule is not None else None
            if choices is not None and value not in choices:
                wrong = f"expected one of {', '.join(choices)}, got {value!r}"
            if wrong:
                raise UsageError(f"{flag(f)}: {wrong}")
        shape = self.shape()
        d_model, heads = shape["d_model"], shape["nhead"]
        if d_model % heads:
            origin = f" (from --size {self.size})"  # for the value the user did not give
            raise UsageError(
                f"--d-model {d_model}{origin if self.d_model is None else ''} is not divisible "
                f"by --heads {heads}{origin if self.nhead is None else ''}: each head gets "
                f"d_model / heads features; give a --d-model that is a multiple of {heads}, "
                f"or other --heads")
        longest, what = self.longest_example()
        if self.batch_tokens < longest:
            raise UsageError(
                f"--batch-tokens {self.batch_tokens}: a batch must hold the longest {what} that "
                f"--max-len {self.max_len} allows ({longest} tokens); give --batch-tokens >= "
                f"{longest}, or a smaller --max-len")
        if self.resume and self.overwrite:
            raise UsageError("--resume and --overwrite: choose one (continue the run in --out, "
                             "or delete it and start a new one)")

    def to_dict(self) -> dict:
        """The fields as a dict for the checkpoint, with --data as an absolute path (so a
        resume from another working directory still compares the same corpus)."""
        d = asdict(self)
        if self.data is not None:
            d["data"] = os.path.abspath(self.data)
        return d


def _same_data(saved, given) -> bool:
    if saved is None or given is None:
        return saved == given
    if os.path.exists(saved) and os.path.exists(given):
        return os.path.samefile(saved, given)
    return os.path.abspath(saved) == os.path.abspath(given)


def _shown(value) -> str:
    return "not given" if value is None else str(value)


def resume_differences(saved: dict, args: TrainArgs) -> list[str]:
    """'--size was tiny, now small' for each field that a resumed run must keep and that
    ``args`` changed (fields missing from an older checkpoint are not compared)."""
    found = []
    for f in fields(args):
        if f.metadata["may_change_on_resume"] or f.name not in saved:
            continue
        old, new = saved[f.name], getattr(args, f.name)
        same = _same_data(old, new) if f.name == "data" else old == new
        if not same:
            found.append(f"{flag(f)} was {_shown(old)}, now {_shown(new)}")
    return found


def add_train_options(parser, args_class=TrainArgs) -> None:
    """One option per field of TrainArgs (or a subclass): the flag is ``--field-name``
    unless the field's metadata names another (or says ``command_line=False``: none);
    default, help, choices and rule (the argparse ``type``, which also says what the option
    accepts) come from the field too."""
    types = {"str": str, "int": int, "float": float}
    for f in fields(args_class):
        if not f.metadata.get("command_line", True):
            continue
        opts = {"dest": f.name, "default": f.default, "help": f.metadata["help"]}
        rule = f.metadata["rule"]
        if isinstance(f.default, bool):  # a switch: giving the flag turns the default around
            opts["action"] = "store_false" if f.default else "store_true"
        else:  # f.type is the annotation as written, e.g. "int | None": the value is an int
            opts["type"] = rule if rule is not None else types[f.type.removesuffix(" | None")]
            opts["choices"] = f.metadata.get("choices")
            if rule is not None:
                opts["help"] += f"; {rule.describe()}"
        parser.add_argument(flag(f), **opts)


def train_args_from(parsed, args_class=TrainArgs):
    """The parsed command line as ``args_class`` (TrainArgs or a subclass); a field without
    a flag (``command_line=False``) keeps its default."""
    return args_class(**{f.name: getattr(parsed, f.name) for f in fields(args_class)
                         if hasattr(parsed, f.name)})
