"""The language-model benchmarks: training tokens/s of our DecoderOnly against its PyTorch
twin, and generation tokens/s with and without the KV cache.

    python -m benchmarks.lm_suite --quick   # S at 2 threads, fewer repeats (< 1 minute)
    python -m benchmarks.lm_suite           # S and M at 1 and 2 threads, generation S and M

``python -m benchmarks`` runs this as its "lm" part (``--skip lm`` leaves it out). As in
the rest of the suite, every measurement is a fresh process with its BLAS threads set
before NumPy starts; ours, ours on the plain paths and PyTorch alternate, round after
round, and each side's step times from all rounds are pooled into one median. The table
is printed and saved, with the machine, versions, BLAS kernel, GEMM peak and the load
average before and after, as JSON under ``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_ops import machine_info  # noqa: E402
from benchmarks.lm_workload import GPT2_SETTINGS, LM_CONFIGS, train_flops  # noqa: E402
from benchmarks import run as suite  # noqa: E402
from benchmarks.machine import blas_summary  # noqa: E402
from benchmarks.run import add_mfu, child, gemm_peaks, has_torch  # noqa: E402


def pool(runs: list[dict], peak: float | None) -> dict:
    """One row from several processes' runs: their step times pooled into one median."""
    times = [t for r in runs for t in r["times_s"]]
    med = statistics.median(times)
    gflops = train_flops(LM_CONFIGS[runs[0]["config"]]) / med / 1e9
    real_flops = runs[0]["gflops_real"] * runs[0]["step_s"]  # the child's count, in GFLOP
    row = {**runs[0], "step_s": med, "min_s": min(times), "max_s": max(times),
           "repeats": len(times), "processes": len(runs), "times_s": times,
           "tokens_per_s": runs[0]["target_tokens"] / med, "gflops": gflops,
           "gflops_real": real_flops / med,
           "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
    add_mfu(row, peak)  # MFU on every position's FLOPs and on the real tokens'
    return row


TRAIN_HEADER = (f"{'config':<6} {'threads':>7} {'framework':<10} {'step ms':>9} {'(min-max)':>15} "
                f"{'tok/s':>8} {'GFLOP/s':>8} {'MFU':>6} {'MFUreal':>7} {'RSS MB':>7} "
                f"{'vs torch':>9}")


def format_training_row(r: dict) -> str:
    mfu = f"{100 * r['mfu']:5.1f}%" if r.get("mfu") is not None else f"{'-':>6}"
    real = f"{100 * r['mfu_real']:6.1f}%" if r.get("mfu_real") is not None else f"{'-':>7}"
    speed = f"{r['speed_vs_torch']:8.2f}x" if "speed_vs_torch" in r else f"{'':>9}"
    spread = f"({r['min_s'] * 1e3:.0f}-{r['max_s'] * 1e3:.0f})"
    return (f"{r['config']:<6} {r['threads']:>7} {r['framework']:<10} {r['step_s'] * 1e3:9.1f} "
            f"{spread:>15} {r['tokens_per_s']:8.0f} {r['gflops']:8.1f} {mfu} {real} "
            f"{r['peak_rss_mb']:7.0f} {speed}")


def training(configs, threads_list, frameworks, quick, rounds, peaks) -> list[dict]:
    """Training steps, the frameworks alternating round after round."""
    rows = []
    for name in configs:
        for threads in threads_list:
            runs = {fw: [] for fw in frameworks}
            for _ in range(rounds):
                for fw in runs:
                    runs[fw].append(child(
                        "benchmarks.lm_train_step",
                        ["--config", name, "--framework", fw, "--threads", str(threads),
                         "--repeats", "3" if quick else "10", "--warmup", "1" if quick else "2"],
                        threads)[0])
            pair = {fw: pool(r, peaks.get(threads)) for fw, r in runs.items()}
            for fw in ("tinytorch", "plain"):
                if fw in pair and "torch" in pair:  # > 1: faster than PyTorch
                    pair[fw]["speed_vs_torch"] = (pair[fw]["tokens_per_s"]
                                                  / pair["torch"]["tokens_per_s"])
            if "plain" in pair:
                pair["tinytorch"]["speedup_over_plain"] = (
                    pair["plain"]["step_s"] / pair["tinytorch"]["step_s"])
            for r in pair.values():
                print(format_training_row(r), flush=True)
                rows.append(r)
    return rows


GEN_HEADER = (f"{'config':<6} {'threads':>7} {'batch':>5} {'framework':<10} {'cache':<8} "
              f"{'ms':>8} {'(min-max)':>13} {'tok/s':>8}")


def generation(configs, threads, frameworks, quick) -> list[dict]:
    """Greedy generation, one process per (config, framework), at ``threads`` threads."""
    rows = []
    for name in configs:
        got = []
        for fw in frameworks:
            got += child("benchmarks.lm_generation",
                         ["--framework", fw, "--config", name, "--threads", str(threads),
                          "--repeats", "1" if quick else "3"], threads)
        for r in sorted(got, key=lambda r: (r["batch"], r["framework"] != "tinytorch")):
            spread = f"({r['min_s'] * 1e3:.0f}-{r['max_s'] * 1e3:.0f})"
            print(f"{r['config']:<6} {r['threads']:>7} {r['batch']:>5} {r['framework']:<10} "
                  f"{'KV cache' if r['cache'] else 'none':<8} {r['s'] * 1e3:8.0f} {spread:>13} "
                  f"{r['tokens_per_s']:8.0f}", flush=True)
        for batch in sorted({r["batch"] for r in got}):
            s = {(r["framework"], r["cache"]): r["s"] for r in got if r["batch"] == batch}
            speedup = s["tinytorch", False] / s["tinytorch", True]
            line = f"       batch {batch}: KV cache {speedup:.1f}x"
            if ("torch", True) in s:
                line += (f" (PyTorch {s['torch', False] / s['torch', True]:.1f}x); ours vs torch "
                         f"{s['torch', False] / s['tinytorch', False]:.2f}x uncached, "
                         f"{s['torch', True] / s['tinytorch', True]:.2f}x cached")
            print(line, flush=True)
        rows += got
    return rows


def run_lm(configs, threads_list, frameworks, quick: bool, rounds: int, peaks=None,
           skip=()) -> dict:
    """Both LM benchmarks; ``peaks``: {threads: GEMM GFLOP/s} if measured already."""
    load_before = os.getloadavg()  # above ~0.5 on 2 cores: the figures are noisy
    peaks = dict(peaks or {})
    measured, _ = gemm_peaks([t for t in threads_list if t not in peaks])
    peaks.update(measured)
    settings = ", ".join(f"{k}={v}" for k, v in GPT2_SETTINGS.items())
    out = {"configs": {c: LM_CONFIGS[c].to_dict() for c in configs}, "settings": GPT2_SETTINGS,
           "gemm_peak_gflops": peaks, "load_average_before": load_before}
    if "training" not in skip:
        print(f"\n## Language model training ({settings}; label smoothing 0.1, clip 1.0, Adam);"
              f" tok/s = real target tokens/s, vs torch = our tok/s / PyTorch's")
        print(TRAIN_HEADER)
        out["training"] = training(configs, threads_list, frameworks, quick, rounds, peaks)
        # the BLAS the training children ran on (NumPy's; PyTorch's in its own rows)
        out["blas"] = {"numpy": out["training"][0]["blas"]["numpy"],
                       "pinning": out["training"][0]["blas"]["pinning"],
                       "torch": next((r["blas"]["torch"] for r in out["training"]
                                      if r["framework"] == "torch"), None)}
        print(f"# NumPy's BLAS in the children: {blas_summary(out['blas']['numpy'])} "
              f"({'native' if suite.NATIVE_BLAS else 'pinned'})", flush=True)
    if "generation" not in skip:
        top = max(threads_list)
        print(f"\n## Language model generation: greedy, prompts of 8 tokens, 32 new tokens per "
              f"row, {top} thread(s)")
        print(GEN_HEADER)
        out["generation"] = generation(configs, top,
                                       [fw for fw in frameworks if fw != "plain"], quick)
    out["load_average_after"] = os.getloadavg()
    print(f"# load average {out['load_average_before'][0]:.2f} before, "
          f"{out['load_average_after'][0]:.2f} after", flush=True)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="S, 2 threads, fewer repeats")
    p.add_argument("--configs", default=None, help="comma-separated of S,M (default: both)")
    p.add_argument("--threads", default=None, help="comma-separated thread counts (default 1,2)")
    p.add_argument("--rounds", type=int, default=None,
                   help="processes per framework and config, alternating (default 2; 1 with "
                        "--quick)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch runs")
    p.add_argument("--no-plain", action="store_true", help="skip the plain rows")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: training,generation")
    p.add_argument("--pinned-blas", action="store_true",
                   help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the children")
    p.add_argument("--out", default=None, help="JSON path (default benchmarks/results/...)")
    a = p.parse_args(argv)
    suite.NATIVE_BLAS = not a.pinned_blas
    configs = (a.configs or ("S" if a.quick else "S,M")).split(",")
    unknown = [c for c in configs if c not in LM_CONFIGS]
    if unknown:
        p.error(f"unknown configs {unknown}; choose from {sorted(LM_CONFIGS)}")
    threads_list = [int(t) for t in (a.threads or ("2" if a.quick else "1,2")).split(",")]
    frameworks = ["tinytorch"] + ([] if a.no_plain else ["plain"]) + (
        [] if a.no_torch or not has_torch() else ["torch"])
    started = time.perf_counter()
    info = machine_info(max(threads_list))
    print(f"# {info['platform']} | {info['processor']} | {info['cpu_count']} CPUs | numpy "
          f"{info['numpy']} | torch "
          f"{info['torch'] or 'not installed'} | {datetime.date.today()}", flush=True)
    results = {"machine": info, "date": str(datetime.date.today()), "quick": a.quick,
               "command": " ".join(["python -m benchmarks.lm_suite", *(argv or sys.argv[1:])]),
               "lm": run_lm(configs, threads_list, frameworks, a.quick,
                            a.rounds or (1 if a.quick else 2),
                            skip=set(filter(None, a.skip.split(","))))}
    results["elapsed_s"] = elapsed = time.perf_counter() - started
    out = Path(a.out) if a.out else ROOT / "benchmarks" / "results" / (
        f"lm{'-quick' if a.quick else ''}-cpu-{datetime.date.today():%Y-%m-%d}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\n# {elapsed:.0f} s; saved "
          f"{out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    main()
