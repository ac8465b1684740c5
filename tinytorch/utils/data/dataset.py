"""Datasets: where samples come from (``torch.utils.data``).

A *map-style* dataset answers ``dataset[i]`` and ``len(dataset)`` (a list works); an
*iterable* dataset only streams samples (``for sample in dataset``). The classes here
wrap, cut and join datasets:

    ds = TensorDataset(x, y)           # x (N, d), y (N,): ds[i] == (x[i], y[i])
    train, val = random_split(ds, [0.8, 0.2], generator=tinytorch.Generator().manual_seed(0))
    both = ConcatDataset([train, val])  # train's samples, then val's
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings

from ...creation import randperm

__all__ = ["ChainDataset", "ConcatDataset", "Dataset", "IterableDataset", "StackDataset",
           "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: define ``__getitem__(i)`` (one sample) and
    ``__len__``. Optionally ``__getitems__(indices)`` returns a whole batch's samples at once,
    which the DataLoader then uses instead of one ``__getitem__`` per sample."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of streamed datasets: define ``__iter__``. With worker processes every
    worker iterates its own copy; use ``get_worker_info()`` in ``__iter__`` to split the
    stream between them (else each sample comes once per worker, as in PyTorch)."""

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other) -> ChainDataset:
        return ChainDataset([self, other])


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for t in tensors)``: e.g. inputs (N, d) and labels (N,) give
    samples ``(x (d,), y ())``."""

    def __init__(self, *tensors) -> None:
        sizes = [t.size(0) for t in tensors]
        if any(n != sizes[0] for n in sizes):
            raise AssertionError(
                f"Size mismatch between tensors: TensorDataset needs the same first dimension "
                f"(the number of samples) in every tensor, got {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].size(0)


class StackDataset(Dataset):
    """Samples of several equally long datasets side by side: ``StackDataset(a, b)[i] ==
    (a[i], b[i])``, ``StackDataset(image=a, text=b)[i] == {"image": a[i], "text": b[i]}``."""

    def __init__(self, *args, **kwargs) -> None:
        if args and kwargs:
            raise ValueError("StackDataset: give the datasets as positional arguments (tuple "
                             "samples) or as keywords (dict samples), not both")
        if not (args or kwargs):
            raise ValueError("At least one dataset should be passed")
        self.datasets = args or kwargs
        lengths = [len(d) for d in (args or kwargs.values())]
        if any(n != lengths[0] for n in lengths):
            raise ValueError(f"Size mismatch between datasets: lengths {lengths}")
        self._length = lengths[0]

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """The samples of ``datasets`` one after the other. ``cumulative_sizes[k]`` is the total
    length of the first k + 1 datasets; index i lives in the first dataset whose cumulative
    size exceeds i (a binary search)."""

    @staticmethod
    def cumsum(sequence) -> list:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        if any(isinstance(d, IterableDataset) for d in self.datasets):
            raise AssertionError("ConcatDataset does not support IterableDataset: "
                                 "use ChainDataset to chain streams")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[k - 1] if k > 0 else 0
        if k == len(self.datasets):
            raise IndexError(f"ConcatDataset: index {idx} is out of range for length {len(self)}")
        return self.datasets[k][idx - start]


class ChainDataset(IterableDataset):
    """The streams of several IterableDatasets one after the other."""

    def __init__(self, datasets) -> None:
        self.datasets = datasets

    def _check(self, d):
        if not isinstance(d, IterableDataset):
            raise AssertionError("ChainDataset only supports IterableDataset")
        return d

    def __iter__(self):
        for d in self.datasets:
            yield from self._check(d)

    def __len__(self) -> int:
        return sum(len(self._check(d)) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``: ``Subset(ds, [4, 1])[0] is ds[4]``."""

    def __init__(self, dataset, indices) -> None:
        self.dataset = dataset
        self.indices = indices
        # the DataLoader calls __getitems__ when there is one, which would skip a subclass's
        # own __getitem__ without a word: refuse that, as PyTorch does
        cls = type(self)
        if cls.__getitem__ is not Subset.__getitem__ and cls.__getitems__ is Subset.__getitems__:
            raise NotImplementedError(
                f"{cls.__name__} overrides __getitem__ but not __getitems__; add "
                f"def __getitems__(self, indices): return [self[i] for i in indices]")

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator=None) -> list:
    """Split ``dataset`` into non-overlapping random Subsets of the given ``lengths``.

    ``lengths`` are counts that sum to ``len(dataset)``, or fractions that sum to 1: then
    split k gets ``floor(fraction_k * len(dataset))`` samples and the remainder is handed
    out one by one, round-robin from the first split (PyTorch's rule: 10 samples split
    [0.33, 0.33, 0.34] gives 4, 3, 3). ``generator`` (default: the global one) draws the
    permutation.

        >>> [len(part) for part in random_split(range(10), [0.33, 0.33, 0.34])]
        [4, 3, 3]
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              f"This might result in an empty dataset.", stacklevel=2)
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! "
            f"(lengths {list(lengths)} sum to {sum(lengths)}, the dataset has {n} samples; "
            f"give counts that sum to {n} or fractions that sum to 1)")
    indices = randperm(n, generator=generator).tolist()
    ends = list(itertools.accumulate(lengths))
    return [Subset(dataset, indices[end - length:end]) for end, length in zip(ends, lengths)]
