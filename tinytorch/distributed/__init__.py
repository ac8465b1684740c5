"""Training on several processes or machines: ``tinytorch.distributed``, over MPI.

The shape of ``torch.distributed`` with its ``mpi`` backend. ``mpiexec -n N python
script.py`` starts N copies of the script; in each:

    import tinytorch.distributed as dist
    dist.init_process_group("mpi")        # join the others (process_group.py)
    dist.get_rank(), dist.get_world_size()  # (0..N-1, N)
    dist.all_reduce(t)                    # t = the sum of every rank's t (collectives.py)
    dist.destroy_process_group()

Data-parallel training builds on it: ``tinytorch.nn.parallel.DistributedDataParallel``
gives every rank the same weights and averages the gradients after each backward, and
``tinytorch.utils.data.DistributedSampler`` gives each rank its own part of the data.

Run in one process (no ``mpiexec``), the world is that process alone: world size 1,
every collective leaves its tensor as it is, so the same script runs either way.

    >>> import tinytorch as torch
    >>> import tinytorch.distributed as dist
    >>> dist.init_process_group("mpi")
    >>> dist.get_rank(), dist.get_world_size()
    (0, 1)
    >>> t = torch.tensor([1.0, 2.0])
    >>> dist.all_reduce(t, op=dist.ReduceOp.SUM)
    >>> t
    tensor([1., 2.])
    >>> dist.destroy_process_group()

Importing this package imports no MPI: mpi4py is imported by ``init_process_group``, and
without it that call says what to install (``pip install -e ".[distributed]"``).
"""

from .collectives import (
    ReduceOp, Work, all_gather, all_gather_object, all_reduce, barrier, broadcast,
    broadcast_object_list,
)
from .process_group import (
    DistError, ProcessGroup, abort, destroy_process_group, get_backend, get_rank,
    get_world_size, init_process_group, is_available, is_initialized, is_mpi_available,
)

__all__ = [
    "DistError", "ProcessGroup", "ReduceOp", "Work", "abort", "all_gather", "all_gather_object",
    "all_reduce", "barrier", "broadcast", "broadcast_object_list", "destroy_process_group",
    "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available",
    "is_initialized", "is_mpi_available",
]
