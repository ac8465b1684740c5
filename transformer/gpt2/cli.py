"""``python -m transformer gpt2 generate``: GPT-2 continues a prompt, on this project's code.

    python -m transformer gpt2 generate --model DIR "Hello, I'm a language model,"
    python -m transformer gpt2 generate --model DIR "Hello" --greedy --max-new-tokens 20
    python -m transformer gpt2 generate --model DIR "Hello" --num-return-sequences 3 --seed 1

DIR is a GPT-2 directory in Hugging Face's layout (config.json, model.safetensors,
vocab.json, merges.txt), e.g. the files of huggingface.co/openai-community/gpt2.

By default the continuation is *sampled* (temperature 0.8, top-k 50, top-p 0.9, seed 0:
the same command prints the same text); GPT-2's greedy text soon repeats itself, which
``--greedy`` shows. The output is the prompt and its continuation, up to
``--max-new-tokens`` tokens or GPT-2's end of text, whichever comes first.
"""

from __future__ import annotations

import sys

import tinytorch as tt

from ..cli_args import UsageError, non_negative_int, positive_float, positive_int, top_p

TEMPERATURE, TOP_K, TOP_P = 0.8, 50, 0.9


def add_commands(subparsers) -> None:
    """Add ``gpt2`` (with its sub-command ``generate``) to the CLI's sub-commands."""
    g = subparsers.add_parser("gpt2", help="run GPT-2's own weights (Hugging Face's files)")
    sub = g.add_subparsers(dest="gpt2_command", metavar="generate", required=True)
    p = sub.add_parser("generate", help="continue a prompt with GPT-2")
    p.add_argument("prompt", nargs="+", help="the text to continue (its words are joined "
                   "with one space; quote it to keep its spacing)")
    p.add_argument("--model", metavar="DIR", required=True,
                   help="a directory with config.json, model.safetensors, vocab.json, "
                   "merges.txt")
    p.add_argument("--max-new-tokens", type=positive_int, default=40,
                   help="at most this many tokens after the prompt (default 40)")
    p.add_argument("--greedy", action="store_true",
                   help="take the likeliest token each step instead of sampling")
    p.add_argument("--temperature", type=positive_float,
                   help=f"divide the logits by this before sampling (default {TEMPERATURE})")
    p.add_argument("--top-k", type=positive_int,
                   help=f"sample from the k likeliest tokens only (default {TOP_K})")
    p.add_argument("--top-p", type=top_p, help="sample from the likeliest tokens whose "
                   f"probability adds up to p (nucleus sampling; default {TOP_P})")
    p.add_argument("--seed", type=non_negative_int, default=0,
                   help="seed of the sampling (default 0: the same text every run)")
    p.add_argument("--num-return-sequences", type=positive_int, default=1,
                   help="sample this many continuations (default 1)")
    p.set_defaults(fn=cmd_generate)


def _decoding_options(a) -> dict:
    """generate()'s options from --greedy, --temperature, --top-k, --top-p, --seed."""
    if a.greedy:
        given = [f for f, v in (("--temperature", a.temperature), ("--top-k", a.top_k),
                                ("--top-p", a.top_p)) if v is not None]
        if given:
            raise UsageError(f"{given[0]} only changes sampling: drop --greedy (which takes "
                             f"the likeliest token) or {given[0]}")
        if a.num_return_sequences > 1:
            raise UsageError(f"--greedy and --num-return-sequences {a.num_return_sequences}: "
                             f"greedy decoding has one answer; sample (drop --greedy) for more")
        return {}
    return {"do_sample": True, "generator": tt.Generator().manual_seed(a.seed),
            "temperature": TEMPERATURE if a.temperature is None else a.temperature,
            "top_k": TOP_K if a.top_k is None else a.top_k,
            "top_p": TOP_P if a.top_p is None else a.top_p}


def cmd_generate(a) -> None:
    from ..generate import generate
    from .weights import from_pretrained

    options = _decoding_options(a)  # (checked before the model loads: a mistake fails fast)
    prompt = " ".join(a.prompt)
    if not prompt:
        raise UsageError("the prompt is empty: give GPT-2 some text to continue")
    model, tok = from_pretrained(a.model)
    ids = tok.encode(prompt)
    limit = model.config.max_len  # GPT-2's positional table: n_positions (1024)
    if len(ids) >= limit:
        raise UsageError(f"the prompt has {len(ids)} tokens and this GPT-2 reads at most "
                         f"{limit} positions: shorten it")
    if len(ids) + a.max_new_tokens > limit:
        print(f"warning: the prompt ({len(ids)} tokens) and --max-new-tokens "
              f"{a.max_new_tokens} pass GPT-2's {limit} positions: at most "
              f"{limit - len(ids)} new tokens", file=sys.stderr)
    prompts = [ids] * a.num_return_sequences  # one batch; "<|endoftext|>" alone: unconditional
    eos = tok.eos_token_id if tok.eos_token_id is not None else -1
    outputs = generate(model, prompts, bos_id=eos, eos_id=eos, max_len=a.max_new_tokens,
                       **options)
    for k, tokens in enumerate(outputs):
        if k:
            print("---")
        print(tok.decode(ids + tokens))  # the prompt, as typed, and its continuation
