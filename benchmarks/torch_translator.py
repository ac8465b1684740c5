"""The translator trained in plain PyTorch, for a same-budget comparison with ours.

    python -m benchmarks.torch_translator --data ../shared/data/tatoeba-eng-spa \
        --size base --vocab-size 8000 --batch-tokens 4000 --warmup 500 --cooldown 0.3 --minutes 20

Everything but the model and the optimizer is the project's own: the same corpus
split, the same BPE tokenizer (same seed, same vocabulary), the same length-bucketed
batches in the same order, the same learning-rate schedule (``--cooldown`` too), clipping and label
smoothing, and the same time accounting (only training steps count toward the
budget). The model is benchmarks/torch_twin.py (``nn.Transformer``), trained with
``torch.optim.Adam``; decoding is greedy (``nn.Transformer`` has no KV cache or beam
search), scored with the same sacreBLEU call on ``test.tsv``.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from tinytorch.allocator import keep_freed_memory
from transformer.data.batching import BatchIterator, encode_pairs
from transformer.evaluate import score, source_batches
from transformer.tokenizer import BPETokenizer
from transformer.train import SIZES, TrainArgs, load_data, warmup_inverse_sqrt

from .torch_twin import TorchTranslator


@torch.no_grad()
def translate(model, tok, sentences, max_len: int, batch_size: int = 64) -> list[str]:
    model.eval()
    out = [""] * len(sentences)
    for idx, src in source_batches(tok, sentences, max_len, batch_size):
        steps = min(max_len - 1, 2 * src.shape[1] + 10)
        ids = model.greedy(torch.from_numpy(src), tok.bos_id, steps, eos_id=tok.eos_id).tolist()
        for row, i in enumerate(idx):
            seq = ids[row]
            out[i] = tok.decode(seq[: seq.index(tok.eos_id)] if tok.eos_id in seq else seq)
    model.train()
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=None)
    p.add_argument("--size", choices=sorted(SIZES), default="small")
    p.add_argument("--layers", type=int, default=None)
    p.add_argument("--vocab-size", type=int, default=1000)
    p.add_argument("--batch-tokens", type=int, default=3000)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--cooldown", type=float, default=0.0,
                   help="as train --cooldown: the last fraction of the minutes, lr down to 0")
    p.add_argument("--minutes", type=float, default=7.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the scores as JSON here")
    a = p.parse_args(argv)
    keep_freed_memory()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    args = TrainArgs(data=a.data, size=a.size, layers=a.layers, vocab_size=a.vocab_size,
                     batch_tokens=a.batch_tokens, warmup=a.warmup, lr=a.lr, seed=a.seed)
    splits = load_data(args)
    tok = BPETokenizer.train([s for pair in splits["train"] for s in pair], args.vocab_size)
    cfg = args.model_config(len(tok), tok.pad_id)
    src, tgt = encode_pairs(tok, splits["train"], args.max_len)
    model = TorchTranslator(len(tok), cfg.d_model, cfg.nhead, cfg.num_encoder_layers,
                            cfg.dim_feedforward, dropout=args.dropout, max_len=cfg.max_len,
                            pad_id=tok.pad_id)
    print(f"PyTorch twin: {sum(q.numel() for q in model.parameters()) / 1e6:.2f}M parameters, "
          f"{torch.get_num_threads()} threads", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    step, elapsed, last = 0, 0.0, time.perf_counter()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_inverse_sqrt(
        args.warmup, a.cooldown, lambda _step: elapsed / (a.minutes * 60)))
    batches = BatchIterator(src, tgt, args.batch_tokens, seed=args.seed, pad_id=tok.pad_id)
    while elapsed < a.minutes * 60:
        b = next(batches)
        t0 = time.perf_counter()
        loss = model.loss(*(torch.from_numpy(x) for x in (b.src, b.tgt_in, b.tgt_out)),
                          label_smoothing=args.label_smoothing)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        opt.step()
        sched.step()
        elapsed += time.perf_counter() - t0
        step += 1
        if time.perf_counter() - last > 30:
            last = time.perf_counter()
            print(f"step {step} loss {loss.item():.3f} [{elapsed:.0f} s]", flush=True)
    report = {"steps": step, "train_s": elapsed}
    for split in ("valid", "test"):
        pairs = splits[split]
        t0 = time.perf_counter()
        hyps = translate(model, tok, [en for en, _ in pairs], cfg.max_len)
        r = score(hyps, [es for _, es in pairs])
        report[split] = {"bleu": r["bleu"], "chrf": r["chrf"]}
        print(f"{split} ({len(pairs)} sentences, greedy): BLEU {r['bleu']:.1f}, chrF "
              f"{r['chrf']:.1f}  [{time.perf_counter() - t0:.0f} s]", flush=True)
    print(json.dumps(report))
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
