"""Threads for the elementwise passes: ``set_num_threads``, ``get_num_threads``, ``rows_parallel``.

NumPy's matrix products already run on every core (its BLAS has a thread pool), but
its elementwise loops (exp, add, multiply, sqrt, ...) run on one. They do release
Python's GIL while they loop, though, so two Python threads each running NumPy on
half of the rows really do use two cores. ``rows_parallel`` does exactly that:

    rows_parallel(fn, x, y)     # fn(x[0:k], y[0:k]) and fn(x[k:], y[k:]) at the same time

``fn`` writes its results into the row blocks it gets (they are views), so nothing is
gathered afterwards. A row-wise op (layer norm over the last dim) or an elementwise one
(Adam's update) computes every row with the same code whichever block it lands in, so
the result is bit-identical to the serial pass (tests/test_parallel.py checks it).

Threads cost something to wake (tens of microseconds), so small arrays stay serial:
below ``MIN_ELEMENTS`` the call is simply ``fn(*arrays)``, and so is every call while
``MIN_ELEMENTS`` is None, the default (it did not pay where it was measured: see below).
Only NumPy arrays are split; a CuPy array (a GPU) always takes the serial path, since
the GPU is parallel already.

``set_num_threads(n)`` is PyTorch's name: it sets this pool's size and, when
threadpoolctl is installed, NumPy's BLAS pool too (without it, BLAS keeps its own size,
set by OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before NumPy starts).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["get_num_threads", "set_num_threads", "rows_parallel", "MIN_ELEMENTS"]

#: Below this many elements per call a pass stays on one thread; None: always one thread
#: (the default). Off because it did not pay on the 2-core VM where it was measured
#: (benchmarks/README.md, "The rest runs on one core"; benchmarks/elementwise_threads.py):
#: Adam's update on 4M numbers ran 0.98-1.04x on two threads, smaller passes slower, and
#: a layer norm whose row sums call BLAS from two threads at once 0.3-1.5x. After each
#: GEMM, OpenBLAS's idle workers spin on the core the second Python thread needs. Set it
#: (e.g. ``tinytorch.parallel.MIN_ELEMENTS = 256 * 1024``) on a machine with idle cores.
MIN_ELEMENTS = None

#: Blocks of rows start at multiples of this (see rows_parallel).
ROW_ALIGN = 16

_threads = None          # set_num_threads' value; None: not set yet (ask the BLAS pool)
_pool = None             # the ThreadPoolExecutor, made on first use
_pool_size = 0
_lock = threading.Lock()


def _blas_threads():
    """NumPy's BLAS pool size as threadpoolctl sees it, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(counts) if counts else None


def get_num_threads() -> int:
    """``torch.get_num_threads()``: the threads an op may use (default: the BLAS pool's size,
    asked once: threadpoolctl reads /proc, too slow to ask at every op)."""
    global _threads
    if _threads is None:
        _threads = _blas_threads() or os.cpu_count() or 1
    return _threads


def set_num_threads(n: int) -> None:
    """``torch.set_num_threads(n)``: use n threads for elementwise passes and for BLAS."""
    global _threads
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: expected a positive number of threads, got {n}")
    _threads = n
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return  # NumPy only: BLAS keeps the size it started with
    threadpool_limits(limits=n, user_api="blas")  # not used as a context: the limit stays


def _get_pool(n):
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != n:
            if _pool is not None:
                _pool.shutdown(wait=True)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="tinytorch")
            _pool_size = n
        return _pool


def rows_parallel(fn, *arrays, min_elements=None):
    """Run ``fn(*blocks)`` over row blocks of ``arrays`` (split along axis 0), one per thread.

    Every array must have the same length along axis 0. ``fn`` writes into its blocks (they
    are views); its return value is ignored. Serial (``fn(*arrays)``) with one thread, for
    CuPy arrays, or when the first array has fewer than ``min_elements`` elements (default
    ``MIN_ELEMENTS``; None: always serial).
    """
    first = arrays[0]
    limit = MIN_ELEMENTS if min_elements is None else min_elements
    rows = first.shape[0] if first.ndim else 0
    if limit is None or rows < 2 or first.size < limit:  # the common case: decided at once
        fn(*arrays)
        return
    n = get_num_threads()
    if n < 2 or not all(isinstance(a, np.ndarray) for a in arrays):
        fn(*arrays)
        return
    # BLAS matrix-vector kernels (the row sums of blas_sums.py) take rows in groups (four
    # on OpenBLAS's SkylakeX kernel) and a row's rounding depends on its place in its group:
    # cutting blocks at multiples of ROW_ALIGN rows keeps every row in the same place.
    n = min(n, -(-rows // ROW_ALIGN))
    bounds = [min(rows, (rows * i // n + ROW_ALIGN - 1) // ROW_ALIGN * ROW_ALIGN)
              for i in range(n + 1)]
    if n < 2:
        fn(*arrays)
        return
    pool = _get_pool(n)
    futures = [pool.submit(fn, *(a[lo:hi] for a in arrays))
               for lo, hi in zip(bounds[:-1], bounds[1:])]
    for f in futures:
        f.result()  # re-raises an exception from the thread
