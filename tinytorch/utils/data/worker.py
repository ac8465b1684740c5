"""Worker processes: ``DataLoader(..., num_workers=k)`` loads batches in k other processes.

How it works (PyTorch's design, in its plainest form):

    main process                                   worker w (of k)
    ------------                                   ---------------
    sampler -> batch indices                       seed tinytorch, random, NumPy
    task t goes to worker t % k  --index queue-->  worker_init_fn(w)
      (up to prefetch_factor * k tasks ahead)      data = collate_fn([dataset[i] ...])
    receive results, put them back in task order <--pipe--  (t, data)

The sampler runs in the main process and results are handed out in task order, so the
batches are exactly those of ``num_workers=0``, in the same order. Each worker holds its
own copy of the dataset (forked, or pickled under the 'spawn' start method). An exception
in a worker is raised again in the main process with the worker's traceback; a worker that
dies (killed, out of memory) is a RuntimeError, not a hang; ``timeout`` > 0 bounds the wait
for one batch.
"""

from __future__ import annotations

import itertools
import os
import queue
import random as _py_random
import sys
import time
import traceback

import numpy as np

from ...random import manual_seed
from .fetch import IterableFetcher, MapFetcher

__all__ = ["WorkerInfo", "get_worker_info"]

_POLL_S = 1.0  # how often an idle worker checks that the main process is still there
_SHUTDOWN_S = 5.0  # how long workers get to exit by themselves before being terminated
_worker_info = None


class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id`` (0..num_workers-1),
    ``num_workers``, ``seed`` (this worker's seed for this epoch) and ``dataset`` (this
    worker's copy of it)."""

    def __init__(self, id: int, num_workers: int, seed: int, dataset) -> None:  # noqa: A002
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self) -> str:
        return f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed})"


def get_worker_info() -> WorkerInfo | None:
    """Inside a DataLoader worker process: its WorkerInfo. In the main process: None."""
    return _worker_info


class _StreamEnd:
    """A worker's IterableDataset copy has no more samples."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class _WorkerError:
    """An exception raised in a worker, carried to the main process to be raised there."""

    def __init__(self, worker_id: int, doing: str = "") -> None:
        self.exc_type = type(sys.exc_info()[1])
        self.text = (f"Caught {self.exc_type.__name__} in DataLoader worker process "
                     f"{worker_id}{doing}. Original traceback:\n{traceback.format_exc()}")

    def reraise(self):
        # KeyError prints repr(message), which would put the traceback on one line
        text = _Message(self.text) if self.exc_type is KeyError else self.text
        try:
            exc = self.exc_type(text)
        except Exception:  # an exception type that wants other arguments
            exc = RuntimeError(self.text)
        raise exc


class _Message(str):
    def __repr__(self) -> str:
        return str(self)


def _worker_loop(iterable, dataset, index_queue, result_conn, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers, parent_pid):
    """The body of one worker process: answer tasks ``(t, indices)`` with ``(t, data)``
    until it gets None."""
    global _worker_info
    try:
        seed = base_seed + worker_id
        _py_random.seed(seed)
        manual_seed(seed)
        # the user's own NumPy randomness (augmentation) differs between workers, as in PyTorch
        np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = (IterableFetcher if iterable else MapFetcher)(
                dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            error = _WorkerError(worker_id, " (in worker_init_fn or the dataset's __iter__)")
        ended = False
        while True:
            try:
                task = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                if os.getppid() != parent_pid:  # the main process is gone
                    return
                continue
            if task is None:
                return
            if ended:  # this copy of the stream is done; the main process skips its tasks
                continue
            t, index = task
            if error is not None:
                data, error = error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = _WorkerError(worker_id)
                    else:
                        data, ended = _StreamEnd(worker_id), True
                except Exception:
                    data = _WorkerError(worker_id)
            try:
                result_conn.send((t, data))  # pickles here, so a pickling error is caught below
            except OSError:  # the main process stopped listening
                return
            except Exception:
                result_conn.send((t, _WorkerError(worker_id, " (sending the batch: it must be "
                                                             "picklable)")))
            del data
    except KeyboardInterrupt:  # Ctrl-C reaches every process; the main process reports it
        pass


class MultiProcessIter:
    """The main process's side: start the workers, hand out tasks, reorder the results.

    ``base_seed`` was drawn by the DataLoader for this epoch; worker w seeds tinytorch
    and ``random`` with ``base_seed + w``.
    """

    def __init__(self, loader, index_sampler, base_seed: int) -> None:
        import multiprocessing  # noqa: PLC0415  (only loaders with workers pay for the import)
        from multiprocessing.connection import wait  # noqa: PLC0415

        self._wait = wait
        self._timeout = loader.timeout
        self._index_sampler = index_sampler
        self._sampler_iter = iter(index_sampler)
        n = loader.num_workers
        self._workers, self._index_queues, self._readers = [], [], []
        self._active = [True] * n
        self._tasks = {}  # task number -> worker id, or (worker id, data) if it came early
        self._send_idx = self._rcvd_idx = 0
        self._next_worker = itertools.cycle(range(n))
        self._done = False
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        try:
            for w in range(n):
                index_queue = ctx.Queue()
                reader, writer = ctx.Pipe(duplex=False)
                self._index_queues.append(index_queue)
                self._readers.append(reader)
                process = ctx.Process(target=_worker_loop, daemon=True, args=(
                    loader._iterable, loader.dataset, index_queue, writer,
                    loader._auto_collation, loader.collate_fn, loader.drop_last, base_seed,
                    loader.worker_init_fn, w, n, os.getpid()))
                try:
                    process.start()  # under 'spawn' this pickles the dataset, collate_fn, ...
                finally:
                    writer.close()  # only the worker may hold it: a dead worker reads as EOF
                self._workers.append(process)
            for _ in range(loader.prefetch_factor * n):
                self._put_task()
        except BaseException:
            self._shutdown()
            raise

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._index_sampler)

    def _put_task(self) -> None:
        for _ in range(len(self._active)):
            w = next(self._next_worker)
            if self._active[w]:
                break
        else:
            return  # every worker's stream has ended
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        self._index_queues[w].put((self._send_idx, index))
        self._tasks[self._send_idx] = w
        self._send_idx += 1

    def __next__(self):
        while True:
            # tasks sent to a worker whose stream has ended will never be answered: skip them
            while (self._rcvd_idx < self._send_idx and isinstance(self._tasks[self._rcvd_idx], int)
                   and not self._active[self._tasks[self._rcvd_idx]]):
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
            if self._rcvd_idx == self._send_idx:  # nothing left to wait for: the epoch is over
                self._shutdown()
                raise StopIteration
            early = self._tasks[self._rcvd_idx]
            if isinstance(early, tuple):
                return self._hand_out(early[1])
            t, data = self._receive()
            if isinstance(data, _StreamEnd):
                self._active[data.worker_id] = False
                self._put_task()
            elif t == self._rcvd_idx:
                return self._hand_out(data)
            else:
                self._tasks[t] = (self._tasks[t], data)  # arrived early: keep it for its turn

    def _hand_out(self, data):
        del self._tasks[self._rcvd_idx]
        self._rcvd_idx += 1
        if isinstance(data, _WorkerError):
            self._shutdown()
            data.reraise()
        self._put_task()
        return data

    def _receive(self):
        ready = self._wait(self._readers, timeout=self._timeout or None)
        if not ready:
            self._shutdown()
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        conn = ready[0]
        try:
            return conn.recv()
        except EOFError:
            w = self._readers.index(conn)
            process = self._workers[w]
            process.join(1.0)
            self._shutdown()
            raise RuntimeError(
                f"DataLoader worker {w} (pid {process.pid}) exited unexpectedly with exit code "
                f"{process.exitcode} (killed, out of memory, or under 'spawn' its dataset, "
                f"collate_fn or worker_init_fn could not be unpickled: see its error above); "
                f"num_workers=0 loads in this process and shows the error directly") from None

    def _shutdown(self) -> None:
        """Ask every worker to stop, read away what they still send, terminate stragglers."""
        if self._done:
            return
        self._done = True
        for index_queue in self._index_queues:
            index_queue.put(None)
        deadline = time.monotonic() + _SHUTDOWN_S
        readers = list(self._readers)
        alive = [p for p in self._workers if p.is_alive()]
        while alive and time.monotonic() < deadline:
            for conn in self._wait(readers + [p.sentinel for p in alive], timeout=0.1):
                if conn in readers:
                    try:
                        conn.recv()  # a worker blocked sending a result could not see the None
                    except (EOFError, OSError):
                        readers.remove(conn)
            alive = [p for p in alive if p.is_alive()]
        for process in self._workers:
            if process.is_alive():
                process.terminate()
            process.join(1.0)
        for index_queue in self._index_queues:
            index_queue.cancel_join_thread()
            index_queue.close()
        for conn in self._readers:
            conn.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:  # during interpreter exit modules may already be gone
            pass
