"""Making tensors: tensor, from_numpy, zeros, ones, full, empty, eye, arange, linspace,
their ``*_like`` forms, and the random ones (rand, randn, randint, randperm).

Python floats become the default float dtype (float32), Python ints int64 and
bools bool, as in PyTorch; with ``dtype=`` given, a Python number is converted straight to
it (``tensor(0.3, dtype=torch.float64)`` is exactly 0.3). NumPy arrays and scalars keep
their dtype. ``device=`` takes "cpu", "cuda", "cuda:0" or a ``tinytorch.device``.
"""

from __future__ import annotations

import numpy as np

from . import backend, dtypes
from . import random as _random
from .tensor import Tensor, array_from_data


def _finish(arr, device, requires_grad):
    if device is not None and backend.normalize_device(device) != "cpu":
        arr = backend.to_device(arr, device)
    return Tensor(arr, requires_grad=requires_grad)


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested list, array or tensor)."""
    return _finish(array_from_data(data, dtype), device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor``, but shares memory with a NumPy array of the right dtype."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if (isinstance(data, np.ndarray) and (dtype is None or dtypes.as_dtype(dtype) == data.dtype)
            and backend.normalize_device(device) == "cpu"):
        return Tensor(data)
    return tensor(data, dtype, device)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = tuple(int(n) for n in size)
    if any(n < 0 for n in size):
        raise RuntimeError(f"trying to create a tensor with a negative dimension: size {size}")
    return size


def _xp(device):
    return backend.module_for(device)


def _float_dtype(dtype):
    return dtypes.as_dtype(dtype if dtype is not None else dtypes.get_default_dtype())


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return Tensor(_xp(device).zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return Tensor(_xp(device).ones(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return Tensor(_xp(device).empty(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``, converted once to ``dtype`` (without
    one: bool for a bool, int64 for an int, else the default float dtype, as in PyTorch)."""
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:  # PyTorch infers the dtype from the fill value
        dtype = (dtypes.bool if isinstance(fill_value, (bool, np.bool_)) else
                 dtypes.int64 if isinstance(fill_value, (int, np.integer)) else
                 dtypes.get_default_dtype())
    value = array_from_data(fill_value, dtype)  # 0-d, converted (and range-checked) once
    if value.dtype == np.float32 and np.isinf(value) and np.isfinite(float(fill_value)):
        raise RuntimeError(f"full: value {fill_value} cannot be converted to type float32 "
                           f"without overflow (the largest float32 is about 3.4e38); give "
                           f"dtype=torch.float64")
    return Tensor(_xp(device).full(_size((size,)), value.item(), dtype=value.dtype), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return Tensor(_xp(device).eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """[start, end) in steps; int64 when all arguments are ints, else the default float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int) for v in (start, end, step))
        dtype = dtypes.int64 if ints else dtypes.get_default_dtype()
    arr = _xp(device).arange(start, end, step).astype(dtypes.as_dtype(dtype))
    return Tensor(arr, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    arr = _xp(device).linspace(start, end, steps).astype(_float_dtype(dtype))
    return Tensor(arr, requires_grad)


def _like(fn, t, dtype, device, requires_grad, *args):
    return fn(*args, dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)


def zeros_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(zeros, t, dtype, device, requires_grad, t.shape)


def ones_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(ones, t, dtype, device, requires_grad, t.shape)


def empty_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(empty, t, dtype, device, requires_grad, t.shape)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Uniform samples in [0, 1)."""
    arr = _random.uniform_array(_size(size), 0.0, 1.0, _float_dtype(dtype), device or "cpu",
                                generator)
    return Tensor(arr, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None) -> Tensor:
    """Standard normal samples."""
    arr = _random.normal_array(_size(size), 0.0, 1.0, _float_dtype(dtype), device or "cpu",
                               generator)
    return Tensor(arr, requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None, generator=None) -> Tensor:
    """Integers in [low, high): ``randint(10, (3,))`` or ``randint(2, 10, (3,))``."""
    if size is None:
        low, high, size = 0, low, high
    arr = _random.integers_array(low, high, _size((size,)), device or "cpu", generator)
    return Tensor(arr if dtype is None else arr.astype(dtypes.as_dtype(dtype)))


def randperm(n, *, dtype=None, device=None, generator=None) -> Tensor:
    """A random permutation of 0..n-1 (int64)."""
    arr = _random.permutation_array(n, device or "cpu", generator)
    return Tensor(arr if dtype is None else arr.astype(dtypes.as_dtype(dtype)))


def rand_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(rand, t, dtype, device, requires_grad, t.shape)


def randn_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(randn, t, dtype, device, requires_grad, t.shape)
