"""Tensor's operators and math methods, each a one-line call into ``ops/``.

``x + y`` calls ``ops.arithmetic.add``, ``x.softmax(-1)`` calls
``ops.softmax.softmax``: the forward and backward of every op live in ``ops/``,
one file per family. ``backward()`` calls the engine; ``to``/``float``/``cuda``/...
and ``clone`` call ``ops/conversion.py``. The in-place methods (``add_``, ``mul_``,
``zero_``, ...) are in tensor_methods_inplace.py, the newer ops' methods in
tensor_methods_ops.py, ``type``/``new_*`` in tensor_methods_types.py.

They are written in the class ``TensorMethods`` below and copied onto ``Tensor`` at
the end of this file (see there why).
"""

from __future__ import annotations

import types

from . import dtypes
from .autograd import engine
from .backend import device_of
from .ops import (
    arithmetic,
    conversion,
    indexing,
    linalg,
    reduction,
    selection,
    shape,
    softmax,
    unary,
)
from .ops.dims import normalize_dim
from .tensor import Tensor
from .tensor_methods_inplace import InPlaceMethods
from .tensor_methods_ops import OpsMethods
from .tensor_methods_types import TypeMethods, parse_to


class TensorMethods:
    """Not a base class: a namespace for Tensor's methods, copied onto Tensor below."""

    # -- backward (autograd/engine.py) -----------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad."""
        engine.backward(self, gradient, retain_graph)

    # -- size of one dim -------------------------------------------------------------------
    def size(self, dim: int | None = None):
        """The shape (a ``torch.Size``), or the size of one dim: ``x.size()`` / ``x.size(0)``."""
        if dim is None:
            return self.shape
        return self.array.shape[normalize_dim(dim, self.ndim, "size")]

    # -- dtype and device (ops/conversion.py) ----------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking=False, copy=False,
           memory_format=None) -> Tensor:
        """``x.to(torch.float64)``, ``x.to('cuda')``, ``x.to(torch.device('cuda'))``,
        ``x.to('cpu', torch.float32)``, ``x.to(other)``, ``x.to(device=..., dtype=...,
        copy=True)``: PyTorch's forms (tensor_methods_types.parse_to reads them). ``self``
        itself when nothing changes, unless ``copy``."""
        device, dtype, copy = parse_to(args, device, dtype, non_blocking, copy)
        out = self
        if device is not None and device != device_of(self.array):
            out = conversion.ToDevice.apply(out, device=device)
        if dtype is not None and dtype != out.array.dtype:
            out = conversion.Cast.apply(out, dtype=dtype)
        if copy and out is self:
            out = conversion.Clone.apply(self)
        return out

    def cuda(self, device=None) -> Tensor:
        return self.to("cuda")

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def clone(self) -> Tensor:
        return conversion.Clone.apply(self)

    # -- arithmetic (ops/arithmetic.py) -------------------------------------------------
    def __add__(self, other):
        return arithmetic.Add.apply(self, other)

    def __radd__(self, other):
        return arithmetic.Add.apply(other, self)

    def __sub__(self, other):
        return arithmetic.Sub.apply(self, other)

    def __rsub__(self, other):
        return arithmetic.Sub.apply(other, self)

    def __mul__(self, other):
        return arithmetic.Mul.apply(self, other)

    def __rmul__(self, other):
        return arithmetic.Mul.apply(other, self)

    def __truediv__(self, other):
        return arithmetic.Div.apply(self, other)

    def __rtruediv__(self, other):
        return arithmetic.Div.apply(other, self)

    def __pow__(self, other):
        return arithmetic.Pow.apply(self, other)

    def __rpow__(self, other):
        return arithmetic.Pow.apply(other, self)

    def __neg__(self):
        return arithmetic.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return linalg.Matmul.apply(self, other)

    def __rmatmul__(self, other):
        return linalg.Matmul.apply(other, self)

    def add(self, other, *, alpha=1):
        return arithmetic.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return arithmetic.sub(self, other, alpha=alpha)

    def mul(self, other):
        return arithmetic.Mul.apply(self, other)

    def div(self, other):
        return arithmetic.Div.apply(self, other)

    def pow(self, exponent):
        return arithmetic.Pow.apply(self, exponent)

    def neg(self):
        return arithmetic.Neg.apply(self)

    def matmul(self, other):
        return linalg.Matmul.apply(self, other)

    # -- comparisons and logic (ops/selection.py): bool results, no gradient ------------------
    def __eq__(self, other):  # noqa: D105
        return selection.eq(self, other)

    def __ne__(self, other):
        return selection.ne(self, other)

    def __lt__(self, other):
        return selection.lt(self, other)

    def __le__(self, other):
        return selection.le(self, other)

    def __gt__(self, other):
        return selection.gt(self, other)

    def __ge__(self, other):
        return selection.ge(self, other)

    def __and__(self, other):
        return selection.bitwise_and(self, other)

    def __or__(self, other):
        return selection.bitwise_or(self, other)

    def __xor__(self, other):
        return selection.bitwise_xor(self, other)

    def __invert__(self):
        return selection.logical_not(self)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def logical_and(self, other):
        return selection.logical_and(self, other)

    def logical_or(self, other):
        return selection.logical_or(self, other)

    def logical_not(self):
        return selection.logical_not(self)

    def any(self, dim=None, keepdim=False):
        return reduction.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return reduction.all(self, dim, keepdim)

    # -- elementwise math (ops/unary.py) ---------------------------------------------------
    def exp(self):
        return unary.Exp.apply(self)

    def log(self):
        return unary.Log.apply(self)

    def sqrt(self):
        return unary.Sqrt.apply(self)

    def rsqrt(self):
        return unary.Rsqrt.apply(self)

    def abs(self):
        return unary.Abs.apply(self)

    __abs__ = abs

    def sin(self):
        return unary.Sin.apply(self)

    def cos(self):
        return unary.Cos.apply(self)

    def tanh(self):
        return unary.Tanh.apply(self)

    def sigmoid(self):
        return unary.Sigmoid.apply(self)

    def relu(self):
        return unary.Relu.apply(self)

    def clamp(self, min=None, max=None):  # noqa: A002
        return unary.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return selection.maximum(self, other)

    def minimum(self, other):
        return selection.minimum(self, other)

    # -- reductions (ops/reduction.py) -----------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return reduction.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return reduction.Mean.apply(self, dim=dim, keepdim=keepdim)

    def var(self, dim=None, *, correction=None, keepdim=False, unbiased=None):
        return reduction.var(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def std(self, dim=None, *, correction=None, keepdim=False, unbiased=None):
        return reduction.std(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def max(self, dim=None, keepdim=False):
        return reduction.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return reduction.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return reduction.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return reduction.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return reduction.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return reduction.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return reduction.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        return reduction.norm(self, p, dim, keepdim)

    def softmax(self, dim):
        return softmax.softmax(self, dim)

    def log_softmax(self, dim):
        return softmax.log_softmax(self, dim)

    # -- shape (ops/shape.py) --------------------------------------------------------------
    def reshape(self, *sizes):
        return shape.reshape(self, *sizes)

    def view(self, *sizes):
        return shape.reshape(self, *sizes)

    def view_as(self, other):
        return shape.reshape(self, other.shape)

    def reshape_as(self, other):
        return shape.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return shape.transpose(self, dim0, dim1)

    def swapaxes(self, dim0, dim1):
        return shape.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return shape.permute(self, *dims)

    def unsqueeze(self, dim):
        return shape.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return shape.squeeze(self, dim)

    def expand(self, *sizes):
        return shape.expand(self, *sizes)

    def expand_as(self, other):
        return shape.expand_as(self, other)

    def contiguous(self):
        return shape.contiguous(self)

    def split(self, split_size_or_sections, dim=0):
        return shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return shape.chunk(self, chunks, dim)

    def narrow(self, dim, start, length):
        return shape.narrow(self, dim, start, length)

    @property
    def T(self):  # noqa: N802 (PyTorch's name)
        """All dims reversed (the matrix transpose for 2-D)."""
        return shape.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):  # noqa: N802
        """The last two dims swapped (a batch of matrix transposes)."""
        return shape.transpose(self, -2, -1)

    # -- indexing and selection (ops/indexing.py, ops/selection.py) -----------------------
    def __getitem__(self, key):
        return indexing.getitem(self, key)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def gather(self, dim, index):
        return indexing.gather(self, dim, index)

    def index_select(self, dim, index):
        return indexing.index_select(self, dim, index)

    def masked_fill(self, mask, value):
        return selection.masked_fill(self, mask, value)

    def where(self, condition, other):
        return selection.where(condition, self, other)

    def tril(self, diagonal=0):
        return selection.tril(self, diagonal)

    def triu(self, diagonal=0):
        return selection.triu(self, diagonal)


# -- attaching the methods to Tensor ------------------------------------------------------------
# Why not `class Tensor(TensorMethods)` in tensor.py? Every op returns a new Tensor, so the
# Tensor class must exist before the ops (autograd/function.py imports it); and these methods
# call the ops, so they can only exist after them. Hence tensor.py defines what a Tensor *is*,
# importing no op, and this module adds the methods to that class, once; tinytorch/__init__.py
# imports it, so they are there as soon as `import tinytorch` returns (DeZero's
# `setup_variable` does the same). Subclasses (nn.Parameter) inherit them as usual. Every
# function and property of the class body above is copied; entries Python adds to any class
# are not (among them __hash__ = None, which defining __eq__ implies: Tensor keeps
# object.__hash__, so tensors are dict keys by identity, as in PyTorch).
def attach(methods) -> None:
    """Copy the functions and properties of the class ``methods`` onto Tensor (once)."""
    for name, value in vars(methods).items():
        if isinstance(value, (types.FunctionType, property)):
            if name in vars(Tensor):
                raise TypeError(f"Tensor.{name} is defined twice ({methods.__name__} and "
                                f"an earlier class)")
            setattr(Tensor, name, value)


attach(TensorMethods)
# More methods, one file per topic when this one would grow too long (each such module
# defines a class of methods, imports ops and tensor.py, and never this module):
attach(InPlaceMethods)  # add_, mul_, copy_, fill_, __setitem__, ...: tensor_methods_inplace.py
attach(TypeMethods)  # type, new_tensor/new_zeros/..., is_floating_point: tensor_methods_types.py
attach(OpsMethods)  # sort, topk, cumsum, scatter_, flip, lerp, ...: tensor_methods_ops.py

