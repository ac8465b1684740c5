"""``tinytorch.nn.parallel``: ``DistributedDataParallel``, data-parallel training over the
ranks of ``tinytorch.distributed`` (distributed.py)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
