"""Samplers: which sample indices a DataLoader visits, in what order (``torch.utils.data``).

A sampler is any iterable of dataset indices; ``len(sampler)`` says how many it yields.

    >>> from tinytorch.utils.data import BatchSampler, RandomSampler, SequentialSampler
    >>> list(SequentialSampler(range(5)))
    [0, 1, 2, 3, 4]
    >>> sorted(RandomSampler(range(5)))  # a new order every time, each index once
    [0, 1, 2, 3, 4]
    >>> list(BatchSampler(range(5), 2, drop_last=False))
    [[0, 1], [2, 3], [4]]

Randomness comes from tinytorch's generators (``tinytorch/random.py``), never from NumPy's
global state: pass ``generator=tinytorch.Generator().manual_seed(s)``, or leave it out and
``tinytorch.manual_seed(s)`` makes the order reproducible. As in PyTorch, a RandomSampler
without a generator draws one seed from the global generator each time it is iterated, so
every epoch has a new order. The orders are PyTorch's *kind* of order (a uniform random
permutation), not PyTorch's exact numbers: its random streams cannot be reproduced.
"""

from __future__ import annotations

import itertools

import numpy as np

from ...creation import rand, randint, randperm
from ...dtypes import float64
from ...random import Generator

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]


def _fresh_generator(generator):
    """``generator`` itself, or (when None) a new one seeded from the global generator."""
    if generator is not None:
        return generator
    seed = int(randint(0, 2**63 - 1, ()).item())
    return Generator().manual_seed(seed)


def _check_positive_int(value, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value}")


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices, or lists of indices for a batch
    sampler) and usually ``__len__``."""

    def __init__(self, data_source=None) -> None:  # PyTorch accepts and ignores it
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1, the same every time."""

    def __init__(self, data_source) -> None:
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Shuffled indices of ``data_source``.

    Without replacement (default): a random permutation of ``range(n)``, every index once;
    ``num_samples`` > n chains whole permutations (and a cut one at the end). With
    ``replacement=True``: ``num_samples`` independent uniform draws from ``range(n)``.
    """

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={replacement}")
        _check_positive_int(self.num_samples, "num_samples")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):  # a generator function: nothing is drawn until the first next()
        n = len(self.data_source)
        generator = _fresh_generator(self.generator)
        if self.replacement:
            # drawn 32 at a time as PyTorch does, so a long stream needs little memory
            for _ in range(self.num_samples // 32):
                yield from randint(0, n, (32,), generator=generator).tolist()
            yield from randint(0, n, (self.num_samples % 32,), generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from randperm(n, generator=generator).tolist()
            yield from randperm(n, generator=generator).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order (without replacement)."""

    def __init__(self, indices, generator=None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices of ``range(len(weights))``, index i with probability
    proportional to ``weights[i]`` (with replacement by default)."""

    def __init__(self, weights, num_samples: int, replacement: bool = True,
                 generator=None) -> None:
        _check_positive_int(num_samples, "num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights.tolist() if hasattr(weights, "tolist") else weights, np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(w.shape)}")
        if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0):
            raise RuntimeError("WeightedRandomSampler: weights must be finite, non-negative "
                               "and not all zero")
        if not replacement and num_samples > np.count_nonzero(w):
            raise RuntimeError(
                f"WeightedRandomSampler: cannot draw {num_samples} samples without replacement "
                f"from {np.count_nonzero(w)} non-zero weights")
        self.weights, self.num_samples = w, num_samples
        self.replacement, self.generator = replacement, generator

    def __iter__(self):
        w = self.weights
        u = rand(self.num_samples if self.replacement else len(w), dtype=float64,
                 generator=self.generator).numpy()
        if self.replacement:
            # inverse CDF: u * total lands in the slot of index i with probability w_i / total
            cdf = np.cumsum(w)
            picks = np.searchsorted(cdf, u * cdf[-1], side="right")
        else:
            # Efraimidis-Spirakis: key_i = log(u_i) / w_i; the largest keys, in order, are a
            # draw without replacement (zero weights get -inf and are never picked)
            keys = np.full(len(w), -np.inf)
            keys[w > 0] = np.log1p(-u[w > 0]) / w[w > 0]
            picks = np.argsort(-keys, kind="stable")[:self.num_samples]
        yield from picks.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``; the last, shorter one
    is kept unless ``drop_last=True``.

        >>> list(BatchSampler(SequentialSampler(range(10)), 3, False))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
        >>> list(BatchSampler(SequentialSampler(range(10)), 3, drop_last=True))
        [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool) -> None:
        _check_positive_int(batch_size, "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        batch = list(itertools.islice(indices, self.batch_size))
        while batch:
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch
            batch = list(itertools.islice(indices, self.batch_size))

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
