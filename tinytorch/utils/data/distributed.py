"""DistributedSampler: each of ``num_replicas`` processes reads its own shard of the dataset
(``torch.utils.data.DistributedSampler``).

Every process builds the same epoch order (a permutation seeded by ``seed + epoch``, or
0..N-1), makes it a multiple of ``num_replicas`` long, and takes every num_replicas-th index
starting at its ``rank``. N = 10 samples on 3 replicas, no shuffling:

    order, padded to 12:  0 1 2 3 4 5 6 7 8 9 0 1     (drop_last=False repeats the start)
    rank 0: [0, 3, 6, 9]   rank 1: [1, 4, 7, 0]   rank 2: [2, 5, 8, 1]

    >>> from tinytorch.utils.data import DistributedSampler
    >>> [list(DistributedSampler(range(10), 3, rank, shuffle=False)) for rank in range(3)]
    [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]

With ``drop_last=True`` the order is cut to 9 instead:

    >>> [list(DistributedSampler(range(10), 3, r, shuffle=False, drop_last=True)) for r in (0, 1)]
    [[0, 3, 6], [1, 4, 7]]

Call ``set_epoch(epoch)`` before each epoch, or every epoch repeats the same order.
"""

from __future__ import annotations

import math

from ... import distributed as dist
from ...creation import randperm
from ...random import Generator
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler):
    """The indices of ``dataset`` that belong to process ``rank`` of ``num_replicas``.

    ``num_replicas`` (the world size) and ``rank`` default to the process group's
    (``tinytorch.distributed.init_process_group``, as in PyTorch); without one, give them.
    ``len(sampler)`` is the size of one shard: ceil(N / num_replicas), or with
    ``drop_last`` floor(N / num_replicas). All ranks must use the same ``seed``.
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise ValueError(
                    "DistributedSampler: no process group to ask for the world size and rank: "
                    "call tinytorch.distributed.init_process_group('mpi') first, or pass "
                    "them: DistributedSampler(dataset, num_replicas=WORLD_SIZE, rank=RANK)")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # cut the tail
        else:
            self.num_samples = math.ceil(n / num_replicas)  # pad to a multiple
        self.total_size = self.num_samples * num_replicas
        self.shuffle, self.seed = shuffle, seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:  # the same permutation in every process: same seed and epoch
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:  # repeat the start of the order until the length divides
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use ``epoch`` in the next shuffle (call it at the start of every epoch)."""
        self.epoch = epoch
