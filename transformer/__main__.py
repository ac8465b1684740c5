"""``python -m transformer <command>``: train, translate, evaluate.

    python -m transformer train                       # the built-in corpus, ~10 minutes on 2 cores
    python -m transformer train --data ../shared/data/tatoeba-eng-spa --minutes 20
    python -m transformer translate "Hello world."
    python -m transformer evaluate --beam 4

Mistakes a user can make (a missing file, a corrupt checkpoint, --device cuda without
CuPy) print one line and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import fields

import tinytorch as tt
from tinytorch.allocator import keep_freed_memory
from tinytorch.serialization import CheckpointError

from .data.corpus import CorpusError
from .plots import MissingDependency
from .train import TrainArgs

DEFAULT_OUT = TrainArgs.out


class UsageError(Exception):
    """A mistake in how the program was called."""


USER_ERRORS = (UsageError, FileNotFoundError, CorpusError, CheckpointError, MissingDependency)


def _check_device(device: str) -> str:
    if device == "cuda" and not tt.cuda.is_available():
        raise UsageError("--device cuda needs CuPy and a GPU: pip install -e '.[gpu]' "
                         "(cupy-cuda12x), or use --device cpu")
    if device not in ("cpu", "cuda"):
        raise UsageError(f"--device must be cpu or cuda, got {device!r}")
    return device


def cmd_train(a) -> None:
    from .train import Trainer  # noqa: PLC0415

    if a.data is not None and not os.path.exists(a.data):
        raise FileNotFoundError(f"--data {a.data}: no such file or directory")
    _check_device(a.device)
    if a.resume and not os.path.exists(os.path.join(a.out, "checkpoint.npz")):
        raise FileNotFoundError(f"--resume: no checkpoint in {a.out} (train without --resume first)")
    args = TrainArgs(**{f.name: getattr(a, f.name) for f in fields(TrainArgs)})
    t0 = time.perf_counter()
    trainer = Trainer(args)
    trainer.run()
    trainer.final_report()
    try:
        from .plots import plot_loss  # noqa: PLC0415

        png = os.path.join(a.out, "loss.png")
        plot_loss(trainer.metrics_file, png)
        print(f"loss curve: {png}")
    except RuntimeError as e:  # no matplotlib
        print(f"(no loss curve: {e})")
    print(f"done in {time.perf_counter() - t0:.0f} s; checkpoint: {trainer.ckpt}")


def _load(a):
    from .checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint  # noqa: PLC0415

    path = a.checkpoint or checkpoint_path(a.out)
    device = _check_device(a.device)
    return model_from_checkpoint(load_checkpoint(path), path, device)


def _sentences(a):
    if a.sentence:
        return [" ".join(a.sentence)]
    if a.file:
        with open(a.file, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    return None


def cmd_translate(a) -> None:
    from .evaluate import translate  # noqa: PLC0415

    model, tok = _load(a)
    opts = {}
    if a.sample:
        opts = dict(do_sample=True, temperature=a.temperature, top_k=a.top_k, top_p=a.top_p)
    sentences = _sentences(a)
    if sentences is None:  # interactive
        print("English sentence (empty line or Ctrl-D to quit):")
        for line in sys.stdin:
            if not line.strip():
                break
            print(translate(model, tok, [line.strip()], num_beams=a.beam, device=a.device, **opts)[0])
        return
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
    target = a.target or translate(model, tok, [source], num_beams=a.beam, device=a.device)[0]
    print(f"{source} -> {target}")
    maps = attention_maps(model, tok, source, tok.encode(target), device=a.device)
    text = LABELS[a.lang]
    for kind in KINDS if a.kind == "all" else (a.kind,):
        weights, rows, cols = maps[kind]
        layers = range(weights.shape[0]) if a.layer is None else [_index(a.layer, weights.shape[0],
                                                                         "--layer")]
        heads = range(weights.shape[1]) if a.head is None else [_index(a.head, weights.shape[1],
                                                                       "--head")]
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


def _index(one_based: int, count: int, flag: str) -> int:
    if not 1 <= one_based <= count:
        raise UsageError(f"{flag} {one_based}: the model has {count}; give 1 to {count}")
    return one_based - 1


def cmd_evaluate(a) -> None:
    from .data.corpus import load_corpus, read_tsv  # noqa: PLC0415
    from .evaluate import evaluate_pairs  # noqa: PLC0415

    model, tok = _load(a)
    if a.data is None:
        from .data.synthetic import make_splits  # noqa: PLC0415

        pairs = make_splits(seed=a.seed)["test"]
    elif os.path.isdir(a.data):
        pairs = load_corpus(a.data, seed=a.seed)["test"]
    else:
        pairs = read_tsv(a.data)
    t0 = time.perf_counter()
    r = evaluate_pairs(model, tok, pairs, num_beams=a.beam, device=a.device, examples=a.examples)
    for en, ref, hyp in r["examples"]:
        print(f"EN   {en}\nREF  {ref}\nOUT  {hyp}\n")
    name = "greedy" if a.beam == 1 else f"beam {a.beam}"
    print(f"{len(pairs)} sentences, {name}: BLEU {r['bleu']:.1f}  chrF {r['chrf']:.1f}  "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"sacreBLEU signatures: {r['bleu_signature']} | {r['chrf_signature']}")


def add_train_options(parser) -> None:
    """One option per TrainArgs field: the flag is ``--field-name`` unless the field's
    metadata names another; default, help and choices come from the field too."""
    types = {"str": str, "int": int, "float": float}
    for f in fields(TrainArgs):
        flag = f.metadata.get("flag", "--" + f.name.replace("_", "-"))
        opts = {"dest": f.name, "default": f.default, "help": f.metadata["help"]}
        if isinstance(f.default, bool):  # a switch: giving the flag turns the default around
            opts["action"] = "store_false" if f.default else "store_true"
        else:  # f.type is the annotation as written, e.g. "int | None": the value is an int
            opts["type"] = types[f.type.removesuffix(" | None")]
            opts["choices"] = f.metadata.get("choices")
        parser.add_argument(flag, **opts)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m transformer",
                                description="Train and use a toy English->Spanish translator.")
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a translator (default: the built-in corpus)",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_train_options(t)
    t.set_defaults(fn=cmd_train)

    def model_args(q):
        q.add_argument("--out", default=DEFAULT_OUT, help="the training run's directory")
        q.add_argument("--checkpoint", help="a checkpoint file (default: OUT/checkpoint.npz)")
        q.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
        q.add_argument("--device", default="cpu")

    r = sub.add_parser("translate", help="translate a sentence, a file, or interactively")
    r.add_argument("sentence", nargs="*", help="the English sentence (else --file or stdin)")
    r.add_argument("--file", help="translate each line of this file")
    model_args(r)
    r.add_argument("--sample", action="store_true", help="sample instead of greedy/beam")
    r.add_argument("--temperature", type=float, default=1.0)
    r.add_argument("--top-k", type=int)
    r.add_argument("--top-p", type=float)
    r.add_argument("--attention", metavar="PNG", help="draw the cross-attention to this PNG")
    r.add_argument("--attention-text", action="store_true", help="print the cross-attention")
    r.set_defaults(fn=cmd_translate)

    w = sub.add_parser("attention", help="print and draw every attention map for a sentence "
                       "(encoder, decoder and cross-attention, every layer and head)")
    w.add_argument("sentence", nargs="+", help="the English sentence")
    model_args(w)
    w.add_argument("--target", help="the Spanish side to read (default: the model's translation)")
    w.add_argument("--kind", default="all", choices=["all", "encoder", "decoder", "cross"])
    w.add_argument("--layer", type=int, help="only this layer (1-based)")
    w.add_argument("--head", type=int, help="only this head (1-based)")
    w.add_argument("--lang", default="en", choices=["en", "es"], help="language of the labels")
    w.add_argument("--plot", metavar="DIR", help="write attention-<kind>.png files into DIR")
    w.set_defaults(fn=cmd_attention)

    e = sub.add_parser("evaluate", help="BLEU and chrF (sacrebleu) on a test set")
    e.add_argument("--data", help="a TSV file or corpus directory (default: built-in test split)")
    model_args(e)
    e.add_argument("--examples", type=int, default=5, help="examples to print")
    e.add_argument("--seed", type=int, default=0, help="seed of the built-in corpus")
    e.set_defaults(fn=cmd_evaluate)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # faster training steps; see tinytorch/allocator.py
    try:
        args.fn(args)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
