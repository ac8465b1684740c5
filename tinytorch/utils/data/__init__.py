"""Feeding a model batches: ``tinytorch.utils.data``, PyTorch's ``torch.utils.data``.

Training visits the data in mini-batches, in a new random order every epoch. Four pieces
do that, each replaceable on its own:

1. **Dataset** (dataset.py): where samples come from. ``ds[i]`` is sample i, ``len(ds)``
   how many there are. ``TensorDataset(x, y)`` with x of shape (N, d) and y of shape (N,)
   gives samples ``(x[i], y[i])`` of shapes (d,) and (). A list is a dataset too.
2. **Sampler** (sampler.py): the order of the indices. ``SequentialSampler`` gives
   0..N-1, ``RandomSampler`` a fresh permutation every epoch; ``BatchSampler`` groups them
   into lists of ``batch_size``. ``DistributedSampler`` (distributed.py) hands each of
   several processes its own shard.
3. **collate_fn** (collate.py): a list of B samples -> one batch. ``default_collate``
   stacks along a new first dimension: B samples ``(x_i (d,), y_i ())`` become
   ``[xb (B, d), yb (B,)]``. Pass your own, e.g. to pad sentences of different lengths.
4. **DataLoader** (dataloader.py): ties them together. One epoch is ``for xb, yb in
   loader``; ``len(loader)`` is the number of batches, ceil(N / B) (floor with
   ``drop_last=True``). ``num_workers=k`` loads in k worker processes (worker.py).

    >>> import tinytorch as torch
    >>> from tinytorch.utils.data import DataLoader, TensorDataset
    >>> x, y = torch.arange(10.0).reshape(5, 2), torch.arange(5)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=2)
    >>> len(loader)
    3
    >>> [(tuple(xb.shape), yb.tolist()) for xb, yb in loader]
    [((2, 2), [0, 1]), ((2, 2), [2, 3]), ((1, 2), [4])]

Shuffling uses tinytorch's generators, never NumPy's global state:
``tinytorch.manual_seed(s)`` (or ``generator=tinytorch.Generator().manual_seed(s)``) makes
the order reproducible. The orders are random permutations as in PyTorch but not PyTorch's
exact numbers, whose random streams cannot be reproduced.
"""

from .collate import default_collate, default_convert
from .dataloader import DataLoader
from .dataset import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset, TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler,
    WeightedRandomSampler,
)
from .worker import WorkerInfo, get_worker_info

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
    "DistributedSampler", "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler",
    "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "WorkerInfo", "default_collate", "default_convert", "get_worker_info", "random_split",
]
