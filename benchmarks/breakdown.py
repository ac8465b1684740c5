"""Where the time of one training step goes, by op family.

    python -m benchmarks.breakdown --config M

Every op class's ``forward`` and ``backward`` is wrapped with a timer (in this process
only), then a few steps run. What no op accounts for is the framework itself:
"forward: Python & graph" is the forward pass minus its ops (module code, recording
nodes), "backward: engine" is the backward pass minus its ops (walking the graph,
accumulating gradients), and "optimizer" is ``clip_grad_norm_`` + ``Adam.step``.
"""

from __future__ import annotations

import argparse
import collections
import json
import time

FAMILIES = {
    "Linear": "matmul (Linear, Matmul)", "Matmul": "matmul (Linear, Matmul)",
    "ScaledDotProductAttention": "attention (fused QKᵀ, softmax, ·V)",
    "CrossEntropy": "softmax & cross-entropy", "Softmax": "softmax & cross-entropy",
    "LogSoftmax": "softmax & cross-entropy", "LogSumExp": "softmax & cross-entropy",
    "LinearCrossEntropy": "output layer + cross-entropy (fused)",
    "PackRows": "packing (padding left out)", "UnpackRows": "packing (padding left out)",
    "LayerNorm": "layer norm", "Embedding": "embedding", "Dropout": "dropout",
}
MODULE_FAMILIES = {"shape": "shape & indexing", "indexing": "shape & indexing",
                   "reduction": "reductions"}


def family(cls) -> str:
    if cls.__name__ in FAMILIES:
        return FAMILIES[cls.__name__]
    return MODULE_FAMILIES.get(cls.__module__.rsplit(".", 1)[-1], "elementwise")


def instrument(totals: collections.Counter):
    """Wrap forward/backward of every op class; returns a function that undoes it."""
    undo = []

    def timed(fn, key):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[key] += time.perf_counter() - t0
        return wrapper

    from tinytorch.autograd.function import op_classes

    for cls in op_classes():
        for phase in ("forward", "backward"):
            if phase in vars(cls):
                original = vars(cls)[phase]
                setattr(cls, phase, timed(original, (phase, family(cls))))
                undo.append((cls, phase, original))

    def restore():
        for cls, phase, original in undo:
            setattr(cls, phase, original)
    return restore


def measure(config: str = "M", steps: int = 3) -> dict:
    import tinytorch as tt
    from tinytorch import nn
    from tinytorch.allocator import keep_freed_memory

    from .workload import ADAM, CONFIGS, LABEL_SMOOTHING, make_batch, tinytorch_model

    keep_freed_memory()
    cfg = CONFIGS[config]
    model = tinytorch_model(cfg)
    opt = tt.optim.Adam(model.parameters(), **ADAM)
    s, i, o = (tt.tensor(a) for a in make_batch(cfg))
    phases = collections.Counter()
    ops = collections.Counter()

    def step(record):
        t0 = time.perf_counter()
        loss = model.loss(s, i, o, label_smoothing=LABEL_SMOOTHING)
        t1 = time.perf_counter()
        opt.zero_grad()
        loss.backward()
        t2 = time.perf_counter()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        t3 = time.perf_counter()
        if record:
            phases["forward"] += t1 - t0
            phases["backward"] += t2 - t1
            phases["optimizer"] += t3 - t2

    step(False)  # warm-up, uninstrumented: the first steps also grow the heap
    step(False)
    restore = instrument(ops)
    try:
        for _ in range(steps):
            step(True)
    finally:
        restore()
    per_step = {}
    for (phase, fam), t in ops.items():
        per_step[fam] = per_step.get(fam, 0.0) + t / steps
    per_step["forward: Python & graph"] = (phases["forward"] - sum(
        t for (ph, _), t in ops.items() if ph == "forward")) / steps
    per_step["backward: engine"] = (phases["backward"] - sum(
        t for (ph, _), t in ops.items() if ph == "backward")) / steps
    per_step["optimizer (clip + Adam)"] = phases["optimizer"] / steps
    total = sum(phases.values()) / steps
    return {"config": config, "step_s": total,
            "families": dict(sorted(per_step.items(), key=lambda kv: -kv[1]))}


def format_table(result: dict) -> str:
    lines = [f"one {result['config']} training step: {result['step_s'] * 1e3:.0f} ms"]
    for name, t in result["families"].items():
        lines.append(f"  {name:<36} {t * 1e3:8.1f} ms  {100 * t / result['step_s']:5.1f}%")
    return "\n".join(lines)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", default="M")
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    a = p.parse_args(argv)
    result = measure(a.config, a.steps)
    print(json.dumps(result) if a.json else format_table(result))


if __name__ == "__main__":
    main()
