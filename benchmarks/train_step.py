"""Time training steps of one config in this process and print one JSON line.

    python -m benchmarks.train_step --config M --framework tinytorch --threads 2

The suite (benchmarks/run.py) starts one fresh process per (config, framework,
threads), so that peak RSS is the config's own and BLAS thread pools start clean.
BLAS threads must be fixed before NumPy is imported: run.py sets OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS in the child's environment (and removes the
variables that pin OpenBLAS's kernel: benchmarks/machine.py). Before timing, the GEMM
check runs on NumPy's BLAS (and PyTorch's, for its rows), and the JSON line says which
BLAS ran.

``--framework torch-compile`` compiles the SDPA twin's loss (forward and backward) with
``torch.compile`` during its first step: that step's time less the median step is the
line's ``compile_s``, and the timed steps come after it and the warm-up steps. Where
compiling fails on this machine (no C++ compiler, an inductor error), the line is the
row with ``"error"``: the reason in one line, and no timings.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time

from .machine import check_gemm, checked_blas
from .workload import CONFIGS, FRAMEWORKS, TORCH_FRAMEWORKS, step_function, throughput


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


def one_line(error: BaseException) -> str:
    """The innermost cause of an error, in one line (torch.compile wraps the compiler's)."""
    while error.__cause__ is not None:
        error = error.__cause__
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")
    return f"{type(error).__name__}: {first}"[:200]


def measure(framework: str, config: str, threads: int, device: str, warmup: int,
            repeats: int) -> dict:
    from tinytorch.allocator import keep_freed_memory

    keep_freed_memory()  # both frameworks: the same malloc settings (see tinytorch/allocator.py)
    is_torch = framework in TORCH_FRAMEWORKS
    if is_torch:
        import torch
        torch.set_num_threads(threads)
    blas = checked_blas(torch=is_torch)  # before timing: fails loudly
    if is_torch and device == "cpu":
        blas["torch_gemm_check_rel_error"] = check_torch_gemm()
    cfg = CONFIGS[config]
    row = {"framework": framework, "config": config, "threads": threads, "device": device}
    step, sync = step_function(framework, cfg, device)
    first_s = None
    if framework == "torch-compile":  # the first step compiles
        t0 = time.perf_counter()
        try:
            step()
            sync()
        except Exception as e:  # noqa: BLE001 (any compiler failure: report it, time nothing)
            return {**row, "error": one_line(e), "blas": blas}
        first_s = time.perf_counter() - t0
    times = time_steps(step, sync, warmup, repeats)
    med = statistics.median(times)
    if first_s is not None:
        row.update(first_step_s=first_s, compile_s=first_s - med)
    return {
        **row, "step_s": med, "min_s": min(times), "max_s": max(times), "repeats": repeats,
        "times_s": times,
        **throughput(cfg, med),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "blas": blas,
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", choices=sorted(CONFIGS), required=True)
    p.add_argument("--framework", choices=FRAMEWORKS, required=True,
                   help="plain: tinytorch with its fast paths off (tinytorch.fast_paths(False)); "
                        "torch-sdpa: the hand-written PyTorch twin with fused attention; "
                        "torch-compile: that twin under torch.compile")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    result = measure(a.framework, a.config, a.threads, a.device, a.warmup, a.repeats)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
