"""Training on several processes: ``mpiexec -n N python -m transformer train ...``.

Every process (rank) runs the same command. They build the same tokenizer, the same
model and the same stream of *global* batches (same seed), so the checkpoint's state, the
batch iterator's position included, is the same on every rank and any number of ranks
can resume it. Each step, rank r computes the loss on its own slice of the global batch,
rows r, r+N, r+2N, ... (the rows are sorted by length, so the slices hold about the same
number of tokens), and DistributedDataParallel averages the gradients during backward.

**The same step as one process.** The loss is a mean over the batch's target tokens:
L = S / T, with S the sum of the per-token losses and T their count. Rank r holds S_r and
T_r (S = sum of S_r, T = sum of T_r), and DistributedDataParallel takes the mean of the N
ranks' gradients. So rank r backpropagates

    L_r = (S_r / T_r) * T_r * N / T      its mean loss, weighted by its share of the tokens

and (1/N) * sum over r of dL_r/dw = (1/N) * N * dS/dw / T = dL/dw: the gradient of one
process with the whole batch. (Averaging the ranks' mean losses instead would weigh a
token of a rank with fewer tokens more.) T is one small all-reduce before backward;
gradient clipping then sees the averaged gradients, equal on every rank, and every rank
takes the same optimizer step. Dropout draws its own masks on each rank (seeded by the
seed, the rank and the step it starts from); with ``--dropout 0`` a run on N ranks is the
one-process run, up to rounding (tests/test_distributed_training.py).

**One writer.** Only rank 0 writes: checkpoints, metrics.jsonl, the progress bar, the
log, the evaluations and the final report. The others wait for it, asleep (``barrier``).

**Stopping together.** Ctrl-C (mpiexec passes it to every rank) or a SIGTERM to any one
rank: each step ends with one small all-gather of (loss, step time, signal received) from
every rank, so all ranks see the signal after the same step, rank 0 saves one checkpoint
and every rank exits with 128 + the signal's number. The same all-gather gives the step
time as the slowest rank's, so a ``--minutes`` budget ends every rank at the same step.

**Failing together.** A rank that raises ends the whole job at once (MPI_Abort, by the
hook that ``init_process_group`` installs; see tinytorch/distributed); so does a user's
mistake found after the ranks have joined (``end_job``).
"""

from __future__ import annotations

import os

import numpy as np

import tinytorch as tt
import tinytorch.distributed as dist
from tinytorch.nn.parallel import DistributedDataParallel

from .cli_args import UsageError
from .data.batching import make_batch

# What MPI launchers set in every process they start: the world size (MPICH's hydra and
# Slurm: PMI_SIZE; Open MPI: OMPI_COMM_WORLD_SIZE).
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def launched_size() -> int:
    """How many processes the MPI launcher started (1 when not started by one)."""
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


class Ranks:
    """This process's place among the ranks: ``rank``, ``world`` (how many), ``is_main``
    (rank 0, the one that writes). ``Ranks()`` is one process alone."""

    def __init__(self, rank: int = 0, world: int = 1):
        self.rank, self.world = rank, world
        self.is_main = rank == 0

    @classmethod
    def from_environment(cls) -> Ranks:
        """Join the other ranks when an MPI launcher started several; else one process
        (no MPI at all)."""
        size = launched_size()
        if size <= 1:
            return cls()
        if not dist.is_available():
            raise UsageError(
                f"started by mpiexec as one of {size} processes, but mpi4py is not installed, "
                f"so the processes cannot work together: pip install -e \".[distributed]\"")
        if not dist.is_initialized():
            dist.init_process_group("mpi")
        return cls(dist.get_rank(), dist.get_world_size())

    def wrap(self, model):
        """The model whose backward averages gradients over the ranks (DDP: it also makes
        every rank start from rank 0's weights), or None alone."""
        return DistributedDataParallel(model) if self.world > 1 else None

    def reseed_dropout(self, seed: int, step: int) -> None:
        """Ranks other than 0 draw their own dropout masks, from (seed, rank, step). Rank
        0 keeps the stream that the checkpoint saves."""
        if not self.is_main:
            state = np.random.SeedSequence([seed, self.rank, step]).generate_state(1)
            tt.manual_seed(int(state[0]))

    def shard(self, batch, batches):
        """Rows rank, rank+N, ... of the global ``batch`` (``batches`` holds the token ids),
        padded to their own longest row; None when the batch has fewer rows than ranks and
        this rank gets none."""
        if self.world == 1:
            return batch
        rows = batch.index[self.rank::self.world]
        if len(rows) == 0:
            return None
        return make_batch(batches.src, batches.tgt, rows, batch.pad_id)

    def total(self, count: int) -> int:
        """The sum of ``count`` over the ranks."""
        if self.world == 1:
            return count
        t = tt.tensor([count], dtype=tt.int64)
        dist.all_reduce(t)
        return int(t.item())

    def agree(self, loss_sum: float = 0.0, tokens: int = 0, seconds: float = 0.0,
              signum: int | None = None, wait_idle: bool = False):
        """(the sum of the ranks' loss_sum, of their tokens, the slowest rank's seconds, a
        stop signal that some rank received, or None): one all-gather. ``wait_idle``: sleep
        while waiting (the others wait so for rank 0's evaluation)."""
        if self.world == 1:
            return loss_sum, tokens, seconds, signum
        if wait_idle:
            dist.barrier()
        mine = tt.tensor([loss_sum, tokens, seconds, signum or 0], dtype=tt.float64)
        every = [tt.zeros(4, dtype=tt.float64) for _ in range(self.world)]
        dist.all_gather(every, mine)
        rows = np.stack([t.numpy() for t in every])           # (world, 4), the same on all
        signals = [int(s) for s in rows[:, 3] if s]
        return (float(rows[:, 0].sum()), int(rows[:, 1].sum()), float(rows[:, 2].max()),
                signals[0] if signals else None)


def zero_loss(model):
    """A loss of 0 that reaches every parameter: a rank with no rows still takes part in
    the gradient average (with zeros), as DistributedDataParallel needs."""
    return sum((p * 0).sum() for p in model.parameters())


def end_job(exit_code: int) -> int:
    """``exit_code`` for a command that ends with a user's mistake. When it happened on one
    rank of several, the others may be waiting for it in a collective: end them too."""
    if exit_code != 0 and dist.is_initialized() and dist.get_world_size() > 1:
        dist.abort(exit_code)
    return exit_code
