"""Forward + backward time per op: tinytorch vs raw NumPy (by hand) vs PyTorch CPU.

    python -m benchmarks.bench_ops              # or: python benchmarks/bench_ops.py
    python -m benchmarks.bench_ops --threads 1 --runs 7 --ops add,matmul

For each op and two sizes, tiny (4,) (the per-op overhead: Python, graph
bookkeeping) and medium (256, 256) (the arithmetic), the timed body is::

    out = op(x)            # inputs made once, with requires_grad
    out.backward(g)        # g: a precomputed upstream gradient of out's shape
    x.grad = None

The NumPy column does the same math by hand: the forward and the backward
formula, no graph, no checks: the floor for an engine over NumPy. PyTorch runs
with as many threads as NumPy's BLAS (or ``--threads``). Each figure is the
median over ``--runs`` runs of the mean time per call in a loop of at least
``--min-time`` seconds. A table is printed and saved as JSON in
``benchmarks/results/ops-<date>.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:
    import tinytorch as tt
except ImportError:  # run as a script from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import tinytorch as tt

try:
    import torch
except ImportError:
    torch = None

SIZES = {"tiny": (4,), "medium": (256, 256)}


# -- the ops: (inputs, tinytorch/torch forward, NumPy forward + backward) ---------------------
def _split_shape(shape):
    """reshape target for reshape+transpose: (2, 2) for (4,), (512, 128) for (256, 256)."""
    n = int(np.prod(shape))
    return (2, n // 2) if n <= 4 else (2 * shape[0], n // (2 * shape[0]))


def _np_exp(x, g):
    y = np.exp(x)
    return y, (g * y,)


def _np_tanh(x, g):
    y = np.tanh(x)
    return y, (g * (1 - y * y),)


def _np_softmax(x, g):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True)
    gy = g * y
    return y, (gy - y * gy.sum(axis=-1, keepdims=True),)


def _np_log_softmax(x, g):
    s = x - x.max(axis=-1, keepdims=True)
    y = s - np.log(np.exp(s).sum(axis=-1, keepdims=True))
    return y, (g - np.exp(y) * g.sum(axis=-1, keepdims=True),)


def _np_getitem(x, g):
    y = x[1:]
    gx = np.zeros_like(x)
    gx[1:] = g
    return y, (gx,)


def _np_cat(a, b, g):
    y = np.concatenate([a, b])
    n = a.shape[0]
    return y, (g[:n], g[n:])


def _np_reshape_t(x, g):
    y = x.reshape(_split_shape(x.shape)).swapaxes(0, 1)
    return y, (g.swapaxes(0, 1).reshape(x.shape),)


OPS = {
    # name: (number of inputs, forward on tinytorch/torch tensors, NumPy fwd+bwd)
    "add": (2, lambda a, b: a + b, lambda a, b, g: (a + b, (g, g))),
    "mul": (2, lambda a, b: a * b, lambda a, b, g: (a * b, (g * b, g * a))),
    "matmul": (2, lambda a, b: a @ b, lambda a, b, g: (a @ b, (g @ b.T, a.T @ g))),
    "exp": (1, lambda x: x.exp(), _np_exp),
    "tanh": (1, lambda x: x.tanh(), _np_tanh),
    "relu": (1, lambda x: x.relu(), lambda x, g: (np.maximum(x, 0), (g * (x > 0),))),
    "sum": (1, lambda x: x.sum(), lambda x, g: (x.sum(), (np.broadcast_to(g, x.shape),))),
    "mean": (1, lambda x: x.mean(),
             lambda x, g: (x.mean(), (np.broadcast_to(g / x.size, x.shape),))),
    "softmax": (1, lambda x: x.softmax(-1), _np_softmax),
    "log_softmax": (1, lambda x: x.log_softmax(-1), _np_log_softmax),
    "reshape+transpose": (1, lambda x: x.reshape(*_split_shape(x.shape)).transpose(0, 1),
                          _np_reshape_t),
    "getitem": (1, lambda x: x[1:], _np_getitem),
    "cat": (2, None, _np_cat),  # the library's own cat, picked below
}


def _shape_for(op, size):
    # A (4,) @ (4,) matmul is a dot product; the tiny matmul is (4, 4) @ (4, 4).
    shape = SIZES[size]
    return (4, 4) if op == "matmul" and size == "tiny" else shape


# -- timing ---------------------------------------------------------------------------------
def _per_call(body, min_time, runs):
    """Median over ``runs`` of the mean seconds per call, each run at least ``min_time``."""
    body()  # warm up (and catch errors before timing)
    n, t = 1, 0.0
    while True:  # calibrate the loop count
        t0 = time.perf_counter()
        for _ in range(n):
            body()
        t = time.perf_counter() - t0
        if t >= min_time / 4:
            break
        n *= 4
    loops = max(1, int(n * min_time / max(t, 1e-9)))
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(loops):
            body()
        samples.append((time.perf_counter() - t0) / loops)
    return statistics.median(samples)


def _bodies(op, size, seed=0):
    n_in, fwd, np_fn = OPS[op]
    shape = _shape_for(op, size)
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(n_in)]
    f_tt = fwd if fwd is not None else (lambda *t: tt.cat(list(t), dim=0))
    with tt.no_grad():
        out_shape = f_tt(*(tt.tensor(a) for a in arrays)).shape
    g = rng.standard_normal(out_shape).astype(np.float32)

    def np_body():
        np_fn(*arrays, g)

    bodies = {"numpy": np_body}

    def lib_body(lib, make):
        xs = [make(a) for a in arrays]
        f = fwd if fwd is not None else (lambda *t: lib.cat(list(t), dim=0))
        gt = make(g, grad=False)

        def body():
            out = f(*xs)
            out.backward(gt)
            for x in xs:
                x.grad = None
        return body

    bodies["tinytorch"] = lib_body(tt, lambda a, grad=True: tt.tensor(a, requires_grad=grad))
    if torch is not None:
        bodies["torch"] = lib_body(
            torch, lambda a, grad=True: torch.tensor(a, requires_grad=grad))
    return bodies


def blas_threads() -> int:
    """How many threads NumPy's BLAS uses (threadpoolctl if installed, else env/CPU count)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return int(counts[0])
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def machine_info(threads) -> dict:
    return {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "numpy": np.__version__, "torch": getattr(torch, "__version__", None),
        "threads": threads, "numpy_blas_threads": blas_threads(),
    }


def _limit_blas(threads):
    """Hold NumPy's BLAS to ``threads`` too (needs threadpoolctl; else a no-op)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def run(ops, sizes, runs, min_time, threads) -> list[dict]:
    if torch is not None:
        torch.set_num_threads(threads)
    rows = []
    for size in sizes:
        for op in ops:
            times = {lib: _per_call(body, min_time, runs)
                     for lib, body in _bodies(op, size).items()}
            row = {"op": op, "size": size, "shape": list(_shape_for(op, size)),
                   **{f"{lib}_us": t * 1e6 for lib, t in times.items()}}
            row["tinytorch/numpy"] = times["tinytorch"] / times["numpy"]
            if "torch" in times:
                row["tinytorch/torch"] = times["tinytorch"] / times["torch"]
            rows.append(row)
            print(_format_row(row), flush=True)
    return rows


HEADER = (f"{'op':<18} {'size':<7} {'tinytorch us':>12} {'numpy us':>10} {'torch us':>10} "
          f"{'tt/torch':>9} {'tt/numpy':>9}")


def _format_row(r):
    torch_us = f"{r['torch_us']:10.1f}" if "torch_us" in r else f"{'-':>10}"
    ratio = f"{r['tinytorch/torch']:9.2f}" if "tinytorch/torch" in r else f"{'-':>9}"
    return (f"{r['op']:<18} {r['size']:<7} {r['tinytorch_us']:12.1f} {r['numpy_us']:10.1f} "
            f"{torch_us} {ratio} {r['tinytorch/numpy']:9.2f}")


def summary(rows) -> str:
    lines = []
    for size in dict.fromkeys(r["size"] for r in rows):
        sub = [r for r in rows if r["size"] == size]
        for key in ("tinytorch/torch", "tinytorch/numpy"):
            vals = [r[key] for r in sub if key in r]
            if vals:
                geo = float(np.exp(np.mean(np.log(vals))))
                lines.append(f"{size:<7} {key:<16} geometric mean {geo:5.2f}  "
                             f"(min {min(vals):.2f}, max {max(vals):.2f})")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ops", default=",".join(OPS), help="comma-separated subset of: " + ", ".join(OPS))
    p.add_argument("--sizes", default="tiny,medium")
    p.add_argument("--runs", type=int, default=7, help="timed runs per figure (median taken)")
    p.add_argument("--min-time", type=float, default=0.05, help="seconds per run, at least")
    p.add_argument("--threads", type=int, default=None,
                   help="PyTorch threads (default: NumPy's BLAS thread count)")
    p.add_argument("--out", default=None, help="JSON path (default benchmarks/results/ops-<date>.json)")
    p.add_argument("--no-save", action="store_true")
    args = p.parse_args(argv)

    ops = [o for o in args.ops.split(",") if o]
    unknown = [o for o in ops if o not in OPS]
    if unknown:
        p.error(f"unknown ops {unknown}; choose from {list(OPS)}")
    threads = args.threads or blas_threads()
    if args.threads:
        _limiter = _limit_blas(threads)  # kept alive for the whole run
    info = machine_info(threads)
    print(f"# {info['platform']} | {info['cpu_count']} CPUs | numpy {info['numpy']} | "
          f"torch {info['torch'] or 'not installed'} | {threads} thread(s)")
    print(f"# fwd+bwd per call, median of {args.runs} runs; tiny = (4,) [(4, 4) for matmul], "
          f"medium = (256, 256)")
    print(HEADER)
    t0 = time.perf_counter()
    rows = run(ops, args.sizes.split(","), args.runs, args.min_time, threads)
    print(summary(rows))
    print(f"# {time.perf_counter() - t0:.1f} s")
    if not args.no_save:
        out = Path(args.out) if args.out else (
            Path(__file__).resolve().parent / "results" / f"ops-{datetime.date.today():%Y-%m-%d}.json")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"machine": info, "runs": args.runs, "min_time": args.min_time,
                                   "results": rows}, indent=1) + "\n")
        print(f"# saved {out}")


if __name__ == "__main__":
    main()
