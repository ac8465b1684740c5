"""DataLoader: iterate over a dataset in batches (``torch.utils.data.DataLoader``).

One epoch, ``for xb, yb in DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)``:

    sampler        -> indices in epoch order         RandomSampler: a permutation of range(N)
    batch_sampler  -> lists of batch_size indices    [[17, 3, ...], ...], ceil(N / 32) of them
    fetch          -> [dataset[i] for i in batch]    32 samples (x_i (d,), y_i ())
    collate_fn     -> one batch                      [xb (32, d), yb (32,)]

``len(loader)`` is the number of batches. With ``batch_size=None`` there is no batching:
each sample is only converted (NumPy arrays to tensors). An IterableDataset has no
indices: its stream is cut into batches as it comes.
"""

from __future__ import annotations

import math
import os
import warnings

from ...creation import randint
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import InfiniteConstantSampler, IterableFetcher, MapFetcher
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .worker import MultiProcessIter

__all__ = ["DataLoader"]

_FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                     "persistent_workers")


class DataLoader:
    """Batches of ``dataset``, PyTorch's signature and rules.

    Args:
        dataset: map-style (``ds[i]``, ``len(ds)``) or an IterableDataset.
        batch_size: samples per batch (default 1); None turns batching off.
        shuffle: a new random order every epoch (a RandomSampler using ``generator``).
        sampler / batch_sampler: your own order of indices / of lists of indices
            (``batch_sampler`` excludes batch_size, shuffle, sampler and drop_last).
        num_workers: 0 loads in this process; k > 0 starts k worker processes per epoch
            (see worker.py): the same batches in the same order, ``worker_init_fn(worker_id)``
            runs in each, ``timeout`` > 0 bounds the wait for one batch in seconds,
            ``multiprocessing_context`` picks the start method ('fork', 'spawn', ...;
            under 'spawn' the dataset, collate_fn and worker_init_fn must be picklable) and
            ``prefetch_factor`` (default 2) batches per worker are requested ahead.
        collate_fn: list of samples -> batch (default: ``default_collate``).
        drop_last: drop the last batch when it is smaller than batch_size.
        generator: a ``tinytorch.Generator`` for shuffling and the workers' seeds; without
            one, the global generator (``tinytorch.manual_seed``) is used.

    Accepted for compatibility and ignored: ``pin_memory`` and ``pin_memory_device`` (pinned
    host memory speeds up copies to a GPU; tinytorch's batches are NumPy arrays, copied with
    ``.to('cuda')`` when you ask), ``persistent_workers`` (workers are started afresh every
    epoch, so ``worker_init_fn`` runs every epoch and changes a worker made to its dataset
    copy do not carry over), ``in_order=False`` (batches always come in order).

    Shuffled orders are uniform random permutations like PyTorch's, from tinytorch's own
    random streams: the same seed gives the same order here, not the order PyTorch gives.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(f"prefetch_factor={prefetch_factor} needs worker processes: set "
                             f"num_workers > 0, or leave prefetch_factor out")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory, self.pin_memory_device = pin_memory, pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value in (("shuffle", shuffle), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value not in (None, False):
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True
        self._warn_if_many_workers()

    def __setattr__(self, name, value) -> None:
        if getattr(self, "_initialized", False) and name in _FIXED_AFTER_INIT:
            raise ValueError(f"{name} attribute should not be set after "
                             f"{type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(
                    f"multiprocessing_context can only be used with multi-process loading "
                    f"(num_workers > 0), but got num_workers={self.num_workers}")
            import multiprocessing  # noqa: PLC0415  (only loaders with workers need it)

            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context "
                                f"object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self._multiprocessing_context = context

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        """What the iterator walks: lists of indices when batching, else single indices."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        # A fresh seed every epoch, for the workers (drawn with or without them, as PyTorch
        # does, so the global random stream advances the same way either way).
        base_seed = int(randint(0, 2**63 - 1, (), generator=self.generator).item())
        if self.num_workers == 0:
            if self.timeout != 0:
                raise ValueError(f"DataLoader: timeout={self.timeout} bounds the wait for worker "
                                 f"processes; with num_workers=0 set timeout=0")
            return _SingleProcessIter(self)
        return MultiProcessIter(self, self._index_sampler, base_seed)

    def __len__(self) -> int:
        """The number of batches (of samples when batch_size is None)."""
        if self._iterable:  # the stream's length, if it has one, cut into batches
            length = len(self.dataset)
            if self.batch_size is not None:
                return (length // self.batch_size if self.drop_last
                        else math.ceil(length / self.batch_size))
            return length
        return len(self._index_sampler)

    def _warn_if_many_workers(self) -> None:
        cpus = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                else os.cpu_count())
        if self.num_workers and cpus and self.num_workers > cpus:
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                          f"total, more than the {cpus} CPUs this process may use; that can "
                          f"make loading slow: lower num_workers.", stacklevel=3)


class _SingleProcessIter:
    """``num_workers=0``: fetch and collate each batch in this process when asked."""

    def __init__(self, loader: DataLoader) -> None:
        self._index_sampler = loader._index_sampler
        self._sampler_iter = iter(self._index_sampler)
        fetcher = IterableFetcher if loader._iterable else MapFetcher
        self._fetcher = fetcher(loader.dataset, loader._auto_collation, loader.collate_fn,
                                loader.drop_last)

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._sampler_iter))

    def __len__(self) -> int:
        return len(self._index_sampler)
