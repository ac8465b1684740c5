"""The training table's rows (benchmarks/run.py): several processes' runs pooled into one
row, MFU, the ratios of our rows to PyTorch's, and the printed line.

Ours has up to three rows: "tinytorch" (the fast paths), "plain" (the textbook paths) and
"tinytorch-ddp" (N processes of one thread, where the others run one process of N
threads). PyTorch has up to three rows in one run: "torch" (eager, the ``nn.Transformer`` twin),
"torch-sdpa" (eager, the hand-written twin with fused attention) and "torch-compile"
(that twin under ``torch.compile``). Each of our rows gets its step time over the eager
twin's (``ratio_to_torch``) and over the fastest PyTorch row's of the same config and
threads (``ratio_to_fastest_torch``, with ``fastest_torch`` naming it): above 1, ours is
slower. A PyTorch row that could not run (torch.compile failing on this machine) carries
``"error"`` instead of timings, and takes part in no ratio.
"""

from __future__ import annotations

import statistics

from benchmarks.workload import CONFIGS, TORCH_FRAMEWORKS, throughput

#: Our row on N processes of one thread each (mpiexec, DistributedDataParallel), next to
#: the rows on one process of N threads (benchmarks/run.py's data_parallel_run).
DATA_PARALLEL = "tinytorch-ddp"


def pool(runs: list[dict]) -> dict:
    """One row from several processes' runs of one measurement: all their step times
    together, their median and range, the largest peak RSS (and the longest compile,
    for torch-compile: the first process may compile without inductor's on-disk cache).
    If any process reported an error, the row is that error."""
    failed = [r for r in runs if "error" in r]
    if failed:
        return {**failed[0], "processes": len(runs)}
    times = [t for r in runs for t in r["times_s"]]
    med = statistics.median(times)
    cfg = CONFIGS[runs[0]["config"]]
    row = {**runs[0], "step_s": med, "min_s": min(times), "max_s": max(times),
           "repeats": len(times), "processes": len(runs), "times_s": times,
           **throughput(cfg, med),
           "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}
    if "compile_s" in runs[0]:
        row["compile_s"] = max(r["compile_s"] for r in runs)
        row["compile_s_runs"] = [r["compile_s"] for r in runs]
    return row


def add_mfu(r: dict, peak: float | None) -> None:
    """MFU two ways: on the FLOPs of every position (padding too: what the hardware
    computes) and on the FLOPs the real tokens need (what the step is for)."""
    r["mfu"] = r["gflops"] / peak if peak else None
    r["mfu_real"] = r["gflops_real"] / peak if peak else None


def add_ratios(rows: dict) -> None:
    """{framework: pooled row} of one config and thread count: our rows' step time over
    the eager twin's and over the fastest PyTorch row's; peak RSS over the eager twin's."""
    timed = {fw: r for fw, r in rows.items() if fw in TORCH_FRAMEWORKS and "error" not in r}
    fastest = min(timed, key=lambda fw: timed[fw]["step_s"]) if timed else None
    for fw in ("tinytorch", "plain", DATA_PARALLEL):
        if fw not in rows:
            continue
        r = rows[fw]
        if "torch" in timed:
            r["ratio_to_torch"] = r["step_s"] / timed["torch"]["step_s"]
            r["rss_ratio_to_torch"] = r["peak_rss_mb"] / timed["torch"]["peak_rss_mb"]
        if fastest:
            r["ratio_to_fastest_torch"] = r["step_s"] / timed[fastest]["step_s"]
            r["fastest_torch"] = fastest


TRAIN_HEADER = (f"{'config':<6} {'threads':>7} {'framework':<13} {'step ms':>9} "
                f"{'(min-max)':>13} {'tok/s':>8} {'GFLOP/s':>8} {'MFU':>6} {'MFUreal':>7} "
                f"{'RSS MB':>7} {'ratio':>6} {'/best':>6}")


def format_training_row(r: dict) -> str:
    """One printed row: ratio = step time over eager PyTorch's, /best = over the fastest
    PyTorch row's. A row with an error prints its reason."""
    head = f"{r['config']:<6} {r['threads']:>7} {r['framework']:<13}"
    if "error" in r:
        return f"{head}  not available: {r['error']}"
    mfu = f"{100 * r['mfu']:5.1f}%" if r.get("mfu") is not None else f"{'-':>6}"
    real = f"{100 * r['mfu_real']:6.1f}%" if r.get("mfu_real") is not None else f"{'-':>7}"
    ratio = f"{r['ratio_to_torch']:6.2f}" if "ratio_to_torch" in r else f"{'':>6}"
    best = (f"{r['ratio_to_fastest_torch']:6.2f}" if "ratio_to_fastest_torch" in r
            else f"{'':>6}")
    spread = f"({r['min_s'] * 1e3:.0f}-{r['max_s'] * 1e3:.0f})"
    return (f"{head} {r['step_s'] * 1e3:9.1f} {spread:>13} {r['tokens_per_s']:8.0f} "
            f"{r['gflops']:8.1f} {mfu} {real} {r['peak_rss_mb']:7.0f} {ratio} {best}")


def thread_speedups(rows: list[dict]) -> dict:
    """{(config, framework): its step time at the fewest threads over its time at the most}
    for every framework run at both counts. The tinytorch-ddp row (run at N > 1 only) is
    measured against ours at the fewest threads: the same step on one process."""
    timed = {(r["config"], r["framework"], r["threads"]): r["step_s"]
             for r in rows if "error" not in r and "blas_row" not in r}
    if not timed:
        return {}
    low, high = min(k[2] for k in timed), max(k[2] for k in timed)
    out = {}
    for (config, fw, threads), step in timed.items():
        base = "tinytorch" if fw == DATA_PARALLEL else fw
        if threads == high > low and (config, base, low) in timed:
            out[config, fw] = timed[config, base, low] / step
    return out
