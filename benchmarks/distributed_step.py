"""Time data-parallel training steps of one config and print one JSON line (rank 0).

    python -m benchmarks.distributed_step --config S                  # one process
    mpiexec -n 2 python -m benchmarks.distributed_step --config S     # two ranks

The global batch is the config's (benchmarks/workload.py), the same in both forms: one
process steps on all of it; under mpiexec each rank steps on rows r, r+N, ... and
DistributedDataParallel averages the gradients, with each rank's mean loss weighted by
its share of the target tokens (the exact scheme of transformer/ranks.py). A step is
forward, loss, zero_grad, backward (with the averaging), Adam; every rank starts each
timed step together (a barrier, outside the timing) and the step's time is the slowest
rank's. Under mpiexec it also times ``all_reduce`` of one float32 array of the model's
size, the gradient traffic of a step. BLAS threads are set by the caller's environment
(benchmarks/distributed.py), before NumPy starts.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time


def _slowest(seconds: float) -> float:
    """The largest of every rank's ``seconds`` (this rank's alone without mpiexec)."""
    import tinytorch as tt
    import tinytorch.distributed as dist

    if not dist.is_initialized():
        return seconds
    t = tt.tensor([seconds], dtype=tt.float64)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.item()


def _timed(step, warmup: int, repeats: int) -> list[float]:
    import tinytorch.distributed as dist

    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        if dist.is_initialized():
            dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(_slowest(time.perf_counter() - t0))
    return times


def measure(config: str, warmup: int, repeats: int, overlap: bool, bucket_mb: float) -> dict:
    import tinytorch as tt
    import tinytorch.distributed as dist
    from tinytorch.allocator import keep_freed_memory
    from tinytorch.nn.parallel import DistributedDataParallel

    from transformer.ranks import launched_size

    from .workload import ADAM, CONFIGS, LABEL_SMOOTHING, PAD, make_batch, target_tokens
    from .workload import tinytorch_model

    keep_freed_memory()
    cfg = CONFIGS[config]
    world = 1
    if launched_size() > 1:
        dist.init_process_group("mpi")
        world = dist.get_world_size()
    rank = dist.get_rank() if world > 1 else 0
    model = tinytorch_model(cfg)
    if world > 1:
        DistributedDataParallel(model, bucket_cap_mb=bucket_mb, overlap=overlap)
    opt = tt.optim.Adam(model.parameters(), **ADAM)
    src, tgt_in, tgt_out = (a[rank::world] for a in make_batch(cfg))
    mine = int((tgt_out != PAD).sum())
    total = int((make_batch(cfg)[2] != PAD).sum())
    weight = mine * world / total  # this rank's share of the tokens (transformer/ranks.py)
    batch = [tt.tensor(a) for a in (src, tgt_in, tgt_out)]

    def step():
        loss = model.loss(*batch, label_smoothing=LABEL_SMOOTHING) * weight
        opt.zero_grad()
        loss.backward()
        opt.step()

    times = _timed(step, warmup, repeats)
    n_params = sum(p.numel() for p in model.parameters())
    row = {"config": config, "processes": world, "overlap": overlap, "bucket_mb": bucket_mb,
           "params": n_params, "gradient_mb": n_params * 4 / 1e6,
           "step_s": statistics.median(times), "times_s": times,
           "tokens_per_s": target_tokens(cfg) / statistics.median(times),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if world > 1:
        flat = tt.zeros(n_params)
        reduce_times = _timed(lambda: dist.all_reduce(flat), 3, 20)
        row["allreduce_s"] = statistics.median(reduce_times)
        row["allreduce_times_s"] = reduce_times
        dist.destroy_process_group()
    return row if rank == 0 else {}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", default="S")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--overlap", type=int, default=1, help="1: each bucket's all_reduce starts "
                   "during backward; 0: all start when backward ends")
    p.add_argument("--bucket-mb", type=float, default=25)
    a = p.parse_args(argv)
    row = measure(a.config, a.warmup, a.repeats, bool(a.overlap), a.bucket_mb)
    if row:
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())
