"""``python -m transformer <command>``: train, translate, attention, evaluate.

    python -m transformer train                       # the built-in corpus, ~10 minutes on 2 cores
    python -m transformer train --data ../shared/data/tatoeba-eng-spa --minutes 20
    python -m transformer translate "Hello world."
    python -m transformer evaluate --beam 4

Mistakes a user can make (a value an option does not accept, a missing file, a corrupt
checkpoint, --device cuda without CuPy) print one line on stderr, naming what is wrong
and what to do, and exit with status 2, without a traceback. Every option's allowed
values are declared once, next to the option: the train options in train_args.py, the
others below, with the rules of cli_args.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tinytorch.allocator import keep_freed_memory
from tinytorch.serialization import CheckpointError

from .cli_args import (Parser, UsageError, check_device, directory, existing_file, existing_path,
                       non_negative_int, png_file, positive_float, positive_int, read_lines,
                       top_p)
from .data.corpus import CorpusError
from .data_cli import add_commands as data_commands
from .generate import DecodingOptionError
from .lm_cli import add_commands as lm_commands
from .gpt2.cli import add_commands as gpt2_commands
from .plots import MissingDependency
from .train_args import TrainArgs, add_train_options, train_args_from

DEFAULT_OUT = TrainArgs.out

USER_ERRORS = (UsageError, FileNotFoundError, IsADirectoryError, NotADirectoryError,
               PermissionError, CorpusError, CheckpointError, MissingDependency,
               DecodingOptionError)


def one_line(e: Exception) -> str:
    """A user error as one line: 'path: No such file or directory' for an OS error."""
    if isinstance(e, OSError) and e.filename is not None and e.strerror:
        text = f"{e.filename}: {e.strerror}"
    else:
        text = str(e)
    return " ".join(text.split())


def cmd_train(a) -> None:
    from .train import Trainer  # noqa: PLC0415
    from .trainer import train_and_report  # noqa: PLC0415

    args = train_args_from(a, TrainArgs)
    check_device(args.device)
    # Trainer checks every option (args.validate()), --out, the corpus and --resume before
    # it writes anything.
    train_and_report(Trainer(args))


def _load(a, kind="translator"):
    """(model, tokenizer) from --checkpoint or --out, which must hold a ``kind`` model."""
    from .checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint  # noqa: PLC0415

    path = a.checkpoint or checkpoint_path(a.out or DEFAULT_OUT)
    device = check_device(a.device)
    if a.checkpoint is None and a.out is None and not os.path.exists(path):
        from . import pretrained  # noqa: PLC0415

        if pretrained.available():  # right after install: the translator in the package
            print(pretrained.NOTICE, file=sys.stderr)
            return pretrained.load(device)
    return model_from_checkpoint(load_checkpoint(path, kind=kind), path, device)


def _sentences(a):
    """The sentences to translate: the command line's, --file's lines, or None (stdin)."""
    if a.sentence and a.file:
        raise UsageError(f"--file {a.file} and a sentence on the command line: give one of "
                         f"them (the sentence would win and the file be ignored)")
    if a.sentence:
        return [" ".join(a.sentence)]
    if a.file:
        return read_lines(a.file, "sentences")
    return None


def _sampling_options(a) -> dict:
    """generate()'s sampling options from --sample, --temperature, --top-k, --top-p."""
    given = [f for f, v in (("--temperature", a.temperature), ("--top-k", a.top_k),
                            ("--top-p", a.top_p)) if v is not None]
    if not a.sample:
        if given:
            raise UsageError(f"{given[0]} only changes sampling: add --sample (without it the "
                             f"translation is greedy, or beam search with --beam)")
        return {}
    if a.beam > 1:
        raise UsageError(f"--sample and --beam {a.beam}: choose one (sampling draws one "
                         f"translation; beam search keeps the {a.beam} best)")
    temperature = 1.0 if a.temperature is None else a.temperature
    return dict(do_sample=True, temperature=temperature, top_k=a.top_k, top_p=a.top_p)


def _warn_if_cut(model, tok, sentences) -> None:
    """A sentence longer than the model reads is cut, and the user is told so (one line on
    stderr per sentence): with --file, one long line should not cost the other lines."""
    from .evaluate import overlong  # noqa: PLC0415

    limit = model.config.max_len - 1
    for i, n in overlong(tok, sentences, model.config.max_len):
        which = "the sentence" if len(sentences) == 1 else f"sentence {i + 1}"
        print(f"warning: {which} has {n} tokens and the model reads at most {limit}: only its "
              f"first {limit} tokens were translated (split long text into sentences)",
              file=sys.stderr)


def cmd_translate(a) -> None:
    from .evaluate import translate  # noqa: PLC0415

    opts = _sampling_options(a)
    sentences = _sentences(a)  # (read before the model loads: a bad --file fails fast)
    if sentences is None and (a.attention or a.attention_text):
        raise UsageError("--attention and --attention-text need a sentence (or --file): the "
                         "first one's attention is shown")
    model, tok = _load(a)
    if sentences is None:  # interactive
        print("English sentence (empty line or Ctrl-D to quit):")
        for line in sys.stdin:
            if not line.strip():
                break
            _warn_if_cut(model, tok, [line.strip()])
            print(translate(model, tok, [line.strip()], num_beams=a.beam, device=a.device,
                            **opts)[0])
        return
    _warn_if_cut(model, tok, sentences)
    outputs = translate(model, tok, sentences, num_beams=a.beam, device=a.device, **opts)
    for s, t in zip(sentences, outputs):
        print(t if len(sentences) > 1 or not (a.attention or a.attention_text) else f"{s} -> {t}")
    if a.attention or a.attention_text:
        _show_attention(model, tok, sentences[0], outputs[0], a)


def _show_attention(model, tok, source, translation, a) -> None:
    from .attention_maps import cross_attention  # noqa: PLC0415
    from .plots import attention_table, plot_attention  # noqa: PLC0415

    weights, src_tokens, tgt_tokens = cross_attention(model, tok, source, tok.encode(translation),
                                                      device=a.device)
    if a.attention_text:
        for layer in range(weights.shape[0]):
            for head in range(weights.shape[1]):
                print(f"\ncross-attention, layer {layer + 1}, head {head + 1} "
                      f"(rows: Spanish tokens, columns: English tokens)")
                print(attention_table(weights[layer, head], src_tokens, tgt_tokens))
    if a.attention:
        if os.path.dirname(a.attention):
            os.makedirs(os.path.dirname(a.attention), exist_ok=True)
        plot_attention(weights, src_tokens, tgt_tokens, a.attention,
                       title=f"{source}  ->  {translation}")
        print(f"attention map: {a.attention}")


#: What the attention command prints and draws, in English and Spanish.
LABELS = {
    "en": {"encoder": "encoder self-attention", "decoder": "decoder masked self-attention",
           "cross": "cross-attention", "layer": "layer", "head": "head",
           "rows": {"encoder": "rows: English tokens (queries), columns: English tokens (keys)",
                    "decoder": "rows: Spanish input tokens (queries), columns: the same (keys)",
                    "cross": "rows: predicted Spanish tokens, columns: English tokens"}},
    "es": {"encoder": "autoatención del codificador",
           "decoder": "autoatención enmascarada del decodificador",
           "cross": "atención cruzada", "layer": "capa", "head": "cabeza",
           "rows": {"encoder": "filas: tokens en inglés (consultas), columnas: tokens en inglés "
                               "(claves)",
                    "decoder": "filas: tokens de entrada en español (consultas), columnas: los "
                               "mismos (claves)",
                    "cross": "filas: tokens en español predichos, columnas: tokens en inglés"}},
}


def cmd_attention(a) -> None:
    from .attention_maps import KINDS, attention_maps  # noqa: PLC0415
    from .evaluate import translate  # noqa: PLC0415
    from .plots import attention_table, plot_attention  # noqa: PLC0415

    model, tok = _load(a)
    source = " ".join(a.sentence)
    _warn_if_cut(model, tok, [source])
    target = a.target or translate(model, tok, [source], num_beams=a.beam, device=a.device)[0]
    maps = attention_maps(model, tok, source, tok.encode(target), device=a.device)
    kinds = KINDS if a.kind == "all" else (a.kind,)
    shown = {}  # kind -> (layers, heads) to show, checked before anything is printed
    for kind in kinds:
        n_layers, n_heads = maps[kind][0].shape[:2]
        shown[kind] = (range(n_layers) if a.layer is None else [_index(a.layer, n_layers,
                                                                        "--layer")],
                       range(n_heads) if a.head is None else [_index(a.head, n_heads, "--head")])
    print(f"{source} -> {target}")
    text = LABELS[a.lang]
    for kind in kinds:
        weights, rows, cols = maps[kind]
        layers, heads = shown[kind]
        for layer in layers:
            for head in heads:
                print(f"\n{text[kind]}, {text['layer']} {layer + 1}, {text['head']} {head + 1} "
                      f"({text['rows'][kind]})")
                print(attention_table(weights[layer, head], cols, rows))
        if a.plot:
            os.makedirs(a.plot, exist_ok=True)
            png = os.path.join(a.plot, f"attention-{kind}.png")
            plot_attention(weights, cols, rows, png, title=f"{text[kind]}: {source} -> {target}",
                           layer_word=text["layer"], head_word=text["head"])
            print(f"\n{text[kind]}: {png}")


def _index(one_based: int, count: int, option: str) -> int:
    if not 1 <= one_based <= count:
        raise UsageError(f"{option} {one_based}: the model has {count}; give 1 to {count}")
    return one_based - 1


def cmd_evaluate(a) -> None:
    from .data.corpus import load_corpus, read_tsv  # noqa: PLC0415
    from .evaluate import evaluate_pairs  # noqa: PLC0415

    if a.data is None:
        from .data.synthetic import make_splits  # noqa: PLC0415

        pairs = make_splits(seed=a.seed)["test"]
    elif os.path.isdir(a.data):
        pairs = load_corpus(a.data, seed=a.seed)["test"]
    else:
        pairs = read_tsv(a.data)
    model, tok = _load(a)
    t0 = time.perf_counter()
    r = evaluate_pairs(model, tok, pairs, num_beams=a.beam, device=a.device, examples=a.examples)
    for en, ref, hyp in r["examples"]:
        print(f"EN   {en}\nREF  {ref}\nOUT  {hyp}\n")
    name = "greedy" if a.beam == 1 else f"beam {a.beam}"
    print(f"{len(pairs)} sentences, {name}: BLEU {r['bleu']:.1f}  chrF {r['chrf']:.1f}  "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"sacreBLEU signatures: {r['bleu_signature']} | {r['chrf_signature']}")


def build_parser() -> Parser:
    """The four commands and their options. Each option that takes a value names its rule
    (cli_args.py) as its ``type``: the one place that says which values it accepts."""
    p = Parser(prog="python -m transformer",
               description="Train and use a toy English->Spanish translator.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a translator (default: the built-in corpus)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_train_options(t)
    t.set_defaults(fn=cmd_train)

    def model_args(q):
        q.add_argument("--out", type=directory,
                       help=f"the training run's directory (default: {DEFAULT_OUT}, or the "
                       f"small translator that ships with the package while it holds none)")
        q.add_argument("--checkpoint", type=existing_file,
                       help="a checkpoint file (default: OUT/checkpoint.npz)")
        q.add_argument("--beam", type=positive_int, default=1, help="beam size (1: greedy)")
        q.add_argument("--device", default="cpu", choices=["cpu", "cuda"])

    r = sub.add_parser("translate", help="translate a sentence, a file, or interactively")
    r.add_argument("sentence", nargs="*", help="the English sentence (else --file or stdin)")
    r.add_argument("--file", type=existing_file, help="translate each line of this UTF-8 file")
    model_args(r)
    r.add_argument("--sample", action="store_true", help="sample instead of greedy/beam")
    r.add_argument("--temperature", type=positive_float,
                   help="with --sample: divide the logits by this (default 1)")
    r.add_argument("--top-k", type=positive_int, help="with --sample: the k likeliest tokens only")
    r.add_argument("--top-p", type=top_p, help="with --sample: the likeliest tokens whose "
                   "probability adds up to p (nucleus sampling)")
    r.add_argument("--attention", metavar="PNG", type=png_file,
                   help="draw the cross-attention to this PNG")
    r.add_argument("--attention-text", action="store_true", help="print the cross-attention")
    r.set_defaults(fn=cmd_translate)

    w = sub.add_parser("attention", help="print and draw every attention map for a sentence "
                       "(encoder, decoder and cross-attention, every layer and head)")
    w.add_argument("sentence", nargs="+", help="the English sentence")
    model_args(w)
    w.add_argument("--target", help="the Spanish side to read (default: the model's translation)")
    w.add_argument("--kind", default="all", choices=["all", "encoder", "decoder", "cross"])
    w.add_argument("--layer", type=positive_int, help="only this layer (1-based)")
    w.add_argument("--head", type=positive_int, help="only this head (1-based)")
    w.add_argument("--lang", default="en", choices=["en", "es"], help="language of the labels")
    w.add_argument("--plot", metavar="DIR", type=directory,
                   help="write attention-<kind>.png files into DIR")
    w.set_defaults(fn=cmd_attention)

    e = sub.add_parser("evaluate", help="BLEU and chrF (sacrebleu) on a test set")
    e.add_argument("--data", type=existing_path,
                   help="a TSV file or corpus directory (default: built-in test split)")
    model_args(e)
    e.add_argument("--examples", type=non_negative_int, default=5, help="examples to print")
    e.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the built-in corpus, or of the held-out test split of a "
                   "corpus directory without test.tsv")
    e.set_defaults(fn=cmd_evaluate)
    gpt2_commands(sub)  # python -m transformer gpt2 generate --model DIR "Hello" (gpt2/cli.py)
    lm_commands(sub)    # lm train/generate, mlm train/fill-mask (lm_cli.py)
    data_commands(sub)  # data tatoeba: download and split a real corpus (data_cli.py)
    return p


def main(argv=None) -> int:
    """Run one command; 0 on success, 2 for a user's mistake (one line on stderr), 130
    for a Ctrl-C outside training (training handles its own: transformer/stopping.py), 1
    when the output pipe was closed."""
    try:
        args = build_parser().parse_args(argv)
        keep_freed_memory()  # faster training steps; see tinytorch/allocator.py
        args.fn(args)
    except USER_ERRORS as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 2
    except MemoryError:  # e.g. --d-model 1000000: the sizes asked for do not fit
        print("error: out of memory: the model, batch or vocabulary asked for does not fit "
              "in this machine's memory; choose smaller --d-model/--ff/--layers/--vocab-size/"
              "--batch-tokens", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # piped into a program that stopped reading (| head): no more
        _silence_stdout()    # output is wanted, and no traceback either
        return 1
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that Python's final flush of the closed pipe does not
    raise again on the way out (the recipe of Python's signal module documentation)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass


if __name__ == "__main__":
    from .ranks import end_job  # (under mpiexec, a mistake on one rank ends every rank)

    sys.exit(end_job(main()))
