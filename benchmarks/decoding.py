"""Decoding speed: greedy with and without the KV cache, beam search, PyTorch's greedy
with and without a KV cache.

    python -m benchmarks.decoding --config S --threads 2

64 source sentences (the S workload's batch), 24 generated tokens each: end-of-sequence
is set to an id that is never produced, so every run decodes exactly 24 steps and the
figures compare the same work. The model is untrained (speed does not depend on the
weights). PyTorch has two rows: ``nn.Transformer`` has no KV cache, so "greedy, no
cache" is the uncached greedy loop written the obvious way (benchmarks/torch_twin.py);
"greedy, KV cache" is the hand-written twin's cached loop (benchmarks/torch_sdpa_twin.py:
cross-attention keys and values computed once, self-attention keys and values written
into a preallocated cache, ``F.scaled_dot_product_attention``), the loop to compare our
cached greedy with.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from .workload import BOS, CONFIGS, make_batch, tinytorch_model, torch_model, torch_sdpa_model

SENTENCES, TOKENS = 64, 24


def _median_time(fn, repeats: int) -> tuple[float, float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def measure(config: str = "S", threads: int = 2, repeats: int = 3, beams: int = 4,
            with_torch: bool = True) -> list[dict]:
    import tinytorch as tt
    from tinytorch.allocator import keep_freed_memory
    from transformer.generate import generate

    keep_freed_memory()  # both frameworks, one process: the same malloc settings, as the
    # translate and evaluate commands run (transformer/__main__.py) and the training rows
    cfg = CONFIGS[config]
    src = make_batch(cfg)[0][:SENTENCES]
    model = tinytorch_model(cfg).eval()
    s = tt.tensor(src)
    runs = {
        "greedy, no cache": lambda: generate(model, s, BOS, -1, max_len=TOKENS, use_cache=False),
        "greedy, KV cache": lambda: generate(model, s, BOS, -1, max_len=TOKENS, use_cache=True),
        f"beam {beams}, KV cache": lambda: generate(model, s, BOS, -1, max_len=TOKENS,
                                                    num_beams=beams),
    }
    rows = []
    for name, fn in runs.items():
        med, lo, hi = _median_time(fn, repeats)
        rows.append({"framework": "tinytorch", "run": name, "s": med, "min_s": lo, "max_s": hi,
                     "sentences_per_s": len(src) / med})
    if with_torch:
        try:
            import torch
        except ImportError:
            return rows
        torch.set_num_threads(threads)
        ts = torch.from_numpy(src)
        for name, tmodel in (("greedy, no cache", torch_model(cfg).eval()),
                             ("greedy, KV cache", torch_sdpa_model(cfg).eval())):
            med, lo, hi = _median_time(lambda: tmodel.greedy(ts, BOS, TOKENS), repeats)
            rows.append({"framework": "torch", "run": name, "s": med, "min_s": lo,
                         "max_s": hi, "sentences_per_s": len(src) / med,
                         "model": type(tmodel).__name__})
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", choices=sorted(CONFIGS), default="S")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    for row in measure(a.config, a.threads, a.repeats):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
