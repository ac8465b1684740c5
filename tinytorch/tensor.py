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
from .backend import as_numpy, device_object, device_of
from .size import Size

_TORCH_DTYPES = dtypes.BY_NUMPY  # NumPy dtype -> tinytorch dtype (what Tensor.dtype returns)
_new_tuple = tuple.__new__


class Tensor:
    __slots__ = ("array", "_requires_grad", "grad", "grad_fn", "_version", "_hooks", "_retain",
                 "_post_accumulate_hooks", "__weakref__")

    # A leaf Tensor is itself a node of the graph for the engine (see engine.py).
    is_leaf_node = True
    # NumPy must hand `ndarray * tensor` back to us instead of looping over our elements.
    __array_priority__ = 1000
    __array_ufunc__ = None

    def __init__(self, data=None, requires_grad: bool = False, *sizes):
        if data.__class__ is not np.ndarray:
            if data.__class__ is int or data is None or data.__class__ is Size:
                data, requires_grad = _legacy_empty(data, requires_grad, sizes)
            elif data.__class__ is list or data.__class__ is tuple:
                data = array_from_data(data, dtypes.get_default_dtype())  # torch.Tensor([1, 2])
            else:
                data = _as_array(data)
        self.array = data
        self._requires_grad = False
        self.grad = None
        self.grad_fn = None
        self._version = None
        self._hooks = None
        self._retain = None
        self._post_accumulate_hooks = None
        if requires_grad:
            self.requires_grad = True

    # -- what it is -------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The size of each dim, a ``torch.Size`` (a tuple): ``torch.Size([2, 3])``."""
        return _new_tuple(Size, self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> dtypes.dtype:
        """``torch.float32``...: a tinytorch dtype, equal to the array's NumPy dtype."""
        d = self.array.dtype
        return _TORCH_DTYPES.get(d) or dtypes.from_numpy(d)

    @property
    def device(self):
        """``device(type='cpu')`` or ``device(type='cuda', index=0)`` (compare ``.type``
        with a string: a device never equals a string, as in PyTorch)."""
        return device_object(self.array)

    @property
    def is_cuda(self) -> bool:
        return device_of(self.array) == "cuda"

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

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` each time backward has added a gradient into this leaf's
        ``.grad`` (the hook reads ``tensor.grad``; what it returns is ignored). This is when
        a parameter's gradient for the whole backward pass is known, so data-parallel
        training starts averaging it here (tinytorch/nn/parallel). Returns a handle with
        ``.remove()``."""
        if self.grad_fn is not None:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
                "registered on non-leaf tensors (only leaves accumulate a .grad)")
        if not self._requires_grad:
            raise RuntimeError(
                "register_post_accumulate_grad_hook: can't register a hook on a tensor that "
                "does not require grad")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append(hook)
        return _HookHandle(self._post_accumulate_hooks, hook)

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
        if device_of(self.array) != "cpu":
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

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number; any other tensor takes no
        format spec (``f"{x}"`` is ``str(x)``), as in PyTorch (which, like here, also leaves
        a 0-d Parameter, a subclass, to ``object.__format__``)."""
        if self.array.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

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
        if device_of(self.array) != "cpu":
            extra.append(f"device='{self.device}'")
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


def array_of(x):
    """The array behind a Tensor, or ``x`` itself (a number, an array)."""
    return x.array if isinstance(x, Tensor) else x


def array_from_data(data, dtype=None):
    """A new array holding a copy of ``data`` (a number, nested list, array or tensor).

    With ``dtype``, Python numbers are converted straight to it (``tensor([0.3],
    dtype=float64)`` keeps every digit of 0.3). Without, PyTorch's inference: Python floats
    give the default float dtype (float32), ints int64, bools bool, and a mix the widest
    kind (float over int over bool); NumPy scalars, arrays and tensors, alone or inside a
    list, keep their dtype (``tensor(np.float64(0.3))`` is float64). ``tensor(...)`` in
    creation.py is this plus a device and requires_grad.
    """
    target = None if dtype is None else dtypes.as_dtype(dtype)
    if isinstance(data, Tensor):
        data = data.array
    if isinstance(data, np.generic):
        data = np.asarray(data)
    if isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        if target is None:
            return data.copy()
        with np.errstate(over="ignore", invalid="ignore"):  # 1e39 -> inf in float32, as PyTorch
            return data.astype(target)
    leaves, has_tensors = _leaf_dtypes(data)
    if has_tensors:  # tensors inside a list: their values, detached
        data = _without_tensors(data)
    return _convert_python(data, _promoted(leaves) if target is None else target, leaves)


# -- Python numbers and nested lists, read as PyTorch reads them --------------------------------
_SEQUENCES = (list, tuple, range)


def _leaf_dtypes(data):
    """The NumPy dtypes of the numbers in ``data`` (a Python float counts as the default
    float dtype), and whether some are tensors. One ``set(map(type, ...))`` per list, so a
    long list of Python numbers is read at C speed."""
    found, has_tensors, stack = set(), False, [data if isinstance(data, _SEQUENCES) else (data,)]
    while stack:
        seq = stack.pop()
        for kind in set(map(type, seq)):
            if kind is float:
                found.add(dtypes.as_dtype(dtypes.get_default_dtype()))
            elif kind is int:
                found.add(np.dtype(np.int64))
            elif kind is bool:
                found.add(np.dtype(np.bool_))
            elif issubclass(kind, np.generic):
                found.add(np.dtype(kind))
            else:  # arrays, tensors and nested lists: one at a time
                for item in seq:
                    if type(item) is not kind:
                        continue
                    if isinstance(item, Tensor):
                        found.add(item.array.dtype)
                        has_tensors = True
                    elif hasattr(item, "dtype"):
                        found.add(np.dtype(item.dtype))
                    elif isinstance(item, _SEQUENCES):
                        stack.append(item)
                    else:  # strings, None, dicts, complex numbers, ...
                        what = type(data).__name__
                        if item is not data:
                            what += f" holding a {type(item).__name__}"
                        raise TypeError(
                            f"tensor: could not make a tensor from {what}; give a number, a "
                            f"(nested) list of numbers of equal lengths, or an array")
    return found, has_tensors


def _promoted(found) -> np.dtype:
    """PyTorch's dtype for ``tensor(data)`` from the dtypes of its numbers: float beats int
    beats bool; among floats the widest, among ints NumPy's promotion; the default float
    dtype for an empty list."""
    floats = [d for d in found if d.kind == "f"]
    if floats:
        return max(floats, key=lambda d: d.itemsize)
    ints = [d for d in found if d.kind in "iu"]
    if ints:
        return np.result_type(*ints)
    if found and all(d.kind == "b" for d in found):
        return np.dtype(np.bool_)
    if found:
        raise TypeError(f"tensor: can't make a tensor of {sorted(d.name for d in found)}; "
                        f"give real numbers (float, int or bool)")
    return dtypes.as_dtype(dtypes.get_default_dtype())


def _convert_python(data, target: np.dtype, leaves):
    """Python numbers (or nested lists) -> an array of ``target``, each value converted once,
    as PyTorch does: a Python number is read as a double (an int as an exact int64 when the
    target is an integer type) and that double is cast to the target."""
    with np.errstate(over="ignore", invalid="ignore"):  # 3.4e39 -> inf in float32, as PyTorch
        try:
            if target.kind == "f":
                arr = np.asarray(data, dtype=np.float64)
                if target.itemsize < 4:  # PyTorch rounds a double to float, then to half
                    arr = arr.astype(np.float32)
                return arr.astype(target)
            arr = np.asarray(data)
        except ValueError:  # ragged nested lists
            arr = np.empty(0, dtype=object)
        except OverflowError as e:
            raise OverflowError(f"tensor: {e}") from None
        if arr.dtype.kind in "OSUV":  # objects (also ints past int64), strings, bytes
            if arr.dtype.kind == "O" and _has_big_int(data):
                raise _int_overflow("int64" if target.kind == "b" else target.name)
            raise TypeError(
                f"tensor: could not make a tensor from {type(data).__name__}; give a number, "
                f"a (nested) list of numbers of equal lengths, or an array")
        if target.kind in "iu":
            _check_fits(arr, target, leaves)
        elif target.kind != "b":
            raise TypeError(f"tensor: dtype {target} is not supported; use a float, int or "
                            f"bool dtype")
        return arr.astype(target)


def _check_fits(arr, target: np.dtype, leaves) -> None:
    """PyTorch refuses, rather than wraps, a value that the integer ``target`` can't hold."""
    info = np.iinfo(target)
    if arr.size == 0 or arr.dtype.kind == "b":
        return
    if arr.dtype.kind == "f":
        if not any(d.kind == "f" for d in leaves):  # NumPy made ints past int64 floats
            raise _int_overflow(target.name)
        low = float(info.min)
        bad = ~np.isfinite(arr) | (arr < low) | (arr > float(info.max))
    else:
        low = -int(info.max) if info.min == 0 else int(info.min)  # PyTorch: uint8 takes -255
        if arr.dtype.kind == "u" and arr.max() > info.max:
            raise _int_overflow(target.name)
        bad = (arr < low) | (arr > info.max)
    if bad.any():
        value = arr[bad].flat[0]
        raise RuntimeError(f"tensor: value {value} cannot be converted to type {target.name} "
                           f"without overflow")


def _int_overflow(name: str) -> ValueError:
    return ValueError(f"tensor: overflow: an int does not fit in {name} (the largest is "
                         f"{np.iinfo(name).max}); give dtype=torch.float64 for larger numbers")


def _has_big_int(data) -> bool:
    if data.__class__ is int:
        return not -2**63 <= data < 2**63
    if isinstance(data, (list, tuple)):
        return any(_has_big_int(x) for x in data)
    return False


def _without_tensors(data):
    if isinstance(data, Tensor):
        return as_numpy(data.array)
    if isinstance(data, (list, tuple)):
        return [_without_tensors(x) for x in data]
    return data


def _legacy_empty(first, second, more):
    """``torch.Tensor(2, 3)``, ``torch.Tensor(torch.Size([2, 3]))``, ``torch.Tensor()``:
    PyTorch's legacy constructor, an uninitialised tensor of that size in the default float
    dtype. Returns (array, requires_grad): a plain int second argument is a size, not
    requires_grad (a bool one still is)."""
    if first is None:
        sizes = (0,)
    elif first.__class__ is Size:
        sizes = tuple(first)
    else:
        sizes = (first, *((second,) if second.__class__ is not bool else ()), *more)
        if second.__class__ is not bool:  # Tensor(2, 3): a size, not requires_grad
            second = False
    for n in sizes:
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Tensor(*sizes): sizes must be ints, got {sizes}; for values use "
                            f"torch.tensor(...)")
        if n < 0:
            raise RuntimeError(f"Tensor(*sizes): trying to create a tensor with negative "
                               f"dimension {n}: {list(sizes)}")
    return np.empty(sizes, dtype=dtypes.as_dtype(dtypes.get_default_dtype())), second


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
