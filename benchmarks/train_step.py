"""Time training steps of one config in this process and print one JSON line.

    python -m benchmarks.train_step --config M --framework tinytorch --threads 2

The suite (benchmarks/run.py) starts one fresh process per (config, framework,
threads), so that peak RSS is the config's own and BLAS thread pools start clean.
BLAS threads must be fixed before NumPy is imported: run.py sets OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS in the child's environment (and removes the
variables that pin OpenBLAS's kernel: benchmarks/machine.py). Before timing, the GEMM
check runs on NumPy's BLAS (and PyTorch's, for its rows), and the JSON line says which
BLAS ran.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

from .machine import check_gemm, checked_blas
from .workload import CONFIGS, FRAMEWORKS, step_function, throughput


def check_torch_gemm() -> float:
    """The GEMM check on PyTorch's BLAS (its own MKL or OpenBLAS, not NumPy's)."""
    import torch

    return check_gemm(matmul=lambda a, b: (torch.from_numpy(a) @ torch.from_numpy(b)).numpy())


def time_steps(step, sync, warmup: int, repeats: int) -> list[float]:
    for _ in range(warmup):
        step()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def measure(framework: str, config: str, threads: int, device: str, warmup: int,
            repeats: int) -> dict:
    from tinytorch.allocator import keep_freed_memory

    keep_freed_memory()  # both frameworks: the same malloc settings (see tinytorch/allocator.py)
    if framework == "torch":
        import torch
        torch.set_num_threads(threads)
    blas = checked_blas(torch=framework == "torch")  # before timing: fails loudly
    if framework == "torch" and device == "cpu":
        blas["torch_gemm_check_rel_error"] = check_torch_gemm()
    cfg = CONFIGS[config]
    step, sync = step_function(framework, cfg, device)
    times = time_steps(step, sync, warmup, repeats)
    med = statistics.median(times)
    return {
        "framework": framework, "config": config, "threads": threads, "device": device,
        "step_s": med, "min_s": min(times), "max_s": max(times), "repeats": repeats,
        "times_s": times,
        **throughput(cfg, med),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "blas": blas,
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", choices=sorted(CONFIGS), required=True)
    p.add_argument("--framework", choices=FRAMEWORKS, required=True,
                   help="plain: tinytorch with its fast paths off (tinytorch.fast_paths(False))")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    result = measure(a.framework, a.config, a.threads, a.device, a.warmup, a.repeats)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
