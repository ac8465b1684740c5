"""Tensor methods about dtypes and devices: ``type``, ``new_tensor``/``new_zeros``/...,
``is_floating_point``, ``element_size``, ``get_device``; and how ``to()`` reads its arguments.

Like tensor_methods.py, the methods are written in a class (``TypeMethods``) whose
functions ``tensor_methods.attach`` copies onto Tensor.
"""

from __future__ import annotations

import builtins

import numpy as np

from . import creation, dtypes
from .backend import device_of, normalize_device
from .tensor import Tensor
from .tensor_types import from_type_name, type_name

_PYTHON_TYPES = (builtins.float, builtins.int, builtins.bool)


def _is_dtype(a) -> bool:
    """Does ``to(a)`` mean a dtype? tinytorch dtypes, Python's float/int/bool (float64,
    int64, bool, as in PyTorch), and NumPy dtypes or dtype names (tinytorch only)."""
    if isinstance(a, (dtypes.dtype, np.dtype)) or any(a is t for t in _PYTHON_TYPES):
        return True
    if isinstance(a, type) and issubclass(a, np.generic):
        return True
    if isinstance(a, str) and a != "cpu" and not a.startswith("cuda"):
        try:
            dtypes.as_dtype(a)
        except TypeError:
            return False  # reported as an unknown device
        return True
    return False


def parse_to(args, device, dtype, non_blocking, copy):
    """Read ``x.to(...)``'s arguments as PyTorch does; returns (device or None as 'cpu' /
    'cuda', NumPy dtype or None, copy). The three forms:

        to(device=None, dtype=None, non_blocking=False, copy=False)   'cuda', device, int
        to(dtype, non_blocking=False, copy=False)                     torch.float64, float
        to(tensor, non_blocking=False, copy=False)                    other's dtype and device

    ``non_blocking`` is accepted and changes nothing (copies here are synchronous).
    """
    given = {"device": device, "dtype": dtype}
    if args and isinstance(args[0], Tensor):
        if device is not None or dtype is not None:
            raise TypeError("to(tensor, ...): the tensor gives the dtype and device; don't "
                            "pass dtype= or device= too")
        other, rest = args[0], args[1:]
        device, dtype, names = device_of(other.array), other.array.dtype, ()
    elif args and _is_dtype(args[0]):
        names, rest = ("dtype",), args
    else:
        names, rest = ("device", "dtype"), args
    for name, value in zip(names, rest):
        if given[name] is not None:
            raise TypeError(f"to(): {name} given twice (as argument and as {name}=)")
        if name == "dtype" and not _is_dtype(value):
            raise TypeError(f"to(): expected a dtype after the device, got {value!r}")
        if name == "device":
            device = value
        else:
            dtype = value
    flags = rest[len(names):]
    if len(flags) > 2 or not all(isinstance(f, bool) for f in flags):
        raise TypeError(f"to(): too many arguments {args!r}: expected (device, dtype, "
                        f"non_blocking, copy), (dtype, non_blocking, copy) or (tensor, "
                        f"non_blocking, copy)")
    if len(flags) == 2:
        copy = flags[1]
    device = None if device is None else normalize_device(device)
    dtype = None if dtype is None else dtypes.as_dtype(dtype)
    return device, dtype, bool(copy)


class TypeMethods:
    """Not a base class: a namespace for Tensor's methods, copied onto Tensor."""

    def type(self, dtype=None, non_blocking: bool = False):
        """``x.type()`` is the name of its type, 'torch.FloatTensor' ('torch.cuda.FloatTensor'
        on a GPU); ``x.type(torch.float64)``, ``x.type('torch.DoubleTensor')`` or
        ``x.type(torch.DoubleTensor)`` convert (x itself when it already is that type)."""
        here = device_of(self.array)
        if dtype is None:
            return type_name(self.dtype, here)
        device = here
        if isinstance(dtype, str):
            found = from_type_name(dtype)
            if found is None:
                raise ValueError(f"type: invalid type {dtype!r}: give a dtype such as "
                                 f"torch.float64 or a name such as 'torch.DoubleTensor'")
            dtype, device = found
        elif isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), dtypes.dtype):
            dtype, device = dtype.dtype, dtype._device  # torch.DoubleTensor, the class
        return self.to(device, dtype)

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors."""
        return self.array.dtype.kind == "f"

    def element_size(self) -> int:
        """Bytes per element (4 for float32)."""
        return self.array.dtype.itemsize

    def get_device(self) -> int:
        """The GPU index of a CUDA tensor; -1 on the CPU (as PyTorch)."""
        return -1 if device_of(self.array) == "cpu" else self.device.index

    # -- new tensors with this one's dtype and device (PyTorch's Tensor.new_*) ---------------
    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """``tensor(data)`` in this tensor's dtype and on its device unless given (so
        ``int_tensor.new_tensor([0.5])`` is ``tensor([0])``, as in PyTorch)."""
        return creation.tensor(data, dtype=self.dtype if dtype is None else dtype,
                               device=self.device if device is None else device,
                               requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return creation.zeros(*size, **_like(self, dtype, device, requires_grad))

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return creation.ones(*size, **_like(self, dtype, device, requires_grad))

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        return creation.empty(*size, **_like(self, dtype, device, requires_grad))

    def new_full(self, size, fill_value, dtype=None, device=None,
                 requires_grad: bool = False) -> Tensor:
        return creation.full(size, fill_value, **_like(self, dtype, device, requires_grad))


def _like(t: Tensor, dtype, device, requires_grad) -> dict:
    return {"dtype": t.dtype if dtype is None else dtype,
            "device": t.device if device is None else device,
            "requires_grad": requires_grad}
