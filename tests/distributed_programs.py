"""Programs that tests/test_distributed.py runs under ``mpiexec -n N`` (one per test), and
the single-process training they are compared with.

    mpiexec -n 2 python tests/distributed_programs.py <program> <out_dir> [options]

Each program writes what it found into <out_dir> (rank 0 only, unless it says otherwise),
so a test reads results instead of parsing output.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tinytorch as torch  # noqa: E402
import tinytorch.distributed as dist  # noqa: E402
from tinytorch import nn  # noqa: E402
from tinytorch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

STEPS = 5


def make_model(dtype, seed: int = 0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).to(dtype)


def global_batches(batch: int, dtype):
    """The same STEPS global batches in every process: (x (batch, 6), y (batch,))."""
    rng = np.random.default_rng(1234)
    for _ in range(STEPS):
        x = rng.standard_normal((batch, 6)).astype(dtype)
        yield torch.tensor(x), torch.tensor(rng.integers(0, 3, size=batch))


def make_optimizer(name: str, params):
    if name == "sgd":
        return torch.optim.SGD(params, lr=0.1, momentum=0.9)
    return torch.optim.Adam(params, lr=0.01)


def train(dtype_name: str, optimizer: str, batch: int, rank: int = 0, world: int = 1,
          wrap=None):
    """STEPS steps on rows rank::world of each global batch. The loss is the rank's mean
    weighted by its share of the global batch: mean_r * n_r / n * world, so that the
    average over ranks (what DDP takes) is the global mean, even when the ranks hold
    different numbers of rows (batch not a multiple of world). Returns the model."""
    dtype = getattr(torch, dtype_name)
    model = make_model(dtype, seed=rank)  # ranks start different: DDP must broadcast rank 0's
    net = wrap(model) if wrap is not None else model
    opt = make_optimizer(optimizer, model.parameters())
    for x, y in global_batches(batch, np.dtype(dtype_name)):
        xs, ys = x[rank::world], y[rank::world]
        loss = nn.functional.cross_entropy(net(xs), ys) * (len(ys) * world / len(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model


def weights(model) -> dict:
    return {k: v.numpy() for k, v in model.state_dict().items()}


# -- the programs ------------------------------------------------------------------------------
def equal_weights(out, dtype_name, optimizer, batch, overlap="1", bucket_mb="25"):
    """DDP training of STEPS steps: every rank saves its final weights (rank<r>.npz)."""
    wrap = lambda m: DDP(m, bucket_cap_mb=float(bucket_mb), overlap=overlap == "1")  # noqa: E731
    model = train(dtype_name, optimizer, int(batch), dist.get_rank(), dist.get_world_size(),
                  wrap)
    np.savez(os.path.join(out, f"rank{dist.get_rank()}.npz"), **weights(model))


def collectives(out):
    """Every collective on 2 ranks; rank 0 writes what it saw (results.json)."""
    r, w = dist.get_rank(), dist.get_world_size()
    seen = {}
    t = torch.tensor([1.0, 2.0]) * 10 ** r
    dist.all_reduce(t)
    seen["sum"] = t.tolist()
    for op in ("AVG", "MAX", "MIN", "PRODUCT"):
        t = torch.tensor([1.0, 2.0]) * 10 ** r
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        seen[op] = t.tolist()
    flags = torch.tensor([r == 1, False])
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    seen["bool_max"] = flags.tolist()
    ints = torch.tensor([r + 1, 6])
    dist.all_reduce(ints, op=dist.ReduceOp.BAND)
    seen["int_band"] = ints.tolist()
    view = (torch.arange(6.0).reshape(2, 3) * (r + 1)).T  # not contiguous: staged and copied back
    dist.broadcast(view, src=1)
    seen["broadcast_view"] = view.tolist()
    gathered = [torch.zeros(2, dtype=torch.float64) for _ in range(w)]
    dist.all_gather(gathered, torch.tensor([r, r + 0.5], dtype=torch.float64))
    seen["all_gather"] = [g.tolist() for g in gathered]
    t = torch.full((1000,), float(r))
    work = dist.all_reduce(t, async_op=True)
    work.wait()
    seen["async"] = [t[0].item(), work.is_completed()]
    objs = [None] * w
    dist.all_gather_object(objs, {"rank": r})
    seen["objects"] = objs
    msg = ["hello" if r == 0 else None]
    dist.broadcast_object_list(msg, src=0)
    seen["broadcast_object"] = msg
    dist.barrier()
    if r == 0:
        with open(os.path.join(out, "results.json"), "w") as f:
            json.dump(seen, f)


def rank_raises(out):
    """Rank 1 raises before a collective that rank 0 waits in: all must end, non-zero."""
    if dist.get_rank() == 1:
        raise ValueError("rank 1 fails on purpose")
    dist.all_reduce(torch.ones(3))
    dist.barrier()


def shapes_differ(out):
    """Rank 1 builds a wider first layer: the wrap must say so, on every rank."""
    width = 16 if dist.get_rank() == 0 else 17
    model = nn.Sequential(nn.Linear(6, width), nn.Tanh(), nn.Linear(width, 3))
    DDP(model)


def timeout(out):
    """Rank 1 skips the all_reduce (and waits in a barrier): rank 0 times out."""
    if dist.get_rank() == 0:
        dist.all_reduce(torch.ones(3))
    dist.barrier()


def unused_parameters(out, find):
    """A model whose forward skips one layer; rank 0 saves its gradients after backward."""

    class Skips(nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = nn.Linear(4, 2), nn.Linear(4, 2)

        def forward(self, x):
            return self.used(x)

    model = DDP(Skips(), find_unused_parameters=find == "1")
    for step in range(2):
        x = torch.ones(3, 4) * (dist.get_rank() + 1)
        model(x).sum().backward()
    grads = {n: (None if p.grad is None else p.grad.tolist())
             for n, p in model.module.named_parameters()}
    if dist.get_rank() == 0:
        with open(os.path.join(out, "grads.json"), "w") as f:
            json.dump(grads, f)


def no_sync(out):
    """Two micro-batches under no_sync, one outside: the average of the three gradients'
    sums, on every rank (rank 0 writes it)."""
    model = DDP(nn.Linear(3, 1, bias=False))
    r = dist.get_rank()
    with model.no_sync():
        model(torch.ones(1, 3) * (r + 1)).sum().backward()
        local = model.module.weight.grad.tolist()
        model(torch.ones(1, 3) * (r + 1)).sum().backward()
    model(torch.ones(1, 3) * (r + 1)).sum().backward()
    if r == 0:
        with open(os.path.join(out, "no_sync.json"), "w") as f:
            json.dump({"inside": local, "after": model.module.weight.grad.tolist()}, f)


PROGRAMS = {f.__name__: f for f in (equal_weights, collectives, rank_raises, shapes_differ,
                                    timeout, unused_parameters, no_sync)}

if __name__ == "__main__":
    name, out, *options = sys.argv[1:]
    dist.init_process_group("mpi", timeout=float(os.environ.get("DIST_TIMEOUT", 0)) or None)
    PROGRAMS[name](out, *options)
    dist.destroy_process_group()
