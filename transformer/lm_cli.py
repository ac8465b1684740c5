"""The language models from the command line: ``lm`` (GPT-style) and ``mlm`` (BERT-style).

    python -m transformer lm train                # the Spanish side of the built-in corpus
    python -m transformer lm train --data ../shared/data/tatoeba-eng-spa --out runs/lm-tatoeba
    python -m transformer lm generate "El banco" --temperature 0.8 --top-k 50 --top-p 0.9 \\
        --max-new-tokens 40 --seed 0
    python -m transformer mlm train
    python -m transformer mlm fill-mask "El [MASK] está cerca del río."

``lm train`` and ``mlm train`` take the options of ``train`` (language_model.LMTrainArgs:
the same loop, checkpoints, --resume and Ctrl-C), with sentences instead of pairs:
``--data`` a text file, a TSV file (``--column``) or a corpus directory.

``lm generate`` samples by default, as GPT-style tools do (``--greedy``: the likeliest
token each step; ``--beam N``: beam search), and prints each prompt's continuations up to
the end of the sentence, one per line (``printable``). Mistakes (options that would be ignored, a
checkpoint of another kind, a text without a mask) are one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from .cli_args import (UsageError, check_device, directory, existing_file, non_negative_int,
                       positive_float, positive_int, read_lines, top_p)
from .train_args import add_train_options, train_args_from

DEFAULT_PROMPT = "El banco"


def cmd_lm_train(a) -> None:
    from .language_model import LanguageModelTrainer, LMTrainArgs  # noqa: PLC0415

    _train(LanguageModelTrainer, train_args_from(a, LMTrainArgs))


def cmd_mlm_train(a) -> None:
    from .masked_lm import MaskedLMTrainer, MLMTrainArgs  # noqa: PLC0415

    _train(MaskedLMTrainer, train_args_from(a, MLMTrainArgs))


def _train(trainer_class, args) -> None:
    from .trainer import train_and_report  # noqa: PLC0415

    check_device(args.device)
    # The trainer checks every option, --out, the corpus and --resume before it writes.
    train_and_report(trainer_class(args))


def _load(a, kind):
    from .checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint  # noqa: PLC0415

    path = a.checkpoint or checkpoint_path(a.out)
    device = check_device(a.device)
    return model_from_checkpoint(load_checkpoint(path, kind=kind), path, device)


def decoding_options(a) -> dict:
    """``continue_prompts``'s options from the command line; an option that the chosen
    decoding would ignore is a UsageError."""
    sampling = [f for f, v in (("--temperature", a.temperature), ("--top-k", a.top_k),
                               ("--top-p", a.top_p), ("--seed", a.seed)) if v is not None]
    chosen = "--greedy" if a.greedy else f"--beam {a.beam}" if a.beam > 1 else None
    if a.greedy and a.beam > 1:
        raise UsageError(f"--greedy and --beam {a.beam}: choose one (greedy keeps the likeliest "
                         f"token each step; beam search the {a.beam} likeliest sequences)")
    if chosen and sampling:
        raise UsageError(f"{sampling[0]} only changes sampling, and {chosen} does not sample: "
                         f"leave out one of them")
    if chosen and a.num_samples > 1:
        raise UsageError(f"--num-samples {a.num_samples} with {chosen}: that decoding gives one "
                         f"continuation per prompt; leave out {chosen} to sample several")
    return dict(num_samples=a.num_samples, max_new_tokens=a.max_new_tokens, num_beams=a.beam,
                do_sample=chosen is None,
                temperature=1.0 if a.temperature is None else a.temperature,
                top_k=a.top_k, top_p=a.top_p, seed=a.seed, use_cache=not a.no_cache)


def _prompts(a) -> list[str]:
    """The prompts: the command line's, --file's lines, or "" (write from scratch)."""
    if a.prompt and a.file:
        raise UsageError(f"--file {a.file} and a prompt on the command line: give one of them")
    if a.file:
        return read_lines(a.file, "prompts")
    return [" ".join(a.prompt)]


def cmd_lm_generate(a) -> None:
    from .language_model import continue_prompts  # noqa: PLC0415

    options = decoding_options(a)
    prompts = _prompts(a)  # (read before the model loads: a bad --file fails fast)
    model, tok = _load(a, "lm")
    for texts in continue_prompts(model, tok, prompts, device=a.device, **options):
        for text in texts:
            print(printable(text))


def printable(text: str) -> str:
    """``text`` on one line: a control character or line break that a model generated
    (a byte token, say) is shown as its escape, ``\\x0b``, so each sample is one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def cmd_mlm_fill_mask(a) -> None:
    from .masked_lm import fill_mask  # noqa: PLC0415

    text = " ".join(a.text)
    model, tok = _load(a, "mlm")
    results = fill_mask(model, tok, text, top_k=a.top_k, device=a.device)
    for n, fills in enumerate(results, 1):
        if len(results) > 1:
            print(f"mask {n} of {len(results)}:")
        width = max(len(repr(f.token.strip())) for f in fills)
        for f in fills:
            print(f"{f.probability:7.3f}  {repr(f.token.strip()):<{width}}  {f.text}")


def add_commands(subparsers) -> None:
    """The ``lm`` and ``mlm`` commands, each with its own sub-commands."""
    from .language_model import LMTrainArgs  # noqa: PLC0415
    from .masked_lm import MLMTrainArgs  # noqa: PLC0415

    lm = subparsers.add_parser("lm", help="a GPT-style language model: lm train, lm generate")
    lm_commands = lm.add_subparsers(dest="lm_command", required=True)
    t = lm_commands.add_parser("train", help="train a language model by next-token prediction "
                               "(default: the Spanish side of the built-in corpus)",
                               formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_train_options(t, LMTrainArgs)
    t.set_defaults(fn=cmd_lm_train)

    g = lm_commands.add_parser("generate", help="continue a prompt (sampling by default)")
    g.add_argument("prompt", nargs="*", help="the start of the text (none: write sentences "
                   "from scratch)")
    g.add_argument("--file", type=existing_file, help="continue each line of this UTF-8 file")
    _model_options(g, LMTrainArgs.out)
    g.add_argument("--num-samples", type=positive_int, default=1,
                   help="continuations per prompt (all rows in one batch)")
    g.add_argument("--max-new-tokens", type=positive_int, default=40,
                   help="stop after this many tokens (or at the end of the sentence)")
    g.add_argument("--temperature", type=positive_float,
                   help="divide the logits by this before sampling (default 1)")
    g.add_argument("--top-k", type=positive_int, help="sample from the k likeliest tokens only")
    g.add_argument("--top-p", type=top_p, help="sample from the likeliest tokens whose "
                   "probability adds up to p (nucleus sampling)")
    g.add_argument("--seed", type=non_negative_int,
                   help="seed of the sampling (default: a new one each run)")
    g.add_argument("--greedy", action="store_true", help="the likeliest token each step")
    g.add_argument("--beam", type=positive_int, default=1, help="beam search with N beams")
    g.add_argument("--no-cache", action="store_true", help="re-read the whole text at every "
                   "step instead of keeping the keys and values (slower; the same tokens)")
    g.set_defaults(fn=cmd_lm_generate)

    mlm = subparsers.add_parser("mlm", help="a BERT-style masked language model: mlm train, "
                                "mlm fill-mask")
    mlm_commands = mlm.add_subparsers(dest="mlm_command", required=True)
    t = mlm_commands.add_parser("train", help="train a masked language model (15%% of the "
                                "tokens chosen; default: the Spanish side of the built-in "
                                "corpus)", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_train_options(t, MLMTrainArgs)
    t.set_defaults(fn=cmd_mlm_train)

    f = mlm_commands.add_parser("fill-mask", help="the likeliest words for [MASK], with their "
                                "probabilities")
    f.add_argument("text", nargs="+", help='a sentence with [MASK] in it, e.g. '
                   '"El [MASK] está cerca del río."')
    _model_options(f, MLMTrainArgs.out)
    f.add_argument("--top-k", type=positive_int, default=5, help="how many candidates to show")
    f.set_defaults(fn=cmd_mlm_fill_mask)


def _model_options(parser, default_out) -> None:
    parser.add_argument("--out", default=default_out, type=directory,
                        help="the training run's directory")
    parser.add_argument("--checkpoint", type=existing_file,
                        help="a checkpoint file (default: OUT/checkpoint.npz)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])


if __name__ == "__main__":  # (python -m transformer lm ... is the way in)
    sys.exit("run: python -m transformer lm ... or python -m transformer mlm ...")
