"""Collectives: operations that every rank calls, in the same order, on its own tensor.

    all_reduce(t, op)   every rank ends with op(t of rank 0, t of rank 1, ...)    (in place)
    broadcast(t, src)   every rank ends with rank src's t                        (in place)
    all_gather(ts, t)   every rank ends with ts[i] = t of rank i
    barrier()           no rank goes on before every rank got here

With 2 ranks holding ``[1, 2]`` and ``[10, 20]``, ``all_reduce`` (SUM) leaves ``[11, 22]``
on both; ``ReduceOp.AVG`` leaves ``[5.5, 11]``. Each call runs MPI's nonblocking form
(``Iallreduce``, ``Ibcast``, ...) and, unless ``async_op=True``, waits for it: with
``async_op=True`` it returns a ``Work`` at once, and ``work.wait()`` finishes it, so the
caller can compute while the numbers travel (DistributedDataParallel does that during
backward).

**Memory.** MPI reads and writes host memory: a NumPy tensor goes to MPI as it is (a
contiguous copy if it is a non-contiguous view). A CuPy (``cuda``) tensor is *staged
through the host*: copied to host memory, reduced there, copied back. The MPICH that
``pip install -e ".[distributed]"`` installs is not CUDA-aware, so handing it device
pointers would not work; the staging costs two copies over PCIe per collective.

Objects (``all_gather_object``, ``broadcast_object_list``) travel pickled: use them for
small Python values only, between processes of the same program that trust each other.
"""

from __future__ import annotations

import numpy as np

from ..backend import as_numpy, device_of, to_device
from ..tensor import Tensor, version_cell
from .process_group import default_group, mpi


class ReduceOp:
    """How ``all_reduce`` combines the ranks' values: ``ReduceOp.SUM`` (the default),
    ``PRODUCT``, ``MIN``, ``MAX``, ``AVG`` (the sum divided by the world size; floats
    only), ``BAND``, ``BOR``, ``BXOR`` (bitwise, integers and bools)."""

    SUM, PRODUCT, MIN, MAX, AVG = "SUM", "PRODUCT", "MIN", "MAX", "AVG"
    BAND, BOR, BXOR = "BAND", "BOR", "BXOR"


_MPI_OPS = {"SUM": "SUM", "AVG": "SUM", "PRODUCT": "PROD", "MIN": "MIN", "MAX": "MAX",
            "BAND": "BAND", "BOR": "BOR", "BXOR": "BXOR"}
# MPI has no arithmetic on bools: they travel as uint8, and SUM/PRODUCT become OR/AND
_BOOL_OPS = {"SUM": "LOR", "PRODUCT": "LAND", "MIN": "LAND", "MAX": "LOR", "BAND": "LAND",
             "BOR": "LOR", "BXOR": "LXOR"}


class Work:
    """A collective started with ``async_op=True``. ``wait()`` blocks until it is done
    and its result is in the tensor; ``is_completed()`` asks without waiting."""

    def __init__(self, group, request, what: str, finish=None):
        self._group, self._request, self._what, self._finish = group, request, what, finish
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._group.wait(self._request, self._what)
            self._complete()
        return True

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            self._finish()


def _check_tensor(tensor, what: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{what}: expected a tinytorch Tensor, got {type(tensor).__name__}")


def _staged(tensor):
    """(buffer, write_back): a contiguous host array holding the tensor's values, which MPI
    may read and write, and a function that copies it back into the tensor (None when the
    buffer *is* the tensor's memory)."""
    arr = tensor.array
    if device_of(arr) == "cpu" and arr.flags.c_contiguous and arr.dtype != np.bool_:
        return arr, None
    host = np.ascontiguousarray(as_numpy(arr))  # (a copy: arr is on the GPU, or not contiguous)
    if host.dtype == np.bool_:
        host = host.astype(np.uint8)

    def write_back():
        values = host.astype(np.bool_) if arr.dtype == np.bool_ else host
        tensor.array[...] = to_device(values, device_of(arr))
    return host, write_back


def _finisher(tensor, *steps):
    """Run the steps that are not None, then bump the tensor's version (its values changed
    in place, so a backward that saved the old ones refuses to run, as after ``add_``)."""
    def finish():
        for step in steps:
            if step is not None:
                step()
        version_cell(tensor)[0] += 1
    return finish


def _run(group, request, what: str, async_op: bool, finish):
    work = Work(group, request, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    """Combine ``tensor`` across all ranks with ``op``; every rank gets the result, in
    place. Returns None, or a ``Work`` with ``async_op=True``."""
    _check_tensor(tensor, "all_reduce")
    pg = default_group(group)
    name = getattr(op, "name", op)  # (accept PyTorch-style enum members too)
    if name not in _MPI_OPS:
        raise ValueError(f"all_reduce: unknown op {op!r}; use ReduceOp.SUM, PRODUCT, MIN, MAX, "
                         f"AVG, BAND, BOR or BXOR")
    kind = tensor.array.dtype.kind
    if name == "AVG" and kind != "f":
        raise ValueError(f"all_reduce: ReduceOp.AVG needs a floating point tensor, got "
                         f"{tensor.dtype} (use SUM and divide)")
    if name in ("BAND", "BOR", "BXOR") and kind == "f":
        raise ValueError(f"all_reduce: ReduceOp.{name} is bitwise: it needs an integer or bool "
                         f"tensor, got {tensor.dtype}")
    MPI = mpi()
    buf, write_back = _staged(tensor)
    mpi_op = getattr(MPI, _BOOL_OPS[name] if kind == "b" else _MPI_OPS[name])
    request = pg.comm.Iallreduce(MPI.IN_PLACE, buf, op=mpi_op)
    average = None
    if name == "AVG":
        def average():
            buf[...] /= pg.size()
    return _run(pg, request, "all_reduce", async_op, _finisher(tensor, average, write_back))


def broadcast(tensor, src: int, group=None, async_op: bool = False):
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every other rank (same shape and
    dtype everywhere)."""
    _check_tensor(tensor, "broadcast")
    pg = default_group(group)
    _check_rank(src, pg, "broadcast", "src")
    buf, write_back = _staged(tensor)
    request = pg.comm.Ibcast(buf, root=src)
    if pg.rank() == src:  # the source's tensor does not change
        return _run(pg, request, "broadcast", async_op, None)
    return _run(pg, request, "broadcast", async_op, _finisher(tensor, write_back))


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """``tensor_list[i]`` = rank i's ``tensor``, on every rank. ``tensor_list`` holds
    world_size tensors of ``tensor``'s shape and dtype (their values are replaced)."""
    _check_tensor(tensor, "all_gather")
    pg = default_group(group)
    if len(tensor_list) != pg.size():
        raise ValueError(f"all_gather: tensor_list has {len(tensor_list)} tensors; it needs one "
                         f"per rank ({pg.size()})")
    for i, t in enumerate(tensor_list):
        _check_tensor(t, "all_gather")
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
            raise ValueError(f"all_gather: tensor_list[{i}] is {t.dtype} {tuple(t.shape)}; every "
                             f"one must be {tensor.dtype} {tuple(tensor.shape)}, like tensor")
    send, _ = _staged(tensor)
    gathered = np.empty((pg.size(), *send.shape), dtype=send.dtype)  # row i: rank i's values
    request = pg.comm.Iallgather(send, gathered)

    def unpack():
        for t, row in zip(tensor_list, gathered):
            values = row.astype(np.bool_) if t.array.dtype == np.bool_ else row
            t.array[...] = to_device(values, device_of(t.array))
            version_cell(t)[0] += 1
    return _run(pg, request, "all_gather", async_op, unpack)


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank has called ``barrier``. A waiting rank sleeps between checks,
    so it leaves its CPU core to the ranks still working."""
    pg = default_group(group)
    request = pg.comm.Ibarrier()
    if async_op:
        return Work(pg, request, "barrier")
    pg.wait_idle(request, "barrier")
    return None


def all_gather_object(object_list: list, obj, group=None) -> None:
    """``object_list[i]`` = rank i's ``obj`` (any picklable value), on every rank;
    ``object_list`` must have world_size entries."""
    pg = default_group(group)
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list has {len(object_list)} entries; it "
                         f"needs one per rank ({pg.size()})")
    object_list[:] = pg.comm.allgather(obj)


def broadcast_object_list(object_list: list, src: int = 0, group=None, device=None) -> None:
    """Replace ``object_list``'s entries on every rank by rank ``src``'s (picklable values;
    the lists have the same length everywhere)."""
    pg = default_group(group)
    _check_rank(src, pg, "broadcast_object_list", "src")
    values = pg.comm.bcast(list(object_list) if pg.rank() == src else None, root=src)
    if len(values) != len(object_list):
        raise ValueError(f"broadcast_object_list: rank {src} sent {len(values)} objects, this "
                         f"rank's list has {len(object_list)} entries")
    object_list[:] = values


def _check_rank(rank, pg, what: str, name: str) -> None:
    if not isinstance(rank, (int, np.integer)) or not 0 <= rank < pg.size():
        raise ValueError(f"{what}: {name}={rank!r} is not a rank; ranks are 0..{pg.size() - 1}")
