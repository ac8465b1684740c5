"""DataLoader worker processes (tinytorch/utils/data/worker.py): the same batches in the same
order as num_workers=0, worker ids, worker_init_fn and get_worker_info, IterableDatasets split
between workers, errors raised in the main process with the worker's traceback, a dead worker
or a slow one as an error instead of a hang, clean shutdown, and the 'spawn' start method."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from test_data_utils import Stream, picture

import tinytorch
from tinytorch.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info

class Squares(Dataset):
    """i -> (i * i as a float32 array (2,), i); fails or dies at chosen indices."""

    def __init__(self, n, fail_at=None, die_at=None, sleep_at=None):
        self.n, self.fail_at, self.die_at, self.sleep_at = n, fail_at, die_at, sleep_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"no sample {i}")
        if i == self.die_at:
            os._exit(3)
        if i == self.sleep_at:
            time.sleep(1.0)
        info = get_worker_info()
        return np.full(2, i * i, np.float32), i, -1 if info is None else info.id


def _note_worker(worker_id):
    info = get_worker_info()
    assert info.id == worker_id and info.num_workers == 3
    info.dataset.n_seen_init = worker_id


@pytest.mark.filterwarnings("ignore:This DataLoader will create")  # on machines with < 3 CPUs
@pytest.mark.parametrize("num_workers,batch_size", [(1, 4), (3, 4), (3, 1), (2, None)])
def test_workers_give_the_batches_of_num_workers_0_in_the_same_order(num_workers, batch_size):
    def epoch(workers):
        tinytorch.manual_seed(7)
        loader = DataLoader(Squares(23), batch_size=batch_size, shuffle=True,
                            num_workers=workers)
        return [picture(b[:2]) for b in loader], loader
    expected, _ = epoch(0)
    got, loader = epoch(num_workers)
    assert got == expected and len(loader) == len(got)


@pytest.mark.filterwarnings("ignore:This DataLoader will create")
def test_each_worker_gets_its_id_init_fn_and_its_share_of_batches():
    loader = DataLoader(Squares(12), batch_size=2, num_workers=3, worker_init_fn=_note_worker)
    workers = [b[2].tolist() for b in loader]
    assert workers == [[w, w] for w in (0, 1, 2, 0, 1, 2)]  # batch t goes to worker t % 3


def test_workers_split_an_iterable_dataset_like_pytorch_documents():
    assert sorted(DataLoader(Stream(3, 7), batch_size=None, num_workers=2)) == [3, 4, 5, 6]
    assert list(DataLoader(Stream(3, 7), batch_size=None, num_workers=2)) == [3, 5, 4, 6]
    batches = [b.tolist() for b in DataLoader(Stream(0, 10), batch_size=3, num_workers=2)]
    assert batches == [[0, 1, 2], [5, 6, 7], [3, 4], [8, 9]]


def test_an_error_in_a_worker_is_raised_here_with_its_traceback():
    loader = DataLoader(Squares(10, fail_at=5), batch_size=2, num_workers=2)
    with pytest.raises(KeyError, match="(?s)in DataLoader worker process 0.*no sample 5"):
        list(loader)


def test_a_dead_worker_is_an_error_not_a_hang():
    loader = DataLoader(Squares(10, die_at=3), batch_size=2, num_workers=2)
    with pytest.raises(RuntimeError, match="worker 1 .* exited unexpectedly with exit code 3"):
        list(loader)


def test_timeout_bounds_the_wait_for_a_batch():
    loader = DataLoader(Squares(4, sleep_at=0), batch_size=2, num_workers=1, timeout=0.2)
    with pytest.raises(RuntimeError, match="timed out after 0.2 seconds"):
        list(loader)


def test_stopping_early_ends_the_workers():
    it = iter(DataLoader(Squares(100), batch_size=2, num_workers=2))
    next(it)
    processes = list(it._workers)
    del it
    assert not any(p.is_alive() for p in processes)


def test_spawned_workers_load_a_tensor_dataset():
    x = tinytorch.arange(20.0).reshape(10, 2)
    ds = TensorDataset(x, tinytorch.arange(10))
    kwargs = {"batch_size": 4, "shuffle": True, "generator": None}
    tinytorch.manual_seed(1)
    expected = [yb.tolist() for _, yb in DataLoader(ds, **kwargs)]
    tinytorch.manual_seed(1)
    loader = DataLoader(ds, num_workers=2, multiprocessing_context="spawn", **kwargs)
    assert [yb.tolist() for _, yb in loader] == expected


def _failing_init(worker_id):
    raise ValueError(f"worker {worker_id} cannot start")


def test_an_error_in_worker_init_fn_is_raised_here():
    loader = DataLoader(Squares(4), batch_size=2, num_workers=1, worker_init_fn=_failing_init)
    with pytest.raises(ValueError, match="(?s)in worker_init_fn.*worker 0 cannot start"):
        list(loader)


def test_a_batch_that_cannot_be_pickled_is_an_error_that_says_so():
    loader = DataLoader(Squares(4), batch_size=2, num_workers=1, collate_fn=lambda b: lambda: b)
    with pytest.raises(Exception, match="sending the batch: it must be picklable"):
        list(loader)
