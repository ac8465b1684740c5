"""The dtypes: ``tinytorch.float32`` ... under PyTorch's names, each wrapping a NumPy dtype.

    >>> import tinytorch as torch, numpy as np
    >>> torch.float32, torch.tensor([1.0]).dtype
    (torch.float32, torch.float32)
    >>> torch.float32 == np.float32, np.dtype(torch.float32), torch.float32.itemsize
    (True, dtype('float32'), 4)

A ``tinytorch.dtype`` prints as PyTorch's does and has PyTorch's attributes
(``is_floating_point``, ``is_signed``, ``itemsize``), yet NumPy takes it wherever it takes
a dtype: it equals the NumPy dtype it wraps (``x.dtype == np.float32``), NumPy reads it
through its ``.dtype`` attribute (``np.dtype(t.dtype)``, ``arr.astype(torch.float64)``,
``np.zeros(3, dtype=torch.int64)``), and NumPy's own attributes pass through
(``x.dtype.kind``, ``x.dtype.type``). Ops never see it: they work on arrays, whose
``arr.dtype`` is the NumPy dtype; only ``Tensor.dtype`` wraps it, with one dict lookup.

float32 is the default for new floating point tensors (``set_default_dtype``).
``bfloat16`` exists so that scripts which name it run, but NumPy has no bfloat16: a tensor
of it can't be made, and trying says so in one line.
"""

from __future__ import annotations

import builtins

import numpy as np


class dtype:  # noqa: N801 (PyTorch's name: torch.dtype)
    """The element type of a tensor, e.g. ``torch.float32`` (a NumPy dtype underneath)."""

    __slots__ = ("_np", "_name")

    def __init__(self, name: str, np_dtype):
        self._name = name
        self._np = None if np_dtype is None else np.dtype(np_dtype)

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype; NumPy looks this attribute up, so NumPy accepts a tinytorch dtype."""
        if self._np is None:
            raise TypeError(_no_numpy(self._name))
        return self._np

    __numpy_dtype__ = dtype  # the same, under the name NumPy 2.4+ asks for first

    @property
    def is_floating_point(self) -> bool:
        return self._np is None or self._np.kind == "f"  # only bfloat16 has no NumPy dtype

    @property
    def is_complex(self) -> bool:
        return self._np is not None and self._np.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self._np is None or self._np.kind in "fic"

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return 2 if self._np is None else self._np.itemsize

    def __getattr__(self, name: str):
        # NumPy's attributes (kind, type, char, name, str, ...) come from the NumPy dtype.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.dtype, name)

    def __eq__(self, other):
        if other.__class__ is dtype:
            return self is other or (self._np is not None and self._np == other._np)
        if isinstance(other, np.dtype):
            return self._np == other
        if self._np is None or other is None:  # np.dtype(None) would be float64
            return False
        try:
            return self._np == np.dtype(other)
        except (TypeError, ValueError):
            return NotImplemented

    def __hash__(self) -> int:
        return hash(self._np) if self._np is not None else hash(self._name)

    def __repr__(self) -> str:
        return "torch." + self._name

    def __reduce__(self):  # pickle and deepcopy give back the same object
        return (_by_name, (self._name,))


def _no_numpy(name: str) -> str:
    return (f"torch.{name}: NumPy has no {name}, so tinytorch can't store it; use "
            f"torch.float32 (or torch.float16 for half the memory)")


float32 = float = dtype("float32", np.float32)  # noqa: A001 (torch.float is float32)
float64 = double = dtype("float64", np.float64)
float16 = half = dtype("float16", np.float16)
bfloat16 = dtype("bfloat16", None)
int64 = long = dtype("int64", np.int64)
int32 = int = dtype("int32", np.int32)  # noqa: A001
int16 = short = dtype("int16", np.int16)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
bool = dtype("bool", np.bool_)  # noqa: A001

#: NumPy dtype -> tinytorch dtype; ``Tensor.dtype`` looks its array's dtype up here.
BY_NUMPY = {d._np: d for d in (float32, float64, float16, int64, int32, int16, int8, uint8, bool)}
_BY_NAME = {d._name: d for d in (*BY_NUMPY.values(), bfloat16)}


def from_numpy(np_dtype) -> dtype:
    """The tinytorch dtype of a NumPy dtype (one is made, once, for a dtype with no
    PyTorch name here, such as uint16: it prints as ``torch.uint16``)."""
    np_dtype = np.dtype(np_dtype)
    d = BY_NUMPY.get(np_dtype)
    if d is None:
        d = BY_NUMPY[np_dtype] = _BY_NAME[np_dtype.name] = dtype(np_dtype.name, np_dtype)
    return d


def _by_name(name: str) -> dtype:
    return _BY_NAME.get(name) or from_numpy(name)


_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype of new floating point tensors (float32 unless changed)."""
    return _default[0]


def set_default_dtype(d) -> None:
    """Make ``d`` (float32 or float64) the default for new floating point tensors."""
    np_dtype = as_dtype(d)
    if np_dtype.kind != "f":
        raise TypeError(f"set_default_dtype: only floating point dtypes can be the default, "
                        f"got {name(np_dtype)}")
    _default[0] = from_numpy(np_dtype)


def as_dtype(d) -> np.dtype:
    """The NumPy dtype of a tinytorch dtype, a NumPy dtype or type, a string ('float32') or
    a Python type (float -> float64, int -> int64, bool -> bool, as ``x.to(float)`` in
    PyTorch). What the code inside tinytorch hands to NumPy."""
    if d.__class__ is dtype:
        return d._np if d._np is not None else d.dtype  # (.dtype raises for bfloat16)
    if d is None:  # np.dtype(None) is float64: never what a caller meant
        raise TypeError("unknown dtype None: use e.g. tinytorch.float32 or tinytorch.int64")
    if d is builtins.int:
        return int64._np  # np.dtype(int) is int32 on Windows; PyTorch's int is int64
    try:
        return np.dtype(d)
    except TypeError:
        raise TypeError(f"unknown dtype {d!r}: use e.g. tinytorch.float32 or tinytorch.int64"
                        ) from None


def name(d) -> str:
    """'torch.float32' style name, for reprs and messages."""
    return "torch." + as_dtype(d).name
