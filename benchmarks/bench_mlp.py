"""One training step of a 784-256-10 MLP (batch 64, Adam), side by side:
tinytorch, hand-written NumPy (forward, backward and Adam by hand), PyTorch CPU.

    python benchmarks/bench_mlp.py [--threads N] [--repeats 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import tinytorch as tt
from tinytorch import nn


def median_time(step, repeats):
    for _ in range(10):
        step()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeats):
            step()
        times.append((time.perf_counter() - t0) / repeats)
    return float(np.median(times)), min(times), max(times)


def tinytorch_step(x, y):
    tt.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = tt.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = tt.tensor(x), tt.tensor(y)

    def step():
        loss = nn.functional.cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def numpy_step(x, y):
    rng = np.random.default_rng(0)
    w1 = rng.uniform(-1 / 28, 1 / 28, (256, 784)).astype(np.float32)
    b1 = np.zeros(256, np.float32)
    w2 = rng.uniform(-1 / 16, 1 / 16, (10, 256)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    params = [w1, b1, w2, b2]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0]
    n = len(y)

    def step():
        h = x @ w1.T + b1
        a = np.maximum(h, 0)
        z = a @ w2.T + b2
        z = z - z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        p[np.arange(n), y] -= 1
        dz = p / n
        grads = [None, None, dz.T @ a, dz.sum(0)]
        da = dz @ w2
        dh = da * (h > 0)
        grads[0], grads[1] = dh.T @ x, dh.sum(0)
        t[0] += 1
        c1, c2 = 1 - 0.9 ** t[0], 1 - 0.999 ** t[0]
        for p_, g, mm, vv in zip(params, grads, m, v):
            mm *= 0.9
            mm += 0.1 * g
            vv *= 0.999
            vv += 0.001 * g * g
            p_ -= 1e-3 / c1 * mm / (np.sqrt(vv / c2) + 1e-8)
    return step


def torch_step(x, y):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x), torch.tensor(y)

    def step():
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=200)
    a = ap.parse_args()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(a.threads)
    except ImportError:
        pass
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    rows = [("tinytorch", tinytorch_step(x, y)), ("numpy by hand", numpy_step(x, y))]
    try:
        import torch

        torch.set_num_threads(a.threads)
        rows.append(("pytorch", torch_step(x, y)))
    except ImportError:
        print("(PyTorch not installed: pip install -e '.[compare]' for the comparison)")
    results = {name: median_time(step, a.repeats) for name, step in rows}
    base = results["tinytorch"][0]
    print(f"MLP 784-256-10, batch 64, Adam, {a.threads} threads: step time (median of 5, min-max)")
    for name, (med, lo, hi) in results.items():
        print(f"  {name:14s} {med * 1e3:7.3f} ms  ({lo * 1e3:.3f}-{hi * 1e3:.3f})  "
              f"tinytorch / this = {base / med:.2f}")


if __name__ == "__main__":
    main()
