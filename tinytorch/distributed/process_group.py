"""The process group: the processes that work together, and this one's place among them.

``mpiexec -n 4 python train.py`` starts four copies of the same program. MPI numbers them
0..3 (the *rank*) and tells each how many there are (the *world size*); they then talk
only through collectives (collectives.py), calls that every rank makes in the same order.
``init_process_group("mpi")`` asks MPI for both numbers and keeps a communicator of its
own (a duplicate of MPI's ``COMM_WORLD``, so a library that also uses MPI never mixes its
messages with ours).

mpi4py is imported on the first ``init_process_group``, never by ``import tinytorch``:
importing it starts MPI, and a program that trains in one process needs none of it.

**A rank that fails stops every rank.** Collectives wait for every rank; if one rank
raises and exits, the others would wait for it forever. So in a world of more than one
process, ``init_process_group`` replaces ``sys.excepthook``: an exception that nobody
catches prints its traceback as usual, then calls ``MPI_Abort``, which ends every rank of
the job at once (``mpiexec`` exits with status 1). ``abort(code)`` does the same on
purpose, e.g. after printing a one-line error. ``destroy_process_group()`` puts the
previous hook back.
"""

from __future__ import annotations

import datetime
import importlib.util
import sys
import time

_default = None  # the ProcessGroup made by init_process_group, until destroy_process_group


class DistError(RuntimeError):
    """A collective failed; here: it waited longer than the process group's timeout."""


def is_available() -> bool:
    """True when mpi4py is installed (``pip install -e ".[distributed]"``)."""
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available


def mpi():
    """The ``mpi4py.MPI`` module (imported here, on first use: importing it starts MPI)."""
    try:
        from mpi4py import MPI  # noqa: PLC0415  (lazy on purpose)
    except ImportError as e:
        raise ImportError(
            f'tinytorch.distributed needs mpi4py and an MPI library ({e}); install them with: '
            f'pip install -e ".[distributed]"  (mpi4py and MPICH, from PyPI)') from None
    return MPI


class ProcessGroup:
    """The ranks that take part in a collective, over one MPI communicator.

    ``rank()`` is this process's number, ``size()`` how many processes there are.
    ``timeout`` (seconds, or None for no limit) bounds how long a collective waits.
    """

    def __init__(self, comm, timeout: float | None = None):
        self.comm = comm
        self.timeout = timeout
        self._rank, self._size = comm.Get_rank(), comm.Get_size()

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def wait(self, request, what: str) -> None:
        """Wait until ``request`` (a started MPI operation) is done.

        Without a timeout this is MPI's own wait. With one, the request is tested in a loop
        (which also drives MPI's progress) until the deadline, then DistError."""
        if self.timeout is None:
            request.Wait()
            return
        deadline = time.monotonic() + self.timeout
        while not request.Test():
            if time.monotonic() > deadline:
                raise DistError(
                    f"{what}: rank {self._rank} waited more than {self.timeout:g} s for the "
                    f"other ranks (a rank stopped, or ranks called collectives in different "
                    f"orders)")

    def wait_idle(self, request, what: str) -> None:
        """``wait``, but sleeping between tests, so that a rank that waits long (for rank 0
        to evaluate, say) leaves its CPU core to the others. The sleep grows from 50 us to
        2 ms: a short wait stays short."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        pause = 5e-5
        while not request.Test():
            if deadline is not None and time.monotonic() > deadline:
                raise DistError(f"{what}: rank {self._rank} waited more than {self.timeout:g} s "
                                f"for the other ranks")
            time.sleep(pause)
            pause = min(pause * 2, 2e-3)

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', rank={self._rank}, size={self._size})"


def _seconds(timeout) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if not timeout > 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    return float(timeout)


def init_process_group(backend: str | None = None, init_method=None, timeout=None,
                       world_size: int = -1, rank: int = -1, store=None, group_name: str = "",
                       pg_options=None, device_id=None) -> None:
    """Join the processes that ``mpiexec`` started; afterwards every function of
    ``tinytorch.distributed`` works on them.

    ``backend``: ``"mpi"`` (or None), the only one. MPI knows the ranks and the world size
    (``mpiexec -n N``), so ``init_method`` and ``store`` are not used; ``world_size`` and
    ``rank``, when given, must be MPI's. ``timeout`` (a ``datetime.timedelta`` or seconds)
    makes a collective that waits longer raise ``DistError``; the default, None, waits as
    long as MPI does. Started without ``mpiexec``, the world is this one process (size 1).
    """
    global _default
    if backend is not None and str(backend).lower() != "mpi":
        raise ValueError(
            f"init_process_group: backend {backend!r} is not available; tinytorch.distributed "
            f"has the 'mpi' backend only: init_process_group('mpi'), started with "
            f"mpiexec -n N python script.py")
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("init_process_group: MPI finds the other processes itself (mpiexec "
                         "starts them); leave init_method and store out")
    if _default is not None:
        raise RuntimeError("trying to initialize the default process group twice! (call "
                           "destroy_process_group() first)")
    seconds = _seconds(timeout)
    MPI = mpi()
    comm = MPI.COMM_WORLD.Dup()
    size, me = comm.Get_size(), comm.Get_rank()
    if world_size not in (-1, None) and world_size != size:
        comm.Free()
        raise ValueError(f"init_process_group: world_size={world_size}, but mpiexec started "
                         f"{size} process(es) (mpiexec -n {world_size} ...)")
    if rank not in (-1, None) and rank != me:
        comm.Free()
        raise ValueError(f"init_process_group: rank={rank}, but MPI numbers this process "
                         f"{me}; leave rank out (MPI assigns it)")
    _default = ProcessGroup(comm, seconds)
    if size > 1:
        _AbortOnException.install()


def is_initialized() -> bool:
    """True between ``init_process_group`` and ``destroy_process_group``."""
    return _default is not None


def default_group(group=None) -> ProcessGroup:
    """``group``, or the default process group; RuntimeError before init_process_group."""
    if group is not None:
        if not isinstance(group, ProcessGroup):
            raise TypeError(f"group must be a ProcessGroup or None, got {type(group).__name__}")
        return group
    if _default is None:
        raise RuntimeError("Default process group has not been initialized, please make sure "
                           "to call init_process_group.")
    return _default


def get_rank(group=None) -> int:
    """This process's number, 0..world_size-1 (rank 0 is the one that writes, by custom)."""
    return default_group(group).rank()


def get_world_size(group=None) -> int:
    """How many processes there are (``mpiexec -n N``: N)."""
    return default_group(group).size()


def get_backend(group=None) -> str:
    default_group(group)
    return "mpi"


def destroy_process_group(group=None) -> None:
    """Leave the process group (free its communicator, put ``sys.excepthook`` back).
    MPI itself finishes when the program exits (mpi4py calls ``MPI_Finalize``)."""
    global _default
    pg = default_group(group)
    if pg is _default:
        _default = None
        _AbortOnException.uninstall()
    pg.comm.Free()


def abort(exit_code: int = 1) -> None:
    """End every process of the job now, with ``exit_code`` (``MPI_Abort``); mpiexec then
    exits with it. For a rank that cannot go on (a user's mistake found on one rank),
    when leaving alone would leave the others waiting. (tinytorch's own; not in PyTorch.)"""
    sys.stdout.flush()
    sys.stderr.flush()
    # MPI_Abort has the launcher kill every rank at once: give it a moment to pass on what
    # this rank printed (the reason it stops) before then.
    time.sleep(0.2)
    mpi().COMM_WORLD.Abort(exit_code)


class _AbortOnException:
    """The ``sys.excepthook`` of a world of several processes: the usual traceback, then
    ``abort(1)``. (An exception that is caught never gets here.)"""

    previous = None

    @classmethod
    def install(cls) -> None:
        if cls.previous is None:
            cls.previous = sys.excepthook
            sys.excepthook = cls.hook

    @classmethod
    def uninstall(cls) -> None:
        if cls.previous is not None:
            sys.excepthook, cls.previous = cls.previous, None

    @classmethod
    def hook(cls, exc_type, exc, tb) -> None:
        rank = _default.rank() if _default is not None else "?"
        try:
            sys.stderr.write(f"rank {rank}: uncaught {exc_type.__name__}; stopping every rank "
                             f"(MPI_Abort)\n")
            (cls.previous or sys.__excepthook__)(exc_type, exc, tb)
        finally:
            abort(1)
