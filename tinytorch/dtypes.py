"""The dtypes, as NumPy dtype objects under PyTorch's names.

``tinytorch.float32 == numpy.float32``, so ``x.dtype == torch.float32`` and NumPy
code both work. float32 is the default for new floating point tensors.
"""

from __future__ import annotations

import numpy as np

float32 = float = np.dtype(np.float32)  # noqa: A001 (torch.float is float32)
float64 = double = np.dtype(np.float64)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)  # noqa: A001
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)  # noqa: A001

_default = [float32]


def get_default_dtype():
    """The dtype of new floating point tensors (float32 unless changed)."""
    return _default[0]


def set_default_dtype(dtype) -> None:
    """Make ``dtype`` (float32 or float64) the default for new floating point tensors."""
    d = as_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating point dtypes can be the default, got {d}")
    _default[0] = d


def as_dtype(dtype) -> np.dtype:
    """A NumPy dtype from tinytorch/NumPy dtypes, strings or Python types."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: use e.g. tinytorch.float32 or tinytorch.int64") from None


def name(dtype) -> str:
    """'torch.float32' style name, for reprs and messages."""
    return "torch." + np.dtype(dtype).name
