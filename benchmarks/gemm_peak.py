"""The machine's fp32 matrix-multiply peak as NumPy reaches it: the MFU denominator.

    python -m benchmarks.gemm_peak        # threads: NumPy's BLAS default

The best of several square float32 GEMMs (n = 1024, 2048, 3072), each the median
of a few runs: what BLAS can do when nothing else gets in the way. The GEMM check
(benchmarks/machine.py) runs first, and the JSON says which BLAS kernel ran.
"""

from __future__ import annotations

import json
import statistics
import time

import numpy as np


def gemm_gflops(n: int, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), np.float32)
    np.matmul(a, b, out=out)  # warm-up: threads started, pages touched
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def peak_gflops(sizes=(1024, 2048, 3072)) -> dict:
    per_size = {n: gemm_gflops(n) for n in sizes}
    return {"peak_gflops": max(per_size.values()), "per_size": per_size}


if __name__ == "__main__":
    from benchmarks.machine import checked_blas

    blas = checked_blas(torch=False)  # before timing: a wrong BLAS fails here, loudly
    print(json.dumps({**peak_gflops(), "blas": blas}))
