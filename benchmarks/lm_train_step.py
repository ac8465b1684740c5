"""Time language-model training steps of one config in this process; print one JSON line.

    python -m benchmarks.lm_train_step --config M --framework tinytorch --threads 2

benchmarks/lm_suite.py starts one fresh process per (config, framework, threads), with
the BLAS thread count already in the environment (it must be fixed before NumPy starts).
tokens/s counts the real (non-padding) target tokens of the batch.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

from .lm_workload import (
    FRAMEWORKS, LM_CONFIGS, make_batch, real_train_flops, target_tokens, train_flops,
)
from .machine import checked_blas
from .train_step import check_torch_gemm


def measure(framework: str, config: str, threads: int, warmup: int, repeats: int) -> dict:
    from tinytorch.allocator import keep_freed_memory

    from .lm_workload import step_function

    keep_freed_memory()  # both frameworks: the same malloc settings (see tinytorch/allocator.py)
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
    blas = checked_blas(torch=framework == "torch")  # before timing: fails loudly
    if framework == "torch":
        blas["torch_gemm_check_rel_error"] = check_torch_gemm()
    cfg = LM_CONFIGS[config]
    step = step_function(framework, cfg)
    losses = [step() for _ in range(warmup)]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        losses.append(step())  # .item() inside: the step has finished
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    ids_out = make_batch(cfg)[1]
    tokens = target_tokens(ids_out)
    return {"framework": framework, "config": config, "threads": threads,
            "step_s": med, "min_s": min(times), "max_s": max(times), "repeats": repeats,
            "times_s": times, "first_loss": losses[0], "target_tokens": tokens,
            "tokens_per_s": tokens / med, "gflops": train_flops(cfg) / med / 1e9,
            "gflops_real": real_train_flops(cfg, ids_out) / med / 1e9,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "blas": blas}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", choices=sorted(LM_CONFIGS), required=True)
    p.add_argument("--framework", choices=FRAMEWORKS, required=True,
                   help="plain: tinytorch with its fast paths off (tinytorch.fast_paths(False))")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    print(json.dumps(measure(a.framework, a.config, a.threads, a.warmup, a.repeats)), flush=True)


if __name__ == "__main__":
    main()
