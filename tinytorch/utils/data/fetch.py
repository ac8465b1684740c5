"""Fetchers: turn what the sampler gave (an index, or a batch's list of indices) into collated
data. The same code runs in the main process (``num_workers=0``) and in worker processes."""

from __future__ import annotations


class MapFetcher:
    """For map-style datasets: ``collate_fn([dataset[i] for i in indices])``."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        if not self.auto_collation:  # batch_size=None: one sample, converted only
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            samples = getitems(index)
        else:
            samples = [self.dataset[i] for i in index]
        return self.collate_fn(samples)


class IterableFetcher:
    """For IterableDatasets: the next ``len(index)`` samples of the stream (the indices are
    placeholders). A short last batch is kept unless ``drop_last``; StopIteration when the
    stream is done."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool) -> None:
        self.stream = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.stream))
        samples = []
        for _ in index:
            try:
                samples.append(next(self.stream))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


class InfiniteConstantSampler:
    """The sampler of an IterableDataset: None forever (the stream decides when to stop)."""

    def __iter__(self):
        while True:
            yield None
