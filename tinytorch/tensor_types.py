"""Tensor types by name, as old PyTorch code spells them, and three small checks.

    torch.FloatTensor([1, 2])       tensor([1., 2.])             from data, converted
    torch.LongTensor(2, 3)          an uninitialised (2, 3) int64 tensor: sizes
    isinstance(x, torch.LongTensor) True when x is an int64 tensor on the CPU
    x.type()                        'torch.FloatTensor'

PyTorch kept these "legacy constructors" from before dtypes existed. They are not
subclasses of Tensor and make plain Tensors; ``isinstance`` asks the tensor's dtype and
device. ``torch.cuda.FloatTensor`` ... are the same for tensors on the GPU.

``is_tensor(x)``, ``is_floating_point(x)`` and ``numel(x)`` are the functions of the same
names in PyTorch.
"""

from __future__ import annotations

import operator

import numpy as np

from . import dtypes
from .backend import device_of, normalize_device, to_device
from .size import Size
from .tensor import Tensor, array_from_data

#: dtype -> the name of its tensor type (PyTorch's ``x.type()``).
TYPE_NAMES = {
    dtypes.float32: "FloatTensor", dtypes.float64: "DoubleTensor", dtypes.float16: "HalfTensor",
    dtypes.bfloat16: "BFloat16Tensor", dtypes.int64: "LongTensor", dtypes.int32: "IntTensor",
    dtypes.int16: "ShortTensor", dtypes.int8: "CharTensor", dtypes.uint8: "ByteTensor",
    dtypes.bool: "BoolTensor",
}


def type_name(dtype, device: str) -> str:
    """'torch.FloatTensor' for float32 on the CPU, 'torch.cuda.FloatTensor' on a GPU."""
    name = TYPE_NAMES.get(dtype)
    if name is None:
        raise TypeError(f"type: {dtype} has no tensor type name")
    return ("torch.cuda." if device == "cuda" else "torch.") + name


class _TensorType(type):
    """The metaclass of FloatTensor and friends: calling one makes a Tensor, and
    ``isinstance`` checks the tensor's dtype and device (as PyTorch's do)."""

    def __instancecheck__(cls, obj) -> bool:
        return (isinstance(obj, Tensor) and obj.array.dtype == cls.dtype
                and device_of(obj.array) == cls._device)

    def __call__(cls, *args, device=None) -> Tensor:
        where = cls._device if device is None else normalize_device(device)
        if where != cls._device:
            raise RuntimeError(f"{cls.__name__}: its tensors live on '{cls._device}', got "
                               f"device={str(device)!r}")
        arr = _legacy_array(cls, args)
        return Tensor(to_device(arr, where) if where != "cpu" else arr)

    def __repr__(cls) -> str:
        return f"<class '{type_name(cls.dtype, cls._device)}'>"


def _legacy_array(cls, args):
    """PyTorch's legacy constructor: no argument, sizes (ints or a torch.Size), or one
    sequence/array of data (converted to the type's dtype) or tensor of that very dtype."""
    if not args:
        return np.empty(0, dtype=cls.dtype.dtype)
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if first.array.dtype != cls.dtype:
            raise TypeError(f"{cls.__name__}(tensor): expected a {cls.dtype} tensor, got "
                            f"{first.dtype}; convert it with tensor.to({cls.dtype})")
        return first.array  # shares memory, as PyTorch's does
    if len(args) == 1 and (isinstance(first, (list, tuple, range, np.ndarray))
                           and not isinstance(first, Size)):
        return array_from_data(first, cls.dtype)
    sizes = tuple(first) if len(args) == 1 and isinstance(first, Size) else args
    try:
        if any(isinstance(n, bool) for n in sizes):
            raise TypeError
        sizes = tuple(n if n.__class__ is int else operator.index(n) for n in sizes)
    except TypeError:
        raise TypeError(f"{cls.__name__}(*args): give sizes (ints) or one list of data, "
                        f"got {args!r}") from None
    if any(n < 0 for n in sizes):
        raise RuntimeError(f"{cls.__name__}: trying to create a tensor with negative "
                           f"dimension {min(sizes)}: {list(sizes)}")
    return np.empty(sizes, dtype=cls.dtype.dtype)


def _tensor_type(dtype, device: str) -> type:
    name = TYPE_NAMES[dtype]
    doc = (f"``{type_name(dtype, device)}``: ``{name}(data)`` or ``{name}(*sizes)`` makes a "
           f"{dtype} tensor on '{device}'; ``isinstance(x, {name})`` checks dtype and device.")
    return _TensorType(name, (), {"dtype": dtype, "_device": device, "is_cuda": device == "cuda",
                                  "__doc__": doc, "__module__": __name__})


FloatTensor = _tensor_type(dtypes.float32, "cpu")
DoubleTensor = _tensor_type(dtypes.float64, "cpu")
HalfTensor = _tensor_type(dtypes.float16, "cpu")
LongTensor = _tensor_type(dtypes.int64, "cpu")
IntTensor = _tensor_type(dtypes.int32, "cpu")
ShortTensor = _tensor_type(dtypes.int16, "cpu")
CharTensor = _tensor_type(dtypes.int8, "cpu")
ByteTensor = _tensor_type(dtypes.uint8, "cpu")
BoolTensor = _tensor_type(dtypes.bool, "cpu")

#: The same, on the GPU: ``torch.cuda.FloatTensor`` ... (tinytorch.cuda exports them).
CUDA_TYPES = {name: _tensor_type(d, "cuda") for d, name in TYPE_NAMES.items()
              if d is not dtypes.bfloat16}
_CPU_TYPES = {cls.__name__: cls for cls in (FloatTensor, DoubleTensor, HalfTensor, LongTensor,
                                            IntTensor, ShortTensor, CharTensor, ByteTensor,
                                            BoolTensor)}


def from_type_name(name: str):
    """(dtype, device) from 'torch.FloatTensor', 'torch.cuda.LongTensor', ...; None if it is
    not one."""
    for prefix, device, table in (("torch.cuda.", "cuda", CUDA_TYPES),
                                  ("torch.", "cpu", _CPU_TYPES)):
        if name.startswith(prefix) and name[len(prefix):] in table:
            return table[name[len(prefix):]].dtype, device
    return None


def is_tensor(obj) -> bool:
    """True for a tinytorch Tensor (a Parameter too)."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002 (PyTorch's argument name)
    """True when the tensor's dtype is a floating point one (float16/32/64)."""
    return _checked(input, "is_floating_point").array.dtype.kind == "f"


def numel(input: Tensor) -> int:  # noqa: A002
    """The number of elements of the tensor."""
    return int(_checked(input, "numel").array.size)


def _checked(x, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x
