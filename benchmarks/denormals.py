"""Does training slow down as the loss approaches zero?

    python -m benchmarks.denormals [--json]

NumPy cannot flush denormal floats (below 1.2e-38 in float32) to zero, and the CPU
handles them up to ~100x slower than normal numbers. As a model grows confident,
softmax probabilities of wrong classes and their gradients head toward that range.
This trains config S (no label smoothing) on one fixed batch until it is memorised
(loss < ``--target``) and compares the step time at the start with the time at the end.
A ratio near 1 means no slowdown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time


def measure(target: float = 0.01, max_steps: int = 600, window: int = 5) -> dict:
    import tinytorch as tt
    from tinytorch.allocator import keep_freed_memory

    from .workload import CONFIGS, make_batch, tinytorch_model

    keep_freed_memory()
    cfg = CONFIGS["S"]
    model = tinytorch_model(cfg)
    opt = tt.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-9)
    s, i, o = (tt.tensor(a) for a in make_batch(cfg))
    times, losses = [], []
    for _ in range(max_steps):
        t0 = time.perf_counter()
        loss = model.loss(s, i, o)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
        if losses[-1] < target and len(times) > 3 * window:
            break
    early = statistics.median(times[1: 1 + window])
    late = statistics.median(times[-window:])
    return {"steps": len(times), "early_ms": early * 1e3, "late_ms": late * 1e3,
            "early_loss": losses[1], "late_loss": losses[-1], "ratio": late / early}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--target", type=float, default=0.01)
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    r = measure(a.target)
    if a.json:
        print(json.dumps(r))
    else:
        print(f"{r['steps']} steps: {r['early_ms']:.0f} ms/step at loss {r['early_loss']:.2f}, "
              f"{r['late_ms']:.0f} ms/step at loss {r['late_loss']:.4f} (x{r['ratio']:.2f})")


if __name__ == "__main__":
    main()
