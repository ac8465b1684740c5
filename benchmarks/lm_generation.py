"""Generation speed of the language model: greedy continuation of prompts with and without
the KV cache, ours (transformer.generate) or the PyTorch twin's loop; one JSON line per row.

    python -m benchmarks.lm_generation --framework tinytorch --config S --batches 16,64

Every prompt has the same length (pieces of the corpus' token stream, no padding) and
end-of-sequence is an id that is never produced, so every row generates exactly ``--new``
tokens and both sides do the same work. The model is untrained: speed does not depend
on the weights. tokens/s = batch x new tokens / seconds, the median of ``--repeats``
runs after one warm-up run (which checks the length of every row).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from .lm_workload import BOS, LM_CONFIGS, make_prompts, tinytorch_lm, torch_lm

NEVER = -1  # the end-of-sequence id: argmax never returns it


def _generator(framework: str, config: str, new: int):
    """A function (prompts as NumPy, use_cache) -> (batch, new) nested list of tokens."""
    cfg = LM_CONFIGS[config]
    if framework == "tinytorch":
        import tinytorch as tt
        from transformer.generate import generate

        model = tinytorch_lm(cfg).eval()
        return lambda prompts, use_cache: generate(
            model, tt.from_numpy(prompts), BOS, NEVER, max_len=new, use_cache=use_cache)
    import torch

    model = torch_lm(cfg).eval()
    return lambda prompts, use_cache: model.greedy(
        torch.from_numpy(prompts), new, use_cache=use_cache).tolist()


def measure(framework: str, config: str = "S", threads: int = 2, batches=(16, 64),
            prompt: int = 8, new: int = 32, repeats: int = 3) -> list[dict]:
    from tinytorch.allocator import keep_freed_memory

    keep_freed_memory()  # both frameworks: the same malloc settings (see tinytorch/allocator.py)
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
    run = _generator(framework, config, new)
    rows = []
    for batch in batches:
        prompts = make_prompts(LM_CONFIGS[config], batch, prompt)
        for use_cache in (False, True):
            out = run(prompts, use_cache)  # warm-up
            if any(len(row) != new for row in out):  # the same work on both sides
                raise RuntimeError(f"{framework}: a row stopped before {new} tokens")
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                run(prompts, use_cache)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            rows.append({"framework": framework, "config": config, "threads": threads,
                         "batch": batch, "prompt": prompt, "new": new, "cache": use_cache,
                         "s": med, "min_s": min(times), "max_s": max(times), "times_s": times,
                         "tokens_per_s": batch * new / med})
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--framework", choices=("tinytorch", "torch"), required=True)
    p.add_argument("--config", choices=sorted(LM_CONFIGS), default="S")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batches", default="16,64", help="comma-separated batch sizes")
    p.add_argument("--prompt", type=int, default=8, help="prompt tokens")
    p.add_argument("--new", type=int, default=32, help="generated tokens per row")
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args(argv)
    batches = [int(b) for b in a.batches.split(",")]
    for row in measure(a.framework, a.config, a.threads, batches, a.prompt, a.new, a.repeats):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
