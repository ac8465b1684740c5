"""``torch.backends.cudnn``: tinytorch does not use cuDNN, so ``is_available()`` is False and
``version()`` None; the flags below keep what scripts set (PyTorch's defaults to start) and
change nothing."""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    return None
