"""tinytorch.parallel's elementwise threads, off against on, alternating in one process.

    python -m benchmarks.elementwise_threads --threads 2 --configs S M --repeats 8

Part 1 times single passes (LayerNorm's forward rows, Adam's sliced update) by size, to
find where threads start paying (tinytorch/parallel.py's MIN_ELEMENTS). Part 2 times the
language model's training step (benchmarks/lm_workload.py) with the helper off and on
(at ``--on-threshold`` elements), one step of each in turn, so both see the same load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from functools import partial

import numpy as np


def _best(f, reps, tries=5):
    """Fastest mean time of ``reps`` calls over ``tries`` tries."""
    out = []
    for _ in range(tries):
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        out.append((time.perf_counter() - t0) / reps)
    return min(out)


def passes(sizes, d=256):
    import tinytorch.parallel as P
    from tinytorch.ops.normalization import _forward_rows
    from tinytorch.optim.adam import _adam_slices

    rng = np.random.default_rng(0)
    for elems in sizes:
        rows = elems // d
        x = rng.standard_normal((rows, d), dtype=np.float32)
        xhat, y, rstd = np.empty_like(x), np.empty_like(x), np.empty((rows, 1), np.float32)
        ln = partial(_forward_rows, w=np.ones(d, np.float32), b=np.zeros(d, np.float32),
                     eps=1e-5)
        adam = partial(_adam_slices, args=(0.9, 0.999, 1e-8, 1e-3, 0.5))
        arrays = [rng.random(elems, dtype=np.float32) for _ in range(4)]
        reps = max(3, 2_000_000 // elems)
        row = [f"{elems:>9,}"]
        for name, fn, args in (("layer_norm fwd", ln, (x, xhat, rstd, y)),
                               ("adam", adam, arrays)):
            off = _best(lambda: P.rows_parallel(fn, *args, min_elements=None), reps)
            on = _best(lambda: P.rows_parallel(fn, *args, min_elements=1), reps)
            row.append(f"{name} {off * 1e6:8.0f} -> {on * 1e6:8.0f} us ({off / on:.2f}x)")
        print(" | ".join(row), flush=True)


def lm_steps(config, repeats, threshold):
    import tinytorch.parallel as P
    from tinytorch.allocator import keep_freed_memory

    from .lm_workload import LM_CONFIGS, step_function

    keep_freed_memory()
    step = step_function("tinytorch", LM_CONFIGS[config])
    for _ in range(2):
        step()
    times = {None: [], threshold: []}
    for _ in range(repeats):
        for mode in times:
            P.MIN_ELEMENTS = mode
            t0 = time.perf_counter()
            step()
            times[mode].append(time.perf_counter() - t0)
    P.MIN_ELEMENTS = None
    off, on = times[None], times[threshold]
    ratio = statistics.median(off) / statistics.median(on)
    print(f"LM {config} step: off median {statistics.median(off) * 1e3:.0f} ms "
          f"(min {min(off) * 1e3:.0f}), on median {statistics.median(on) * 1e3:.0f} ms "
          f"(min {min(on) * 1e3:.0f}); median ratio {ratio:.2f}x, "
          f"min ratio {min(off) / min(on):.2f}x, {repeats} steps each", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--configs", nargs="*", default=["S", "M"])
    p.add_argument("--repeats", type=int, default=8)
    p.add_argument("--on-threshold", type=int, default=128 * 1024)
    a = p.parse_args(argv)
    import tinytorch

    tinytorch.set_num_threads(a.threads)
    print(f"threads {tinytorch.get_num_threads()}, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    passes([16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024, 4096 * 1024])
    for config in a.configs:
        lm_steps(config, a.repeats, a.on_threshold)
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
