"""The benchmark suite: training steps S/M/L against PyTorch and the GEMM peak,
decoding, the language model (lm_suite.py), per-op overhead and a breakdown of one
step, in one run.

    python -m benchmarks            # the full suite (about 8 minutes on 2 cores, +6-10 for lm)
    python -m benchmarks --quick    # S and M at 2 threads, fewer repeats (< 3 minutes)

(torch.compile's rows add about a minute per config the first time, when inductor's
on-disk cache is cold; ``--no-compile`` leaves them out.)
    python benchmarks/run.py --configs M --threads 1,2

Each measurement runs in a fresh process with its BLAS threads set in the
environment before NumPy starts (and ``torch.set_num_threads``), so thread pools,
peak RSS and allocator state belong to that measurement alone. The children run on the
BLAS kernel OpenBLAS picks for this CPU (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed;
``--pinned-blas`` keeps them, and one extra row always runs the other way), and check a
float32 GEMM against float64 before timing (benchmarks/machine.py). Tinytorch and
PyTorch run the same model on the same batch with the same thread count, and every
figure is the median of several timed repetitions after warm-up. PyTorch has three
training rows: eager on ``nn.Transformer`` ("torch", benchmarks/torch_twin.py), eager on
a hand-written twin with fused attention ("torch-sdpa", benchmarks/torch_sdpa_twin.py),
and that twin under ``torch.compile`` ("torch-compile"; compile time recorded, not timed;
``--no-compile`` skips it); ours are compared with eager PyTorch and with the fastest.
Where mpi4py and mpiexec are installed, ours also runs on N cores as N processes of one
thread (the "tinytorch-ddp" row: DistributedDataParallel, the same batch; ``--no-ddp``
leaves it out).
Run it on an idle machine: with 2 cores, anything else running makes 2-thread BLAS wait
on a busy core.
The table is printed and saved, with the machine and versions, as JSON under
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_ops import machine_info  # noqa: E402
from benchmarks.machine import blas_summary, child_env, mpiexec_path  # noqa: E402
from benchmarks.training_rows import (  # noqa: E402
    DATA_PARALLEL,
    TRAIN_HEADER, add_mfu, add_ratios, format_training_row, pool, thread_speedups,
)
from benchmarks.workload import CONFIGS, TORCH_FRAMEWORKS  # noqa: E402


#: Children run on the BLAS kernel OpenBLAS picks for this CPU (benchmarks/machine.py);
#: ``--pinned-blas`` sets this to False: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE kept.
NATIVE_BLAS = True


def _env(threads: int, native_blas: bool | None = None) -> dict:
    return child_env(threads, NATIVE_BLAS if native_blas is None else native_blas)


def child(module: str, args: list[str], threads: int, native_blas: bool | None = None,
          processes: int = 1) -> list[dict]:
    """Run ``python -m module args`` in a fresh process (``processes`` > 1: that many, under
    mpiexec, each with ``threads`` threads); its stdout's JSON lines."""
    cmd = [sys.executable, "-m", module, *args]
    if processes > 1:
        cmd = [mpiexec_path(), "-n", str(processes), *cmd]
    proc = subprocess.run(cmd, env=_env(threads, native_blas),
                          cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


#: Configs that also get a "plain" row: tinytorch on its textbook paths, next to the fast
#: one, to show what the fast paths buy (L on the plain paths would take minutes).
PLAIN_CONFIGS = ("S", "M")


def gemm_peaks(threads_list, native_blas: bool | None = None) -> tuple[dict, dict]:
    """{threads: NumPy's fp32 GEMM peak GFLOP/s} and the BLAS the peak child ran on."""
    peaks, blas = {}, {}
    for threads in threads_list:
        res = child("benchmarks.gemm_peak", [], threads, native_blas)[0]
        peaks[threads], blas = res["peak_gflops"], res["blas"]
        print(f"# NumPy fp32 GEMM peak, {threads} thread(s): {peaks[threads]:.0f} GFLOP/s "
              f"({blas_summary(blas['numpy'])}, {'native' if blas['native'] else 'pinned'})",
              flush=True)
    return peaks, blas


def train_args(name, fw, threads, device, quick, repeats) -> list[str]:
    return ["--config", name, "--framework", fw, "--threads", str(threads), "--device", device,
            "--repeats", str(repeats), "--warmup", "1" if quick else "2"]


def data_parallel_run(name: str, ranks: int, quick: bool, repeats: int) -> dict:
    """Ours on the same batch and step as the other rows, as ``ranks`` processes of one
    thread each under mpiexec (DistributedDataParallel: each rank steps on its share of the
    rows, the gradients are all-reduced; benchmarks/distributed_step.py): the same cores
    as the row with ``ranks`` threads, used the other way."""
    r = child("benchmarks.distributed_step", ["--config", name, "--repeats", str(repeats),
                                              "--warmup", "1" if quick else "2"],
              1, processes=ranks)[0]
    return {**r, "framework": DATA_PARALLEL, "threads": ranks, "ranks": r["processes"]}


def training(configs, threads_list, frameworks, device, quick, rounds,
             data_parallel: bool = False) -> tuple[list, dict, dict]:
    """Training steps. Each (config, threads) runs ``rounds`` times over, the frameworks
    alternating (ours, plain, PyTorch's rows, ours, plain, PyTorch's rows...): a slow spell
    of a shared machine then hits every side, not whichever ran during it. Each framework's
    step times from all rounds are pooled into one median, and our rows get their ratios to
    eager PyTorch and to the fastest PyTorch row (benchmarks/training_rows.py). Then one
    more row, ours on M (or the largest config run) at the most threads, with
    OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as the environment sets them ("pinned"), against a
    GEMM peak measured the same way, so that the native and the pinned kernel are both in
    the table. With ``data_parallel`` (and mpiexec), every thread count above 1 also gets
    the row "tinytorch-ddp": that many processes of one thread (``data_parallel_run``),
    alternating with the others."""
    peaks, blas = gemm_peaks(threads_list)
    pinned = "pinned" if NATIVE_BLAS else "native"  # the other side, for the extra row
    rows = []
    for name in configs:
        repeats = 3 if quick else (5 if name == "L" else 10)
        for threads in threads_list:
            runs = {fw: [] for fw in frameworks if fw != "plain" or name in PLAIN_CONFIGS}
            if data_parallel and threads > 1 and device == "cpu":
                runs[DATA_PARALLEL] = []
            for _ in range(rounds):
                for fw in runs:
                    runs[fw].append(
                        data_parallel_run(name, threads, quick, repeats) if fw == DATA_PARALLEL
                        else child("benchmarks.train_step", train_args(
                            name, fw, threads, device, quick, repeats), threads)[0])
            pair = {fw: pool(r) for fw, r in runs.items()}
            for r in pair.values():
                if "error" not in r:
                    add_mfu(r, peaks[threads] if device == "cpu" else None)
                rows.append(r)
            add_ratios(pair)
            if "plain" in pair:  # what the fast paths buy, in this same run
                pair["tinytorch"]["speedup_over_plain"] = (
                    pair["plain"]["step_s"] / pair["tinytorch"]["step_s"])
            for r in pair.values():
                print(format_training_row(r), flush=True)
            notes = []
            if "plain" in pair:
                notes.append(f"fast paths: {pair['tinytorch']['speedup_over_plain']:.2f}x "
                             f"the plain step's speed")
            if "compile_s" in pair.get("torch-compile", {}):
                notes.append(f"torch.compile: {pair['torch-compile']['compile_s']:.0f} s "
                             f"compiling (its first step, not timed)")
            if DATA_PARALLEL in pair:
                notes.append(f"{DATA_PARALLEL}: {threads} processes x 1 thread (mpiexec)")
            if "fastest_torch" in pair["tinytorch"]:
                notes.append(f"/best: against {pair['tinytorch']['fastest_torch']}")
            if notes:
                print(f"{'':<6} {'':>7} " + "; ".join(notes), flush=True)
            if "torch" in pair:
                blas["torch"] = pair["torch"]["blas"]["torch"]
    speedups = thread_speedups(rows)
    if speedups:
        print(f"# speed-up from {min(threads_list)} to {max(threads_list)} threads: " + ", ".join(
            f"{config} {fw} {x:.2f}x" for (config, fw), x in speedups.items()), flush=True)
    if device == "cpu":
        name = "M" if "M" in configs else configs[-1]
        threads = max(threads_list)
        other_peaks, other_blas = gemm_peaks([threads], native_blas=not NATIVE_BLAS)
        r = pool([child("benchmarks.train_step", train_args(
            name, "tinytorch", threads, device, quick, 3 if quick else 10), threads,
            native_blas=not NATIVE_BLAS)[0]])
        add_mfu(r, other_peaks[threads])
        r["framework"], r["blas_row"] = f"ours {pinned}", pinned
        same = next(x for x in rows if x["config"] == name and x["threads"] == threads
                    and x["framework"] == "tinytorch")
        r["speed_vs_main_row"] = same["step_s"] / r["step_s"]
        print(format_training_row(r) + f"  ({blas_summary(other_blas['numpy'])}; "
              f"{r['speed_vs_main_row']:.2f}x the speed of the row above's ours)", flush=True)
        rows.append(r)
        blas[pinned] = {"numpy": other_blas["numpy"], "pinning": other_blas["pinning"],
                        "gemm_peak_gflops": other_peaks[threads]}
    if blas.get("torch"):
        t = blas["torch"]
        print(f"# PyTorch's BLAS: {t['blas']} ({t['library']}), CPU capability "
              f"{t['cpu_capability']}", flush=True)
    return rows, peaks, blas


def decoding(config: str, threads: int, quick: bool) -> list[dict]:
    """The decoding rows of one config (benchmarks/decoding.py, in a fresh process), printed."""
    print(f"\n## Decoding, config {config}, 64 sentences x 24 tokens, {threads} thread(s)")
    rows = child("benchmarks.decoding", ["--config", config, "--threads", str(threads),
                                         "--repeats", "1" if quick else "3"], threads)
    for r in rows:
        r["config"] = config
        print(f"{r['framework']:<10} {r['run']:<20} {r['s'] * 1e3:8.0f} ms  "
              f"{r['sentences_per_s']:7.1f} sentences/s")
    s = {(r["framework"], r["run"]): r["s"] for r in rows}
    base, cached = s["tinytorch", "greedy, no cache"], s["tinytorch", "greedy, KV cache"]
    print(f"KV-cache speed-up (greedy): {base / cached:.1f}x", end="")
    if ("torch", "greedy, KV cache") in s:  # > 1: ours is slower
        torch_cached = s["torch", "greedy, KV cache"]
        print(f" (PyTorch {s['torch', 'greedy, no cache'] / torch_cached:.1f}x); "
              f"ours cached / PyTorch cached (time): {cached / torch_cached:.2f}", end="")
    print()
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="S and M, 2 threads, fewer repeats")
    p.add_argument("--configs", default=None, help="comma-separated of S,M,L (default: all)")
    p.add_argument("--threads", default=None, help="comma-separated thread counts (default 1,2)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (CuPy against PyTorch CUDA)")
    p.add_argument("--rounds", type=int, default=None,
                   help="processes per framework and config, alternating "
                        "(default 2; 1 with --quick)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch runs")
    p.add_argument("--no-ddp", action="store_true",
                   help="no tinytorch-ddp rows (N processes x 1 thread under mpiexec, where "
                        "mpi4py and mpiexec are installed)")
    p.add_argument("--no-compile", action="store_true",
                   help="skip the torch.compile rows (compiling takes ~30-60 s a process)")
    p.add_argument("--no-plain", action="store_true",
                   help="skip the plain rows (tinytorch with its fast paths off)")
    p.add_argument("--skip", default="", help="comma-separated parts to skip: "
                   "training,decoding,lm,ops,breakdown,denormals")
    p.add_argument("--pinned-blas", action="store_true",
                   help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in the children "
                        "(default: removed, OpenBLAS picks its kernel for this CPU)")
    p.add_argument("--out", default=None, help="JSON path (default benchmarks/results/...)")
    a = p.parse_args(argv)
    global NATIVE_BLAS
    NATIVE_BLAS = not a.pinned_blas

    configs = (a.configs or ("S,M" if a.quick else "S,M,L")).split(",")
    unknown = [c for c in configs if c not in CONFIGS]
    if unknown:
        p.error(f"unknown configs {unknown}; choose from {sorted(CONFIGS)}")
    threads_list = [int(t) for t in (a.threads or ("2" if a.quick else "1,2")).split(",")]
    torch_rows = [fw for fw in TORCH_FRAMEWORKS if fw != "torch-compile" or not a.no_compile]
    frameworks = ["tinytorch"] + ([] if a.no_plain else ["plain"]) + (
        [] if a.no_torch or not has_torch() else torch_rows)
    skip = set(filter(None, a.skip.split(",")))
    top = max(threads_list)
    started = time.perf_counter()
    info = machine_info(top)
    print(f"# {info['platform']} | {info['processor']} | {info['cpu_count']} CPUs | numpy "
          f"{info['numpy']} | torch {info['torch'] or 'not installed'} | {datetime.date.today()}")
    results = {"machine": info, "native_blas": NATIVE_BLAS, "date": str(datetime.date.today()),
               "quick": a.quick, "device": a.device,
               "command": " ".join(["python -m benchmarks", *(argv or sys.argv[1:])])}

    if "training" not in skip:
        print("\n## Training step (post-LN, tied embeddings, label smoothing 0.1, Adam); "
              "MFU on every position's FLOPs, MFUreal on the real tokens'")
        print(TRAIN_HEADER)
        ddp = not a.no_ddp and mpiexec_path() is not None
        results["training"], results["gemm_peak_gflops"], results["blas"] = training(
            configs, threads_list, frameworks, a.device, a.quick,
            a.rounds or (1 if a.quick else 2), data_parallel=ddp)
    decode_configs = ["S"] if a.quick else [c for c in configs if c in ("S", "M")] or ["S"]
    if "decoding" not in skip and a.device == "cpu":
        results["decoding"] = []
        for config in decode_configs:
            results["decoding"] += decoding(config, top, a.quick)
    lm_configs = ["S"] if a.quick else [c for c in configs if c in ("S", "M")]
    if "lm" not in skip and a.device == "cpu" and lm_configs:  # benchmarks/lm_suite.py
        from benchmarks.lm_suite import run_lm
        lm_frameworks = [fw for fw in frameworks if fw in ("tinytorch", "plain", "torch")]
        results["lm"] = run_lm(lm_configs, threads_list, lm_frameworks, a.quick,
                               a.rounds or (1 if a.quick else 2), results.get("gemm_peak_gflops"))
    if "ops" not in skip and a.device == "cpu":
        print(f"\n## Per-op forward+backward, {top} thread(s)")
        out = ROOT / "benchmarks" / "results" / ".ops-tmp.json"
        subprocess.run([sys.executable, "-m", "benchmarks.bench_ops", "--threads", str(top),
                        "--runs", "3" if a.quick else "7", "--out", str(out)]
                       + (["--sizes", "tiny"] if a.quick else []),
                       env=_env(top), cwd=ROOT, check=True)
        results["ops"] = json.loads(out.read_text())["results"]
        out.unlink()
    if "breakdown" not in skip and a.device == "cpu":
        name = "S" if a.quick and "M" not in configs else "M"
        print(f"\n## Breakdown of one {name} training step, {top} thread(s)")
        from benchmarks.breakdown import format_table
        res = child("benchmarks.breakdown", ["--config", name, "--json"], top)[0]
        print(format_table(res))
        results["breakdown"] = res
    if "denormals" not in skip and not a.quick and a.device == "cpu":
        print(f"\n## Speed as the loss approaches zero (denormals), config S, {top} thread(s)")
        res = child("benchmarks.denormals", ["--json"], top)[0]
        print(f"step {res['early_ms']:.0f} ms at loss {res['early_loss']:.2f}, "
              f"{res['late_ms']:.0f} ms at loss {res['late_loss']:.4f} (ratio {res['ratio']:.2f})")
        results["denormals"] = res

    elapsed = time.perf_counter() - started
    results["elapsed_s"] = elapsed
    out = Path(a.out) if a.out else ROOT / "benchmarks" / "results" / (
        f"suite{'-quick' if a.quick else ''}-{a.device}-{datetime.date.today():%Y-%m-%d}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    shown = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"\n# {elapsed:.0f} s; saved {shown}")


if __name__ == "__main__":
    main()
