"""``tinytorch.backends``: the switches scripts set on PyTorch's backends, accepted.

    torch.backends.cudnn.benchmark = True          # accepted; tinytorch doesn't use cuDNN
    torch.backends.cuda.matmul.allow_tf32 = True    # accepted; NumPy/CuPy matmuls unchanged
    torch.backends.mps.is_available()               # False: no Apple GPU backend
    torch.set_float32_matmul_precision("high")      # accepted, read back by get_...()

Each flag keeps the value it is given and reads back as in PyTorch (including the link
between ``matmul.allow_tf32`` and the float32 matmul precision), but none changes how
tinytorch computes: its matmuls are NumPy's (or CuPy's) in the tensors' own dtype, so
float32 matmuls are always full float32 ("highest"), and its ops give the same result
every run on the CPU, whatever ``use_deterministic_algorithms`` says. The module docstrings
of cudnn, cuda and mps say what each of their functions returns.
"""

from __future__ import annotations

import warnings

from . import cuda, cudnn, mps  # noqa: F401  (torch.backends.cudnn, ...)

_deterministic = [False]


def set_float32_matmul_precision(precision: str) -> None:
    """Record 'highest', 'high' or 'medium' (PyTorch: whether float32 matmuls may use TF32 or
    bfloat16 internally). tinytorch's float32 matmuls are always full float32."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"set_float32_matmul_precision call has no effect.", UserWarning,
                      stacklevel=2)
        return
    cuda.matmul.precision = precision


def get_float32_matmul_precision() -> str:
    """What ``set_float32_matmul_precision`` last recorded ('highest' to start)."""
    return cuda.matmul.precision


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the flag (tinytorch's CPU ops are deterministic anyway)."""
    _deterministic[0] = bool(mode)


def are_deterministic_algorithms_enabled() -> bool:
    return _deterministic[0]
