"""Tensor: an array, plus what autograd needs to know about it.

A Tensor wraps a NumPy (or CuPy) array in ``.array`` and adds:

- ``requires_grad``: whether gradients should flow to it,
- ``grad_fn``: the Function node that produced it (None for leaves, which you create),
- ``grad``: after ``backward()``, dL/d(this tensor) for leaves (and ``retain_grad()`` ones).

This file holds only what a Tensor *is*: its array, its autograd state (above, plus the
version counter and hooks), shape/dtype/device, and conversions to Python and NumPy.
Everything that runs an op or the engine (``+``, ``@``, ``exp``, ``sum``, ``reshape``,
``backward``, ``to``, ``clone``, ...) is in ``tensor_methods.py``, which adds those methods
to this class when ``tinytorch`` is imported; each calls an op in ``ops/``, where its
backward lives.
"""

from __future__ import annotations

import weakref

import numpy as np

from . import dtypes
from .backend import as_numpy, device_of


class Tensor:
    __slots__ = ("array", "_requires_grad", "grad", "grad_fn", "_version", "_hooks", "_retain",
                 "__weakref__")

    # A leaf Tensor is itself a node of the graph for the engine (see engine.py).
    is_leaf_node = True
    # NumPy must hand `ndarray * tensor` back to us instead of looping over our elements.
    __array_priority__ = 1000
    __array_ufunc__ = None

    def __init__(self, data, requires_grad: bool = False):
        if data.__class__ is not np.ndarray:
            data = _as_array(data)
        self.array = data
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._version = None
        self._hooks = None
        self._retain = None
        if requires_grad:
            self.requires_grad = True

    # -- what it is -------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self.array.shape

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self) -> str:
        return device_of(self.array)

    @property
    def is_cuda(self) -> bool:
        return self.device == "cuda"

    def dim(self) -> int:
        return self.array.ndim

    def numel(self) -> int:
        return int(self.array.size)

    nelement = numel

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    # -- autograd ---------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "requires_grad: you can only change requires_grad of leaf tensors; this one was "
                "computed from others. Use y = y.detach() to cut it from the graph.")
        if value and self.array.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating point tensors can require gradients, this one is "
                f"{self.array.dtype}. Convert first: x = x.float()")
        self._requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors you created (not results of ops that recorded a graph)."""
        return self.grad_fn is None

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor too after backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError(
                    "retain_grad: can't retain grad on a tensor that does not require grad")
            return  # leaves keep their grad anyway
        self.grad_fn._retain = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``.remove()``."""
        if not self._requires_grad:
            raise RuntimeError(
                "register_hook: can't register a hook on a tensor that does not require grad")
        owner = self.grad_fn if self.grad_fn is not None else self
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(hook)
        return _HookHandle(owner._hooks, hook)

    def detach(self) -> Tensor:
        """The same values (shared memory), cut from the graph: no grad_fn, no requires_grad."""
        out = Tensor(self.array)
        out._version = version_cell(self)
        return out

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """A detached tensor sharing this one's memory (PyTorch's ``.data``)."""
        return self.detach()

    @data.setter
    def data(self, value) -> None:
        self.array = value.array if isinstance(value, Tensor) else _as_array(value)

    # -- conversions ------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise RuntimeError(
                f"item: a Tensor with {self.array.size} elements (shape {tuple(self.shape)}) "
                f"cannot be converted to a Python scalar; index it or reduce it first")
        return self.array.reshape(()).item()

    def tolist(self):
        return as_numpy(self.array).tolist()

    def numpy(self) -> np.ndarray:
        """The NumPy array (shared memory). Like PyTorch, refused while the tensor requires
        grad (use ``.detach().numpy()``) and for CUDA tensors (use ``.cpu().numpy()``)."""
        if self._requires_grad:
            raise RuntimeError(
                "numpy: can't call numpy() on a tensor that requires grad. "
                "Use tensor.detach().numpy() instead.")
        if self.device != "cpu":
            raise TypeError(
                "numpy: can't convert a cuda tensor to NumPy. Use tensor.cpu().numpy().")
        return self.array

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(
                f"bool: the truth value of a tensor with {self.array.size} elements is ambiguous; "
                f"use .any() or .all()")
        return bool(self.array.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__  # tensors are dict keys by identity, as in PyTorch

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only leaf tensors (created by you, not by ops) can be "
                               "deep-copied; detach() it first")
        out = type(self).__new__(type(self))
        Tensor.__init__(out, self.array.copy(), self._requires_grad)
        if self.grad is not None:
            out.grad = Tensor(self.grad.array.copy())
        memo[id(self)] = out
        return out

    # -- printing ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        arr = as_numpy(self.array)
        finite = arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr))
        if finite and np.all(arr == np.round(arr)):
            fmt = {"floatmode": "unique"}  # 1., 2. for whole numbers, like PyTorch
        else:
            fmt = {"floatmode": "fixed", "precision": 4}
        body = np.array2string(arr, separator=", ", prefix="tensor(", threshold=1000, **fmt)
        extra = []
        if self.device != "cpu":
            extra.append("device='cuda:0'")
        default = {"f": dtypes.get_default_dtype(), "i": dtypes.int64, "b": dtypes.bool}
        if default.get(arr.dtype.kind) != arr.dtype:
            extra.append(f"dtype={dtypes.name(arr.dtype)}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def version_cell(t) -> list:
    """The tensor's version counter: a one-element list, shared by a tensor and its views.

    In-place ops add 1 to it; a node that saved the tensor remembers the value it had,
    and the engine compares before using the saved values.
    """
    cell = t._version
    if cell is None:
        cell = t._version = [0]
    return cell


def array_from_data(data, dtype=None):
    """A new array holding a copy of ``data`` (a number, nested list, array or tensor).

    Python floats become the default float dtype, Python ints int64 (as in PyTorch);
    arrays keep their dtype unless ``dtype`` is given. ``tensor(...)`` in creation.py
    is this plus a device and requires_grad.
    """
    if isinstance(data, Tensor):
        arr = data.array.copy()
    elif isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        arr = data.copy()
    else:
        try:
            arr = np.asarray(data)
        except ValueError:  # NumPy 2 refuses ragged nested lists
            arr = np.empty(0, dtype=object)
        if arr.dtype.kind in "OSUV":  # objects, strings, bytes
            raise TypeError(
                f"tensor: could not make a tensor from {type(data).__name__}; give a number, "
                f"a (nested) list of numbers of equal lengths, or an array")
        if arr.dtype.kind == "f":
            arr = arr.astype(dtypes.get_default_dtype())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(dtypes.as_dtype(dtype), copy=False)
    return arr


def _as_array(data):
    """The array behind ``data`` (shared, not copied) when it is one, else a new one from a
    number or a nested list: what ``Tensor(data)`` holds."""
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        return data
    if isinstance(data, np.generic):  # a NumPy scalar (0-d op result): keep its dtype
        return np.asarray(data)
    return array_from_data(data)
