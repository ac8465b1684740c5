"""The copy task: the smallest end-to-end proof that the transformer learns.

Source: a random sequence of symbols; target: the same sequence, then eos. The model
must learn to attend from target position i to source position i (cross-attention
with positions), and to stop. A Transformer that has a bug in masking, positions,
head splitting or gradients does not get to 100%.

    python -m benchmarks.copy_task                     # the full run: about 800 steps
    python -m benchmarks.copy_task --steps 400 --length 6 --symbols 6

Setup (the classic one): 2 + 2 layers, d_model 64, 4 heads, d_ff 256, no dropout;
vocabulary pad=0, bos=1, eos=2 and ``--symbols`` symbols; Adam(betas=(0.9, 0.98),
eps=1e-9) with a linear warm-up then inverse-square-root decay of the learning rate.
Every step draws a fresh batch; the score is exact-sequence greedy accuracy on
``--eval-size`` fresh sequences. Prints progress (step, loss, lr, target tokens/s)
every ``--log-every`` steps, then "final score: X/N".
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import tinytorch as tt
except ImportError:  # run as a script from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import tinytorch as tt

from tinytorch.optim import Adam
from tinytorch.optim.lr_scheduler import LambdaLR
from transformer import Transformer, TransformerConfig, generate, shift_right

PAD, BOS, EOS = 0, 1, 2
FIRST_SYMBOL = 3


@dataclass
class CopyTaskArgs:
    steps: int = 800
    batch_size: int = 64
    length: int = 10            # symbols per sequence
    min_length: int | None = None  # draw lengths in [min_length, length] (padding); None: fixed
    symbols: int = 10
    d_model: int = 64
    nhead: int = 4
    layers: int = 2
    d_ff: int = 256
    peak_lr: float = 1e-3
    warmup: int = 100
    eval_size: int = 500
    log_every: int = 50
    seed: int = 0


def make_batch(rng, n, args: CopyTaskArgs):
    """(src, tgt_in, tgt_out) int64 arrays: src = symbols (then pad), tgt_out = src, eos."""
    lo = args.length if args.min_length is None else args.min_length
    lengths = rng.integers(lo, args.length + 1, size=n)
    src = np.full((n, args.length), PAD, dtype=np.int64)
    tgt = np.full((n, args.length + 1), PAD, dtype=np.int64)
    for i, k in enumerate(lengths):
        src[i, :k] = rng.integers(FIRST_SYMBOL, FIRST_SYMBOL + args.symbols, size=k)
        tgt[i, :k] = src[i, :k]
        tgt[i, k] = EOS
    return src, tgt


def warmup_inverse_sqrt(warmup: int):
    """lr multiplier for LambdaLR: k / warmup for the first steps, then sqrt(warmup / k),
    k = step + 1 (1 at k = warmup)."""
    def factor(step: int) -> float:
        k = step + 1
        return min(k / warmup, math.sqrt(warmup / k))
    return factor


def build_model(args: CopyTaskArgs) -> Transformer:
    vocab = FIRST_SYMBOL + args.symbols
    cfg = TransformerConfig(src_vocab_size=vocab, tgt_vocab_size=vocab, d_model=args.d_model,
                            nhead=args.nhead, num_encoder_layers=args.layers,
                            num_decoder_layers=args.layers, dim_feedforward=args.d_ff,
                            dropout=0.0, max_len=args.length + 2, pad_id=PAD)
    return Transformer(cfg)


def exact_match(model, src, batch_size: int = 250) -> int:
    """How many sources greedy decoding copies exactly (eos in the right place)."""
    correct = 0
    for start in range(0, len(src), batch_size):
        chunk = src[start:start + batch_size]
        out = generate(model, tt.tensor(chunk), BOS, EOS, max_len=chunk.shape[1] + 1)
        for row, pred in zip(chunk, out):
            correct += pred == [int(t) for t in row if t != PAD]
    return correct


def run(args: CopyTaskArgs, log=print) -> dict:
    tt.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = build_model(args)
    opt = Adam(model.parameters(), lr=args.peak_lr, betas=(0.9, 0.98), eps=1e-9)
    sched = LambdaLR(opt, warmup_inverse_sqrt(args.warmup))
    n_params = sum(p.numel() for p in model.parameters())
    log(f"copy task: {args.symbols} symbols, length {args.min_length or args.length}-"
        f"{args.length}, batch {args.batch_size}, {args.steps} steps; model "
        f"{args.layers}+{args.layers} layers, d_model {args.d_model}, {args.nhead} heads, "
        f"d_ff {args.d_ff}, {n_params:,} parameters")
    model.train()
    start = last = time.perf_counter()
    tokens = 0
    loss_sum, loss_n = 0.0, 0
    for step in range(1, args.steps + 1):
        src, tgt = make_batch(rng, args.batch_size, args)
        tgt_t = tt.tensor(tgt)
        loss = model.loss(tt.tensor(src), shift_right(tgt_t, BOS), tgt_t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        tokens += int((tgt != PAD).sum())
        loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
        if step % args.log_every == 0 or step == args.steps:
            now = time.perf_counter()
            log(f"step {step:5d}  loss {loss_sum / loss_n:.4f}  lr {sched.get_last_lr()[0]:.2e}  "
                f"{tokens / (now - last):,.0f} tokens/s")
            last, tokens, loss_sum, loss_n = now, 0, 0.0, 0
    train_time = time.perf_counter() - start
    eval_rng = np.random.default_rng(args.seed + 10_000)  # fresh sequences
    src, _ = make_batch(eval_rng, args.eval_size, args)
    t0 = time.perf_counter()
    correct = exact_match(model, src)
    eval_time = time.perf_counter() - t0
    log(f"trained {args.steps} steps in {train_time:.1f} s; greedy decoding of "
        f"{args.eval_size} fresh sequences in {eval_time:.1f} s")
    log(f"final score: {correct}/{args.eval_size}")
    return {"correct": correct, "total": args.eval_size, "train_time": train_time,
            "eval_time": eval_time, "final_loss": loss.item()}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for f in CopyTaskArgs.__dataclass_fields__.values():
        kind = {"int": int, "float": float, "int | None": int}[str(f.type)]
        p.add_argument("--" + f.name.replace("_", "-"), type=kind, default=f.default)
    args = CopyTaskArgs(**vars(p.parse_args(argv)))
    result = run(args)
    return 0 if result["correct"] == result["total"] else 1


if __name__ == "__main__":
    sys.exit(main())
