"""Data parallelism on this machine, and what it would give on several (issue 18).

    python -m benchmarks.distributed                 # configs S and M (a few minutes)
    python -m benchmarks.distributed --configs S --repeats 5

For each config (benchmarks/workload.py), the same global batch and the same training
step, in fresh processes with their BLAS threads set before NumPy starts:

    1 process  x 1 thread     the baseline
    1 process  x 2 threads    BLAS parallelism: what `python -m transformer train` does
    2 processes x 1 thread    data parallelism: mpiexec -n 2, DistributedDataParallel
                              (each bucket's all_reduce started during backward, and
                              all of them after it: overlap on and off)

and, under mpiexec, the time of one ``all_reduce`` of the model's gradients (float32).

**Projection to several machines.** Each machine runs what was measured here (2
processes x 1 thread on the config's batch: step time t, which includes the all_reduce
between its two processes) and N machines step on N batches together. What they add is
the gradients' trip over the network, a ring all-reduce between the machines: each sends
and receives 2 (N - 1) / N of the S gradient bytes, in 2 (N - 1) messages of latency a:

    step(N) = t + 2 (N - 1) / N * S / B + 2 (N - 1) * a,    efficiency(N) = t / step(N)

for a network of bandwidth B (stated: 10 Gbit/s and 1 Gbit/s Ethernet, a = 50 us). No
overlap with backward is assumed (with one 25 MB bucket, which holds these models'
gradients whole, the reduction starts when backward ends), so the projection is the
pessimistic one. It leaves out stragglers and a network shared with other traffic.
The table is printed and saved, with the machine, the versions and the load average
before and after, as JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.machine import mpiexec_path as _mpiexec  # noqa: E402
from benchmarks.run import _env  # noqa: E402

#: Networks for the projection: (name, bytes per second, latency in seconds).
NETWORKS = [("10 Gbit/s", 10e9 / 8, 50e-6), ("1 Gbit/s", 1e9 / 8, 50e-6)]
MACHINES = (2, 4, 8)


def mpiexec_path() -> str:
    found = _mpiexec()
    if found is None:
        raise SystemExit('no mpiexec or mpi4py: pip install -e ".[distributed]"')
    return found


def measure(config: str, processes: int, threads: int, repeats: int, overlap: int = 1) -> dict:
    """One fresh run of benchmarks.distributed_step (under mpiexec for 2 processes)."""
    cmd = [sys.executable, "-m", "benchmarks.distributed_step", "--config", config,
           "--repeats", str(repeats), "--overlap", str(overlap)]
    if processes > 1:
        cmd = [mpiexec_path(), "-n", str(processes), *cmd]
    proc = subprocess.run(cmd, env=_env(threads), cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {**rows[0], "threads": threads}


def projection(step_s: float, gradient_bytes: float) -> list[dict]:
    """Scaling efficiency on N machines (the formula in this module's docstring)."""
    out = []
    for name, bandwidth, latency in NETWORKS:
        for n in MACHINES:
            network = 2 * (n - 1) / n * gradient_bytes / bandwidth + 2 * (n - 1) * latency
            out.append({"network": name, "machines": n, "network_s": network,
                        "efficiency": step_s / (step_s + network)})
    return out


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--configs", default="S,M")
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    from benchmarks.bench_ops import machine_info

    result = {"date": datetime.date.today().isoformat(), "machine": machine_info(None),
              "load_before": load_average(), "configs": {}}
    print(f"# load average before: {result['load_before']}", flush=True)
    for config in a.configs.split(","):
        runs = {
            "1 process x 1 thread": measure(config, 1, 1, a.repeats),
            "1 process x 2 threads": measure(config, 1, 2, a.repeats),
            "2 processes x 1 thread": measure(config, 2, 1, a.repeats, overlap=1),
            "2 processes x 1 thread, no overlap": measure(config, 2, 1, a.repeats, overlap=0),
        }
        best = min((r for k, r in runs.items() if k.startswith("2")), key=lambda r: r["step_s"])
        result["configs"][config] = {
            "runs": runs, "projection": projection(best["step_s"], best["gradient_mb"] * 1e6)}
        base = runs["1 process x 1 thread"]["tokens_per_s"]
        print(f"\n## config {config}: {best['params'] / 1e6:.2f}M parameters, gradients "
              f"{best['gradient_mb']:.1f} MB, all_reduce on this machine "
              f"{best['allreduce_s'] * 1e3:.2f} ms")
        print("| run | step (ms) | tokens/s | vs 1 x 1 |\n|---|---|---|---|")
        for name, r in runs.items():
            print(f"| {name} | {r['step_s'] * 1e3:.0f} | {r['tokens_per_s']:,.0f} | "
                  f"{r['tokens_per_s'] / base:.2f}x |")
        print("\n| network | machines | gradient traffic per step (ms) | projected efficiency |"
              "\n|---|---|---|---|")
        for row in result["configs"][config]["projection"]:
            print(f"| {row['network']} | {row['machines']} | {row['network_s'] * 1e3:.1f} | "
                  f"{row['efficiency']:.0%} |")
    result["load_after"] = load_average()
    print(f"\n# load average after: {result['load_after']}")
    out = ROOT / "benchmarks" / "results" / f"distributed-cpu-{result['date']}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"# saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
