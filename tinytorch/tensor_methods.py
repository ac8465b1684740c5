"""Tensor's operators and math methods, each a one-line call into ``ops/``.

``x + y`` calls ``ops.arithmetic.add``, ``x.softmax(-1)`` calls
``ops.softmax.softmax``: the forward and backward of every op live in ``ops/``,
one file per family. In-place methods (``add_``, ``mul_``, ``zero_``, ...) are here
too: they change ``.array`` and bump the version counter.
"""

from __future__ import annotations

from .autograd.function import _tensor_type, is_tensor, version_cell
from .autograd.grad_mode import _state
from .backend import array_module
from .ops import arithmetic as A
from .ops import indexing as I  # noqa: E741
from .ops import linalg as L
from .ops import reduction as R
from .ops import selection as S
from .ops import shape as SH
from .ops import softmax as SM
from .ops import unary as U


def _arr(x):
    return x.array if is_tensor(x) else x


def _everywhere(t):
    """An all-True bool mask of t's shape: where(all, new, t) is "replace t" in graph form."""
    xp = array_module(t.array)
    return _tensor_type[0](xp.ones(t.shape, dtype=bool))


class TensorMethods:
    __slots__ = ()

    # -- arithmetic (ops/arithmetic.py) -------------------------------------------------
    def __add__(self, other):
        return A.Add.apply(self, other)

    def __radd__(self, other):
        return A.Add.apply(other, self)

    def __sub__(self, other):
        return A.Sub.apply(self, other)

    def __rsub__(self, other):
        return A.Sub.apply(other, self)

    def __mul__(self, other):
        return A.Mul.apply(self, other)

    def __rmul__(self, other):
        return A.Mul.apply(other, self)

    def __truediv__(self, other):
        return A.Div.apply(self, other)

    def __rtruediv__(self, other):
        return A.Div.apply(other, self)

    def __pow__(self, other):
        return A.Pow.apply(self, other)

    def __rpow__(self, other):
        return A.Pow.apply(other, self)

    def __neg__(self):
        return A.Neg.apply(self)

    def __pos__(self):
        return self

    def __matmul__(self, other):
        return L.Matmul.apply(self, other)

    def __rmatmul__(self, other):
        return L.Matmul.apply(other, self)

    def add(self, other, *, alpha=1):
        return A.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return A.sub(self, other, alpha=alpha)

    def mul(self, other):
        return A.Mul.apply(self, other)

    def div(self, other):
        return A.Div.apply(self, other)

    def pow(self, exponent):
        return A.Pow.apply(self, exponent)

    def neg(self):
        return A.Neg.apply(self)

    def matmul(self, other):
        return L.Matmul.apply(self, other)

    # -- comparisons and logic (ops/selection.py): bool results, no gradient ------------------
    def __eq__(self, other):  # noqa: D105
        return S.eq(self, other)

    def __ne__(self, other):
        return S.ne(self, other)

    def __lt__(self, other):
        return S.lt(self, other)

    def __le__(self, other):
        return S.le(self, other)

    def __gt__(self, other):
        return S.gt(self, other)

    def __ge__(self, other):
        return S.ge(self, other)

    def __and__(self, other):
        return S.bitwise_and(self, other)

    def __or__(self, other):
        return S.bitwise_or(self, other)

    def __xor__(self, other):
        return S.bitwise_xor(self, other)

    def __invert__(self):
        return S.logical_not(self)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def logical_and(self, other):
        return S.logical_and(self, other)

    def logical_or(self, other):
        return S.logical_or(self, other)

    def logical_not(self):
        return S.logical_not(self)

    def any(self, dim=None, keepdim=False):
        return R.any(self, dim, keepdim)

    def all(self, dim=None, keepdim=False):
        return R.all(self, dim, keepdim)

    # -- elementwise math (ops/unary.py) ---------------------------------------------------
    def exp(self):
        return U.Exp.apply(self)

    def log(self):
        return U.Log.apply(self)

    def sqrt(self):
        return U.Sqrt.apply(self)

    def rsqrt(self):
        return U.Rsqrt.apply(self)

    def abs(self):
        return U.Abs.apply(self)

    __abs__ = abs

    def sin(self):
        return U.Sin.apply(self)

    def cos(self):
        return U.Cos.apply(self)

    def tanh(self):
        return U.Tanh.apply(self)

    def sigmoid(self):
        return U.Sigmoid.apply(self)

    def relu(self):
        return U.Relu.apply(self)

    def clamp(self, min=None, max=None):  # noqa: A002
        return U.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return S.maximum(self, other)

    def minimum(self, other):
        return S.minimum(self, other)

    # -- reductions (ops/reduction.py) -----------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return R.Sum.apply(self, dim=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        return R.Mean.apply(self, dim=dim, keepdim=keepdim)

    def var(self, dim=None, *, correction=None, keepdim=False, unbiased=None):
        return R.var(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def std(self, dim=None, *, correction=None, keepdim=False, unbiased=None):
        return R.std(self, dim, correction=correction, keepdim=keepdim, unbiased=unbiased)

    def max(self, dim=None, keepdim=False):
        return R.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return R.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return R.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return R.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return R.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return R.argmin(self, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return R.logsumexp(self, dim, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False):
        return R.norm(self, p, dim, keepdim)

    def softmax(self, dim):
        return SM.softmax(self, dim)

    def log_softmax(self, dim):
        return SM.log_softmax(self, dim)

    # -- shape (ops/shape.py) --------------------------------------------------------------
    def reshape(self, *shape):
        return SH.reshape(self, *shape)

    def view(self, *shape):
        return SH.reshape(self, *shape)

    def view_as(self, other):
        return SH.reshape(self, other.shape)

    def reshape_as(self, other):
        return SH.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return SH.flatten(self, start_dim, end_dim)

    def transpose(self, dim0, dim1):
        return SH.transpose(self, dim0, dim1)

    def swapaxes(self, dim0, dim1):
        return SH.transpose(self, dim0, dim1)

    def permute(self, *dims):
        return SH.permute(self, *dims)

    def unsqueeze(self, dim):
        return SH.unsqueeze(self, dim)

    def squeeze(self, dim=None):
        return SH.squeeze(self, dim)

    def expand(self, *sizes):
        return SH.expand(self, *sizes)

    def expand_as(self, other):
        return SH.expand_as(self, other)

    def contiguous(self):
        return SH.contiguous(self)

    def split(self, split_size_or_sections, dim=0):
        return SH.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return SH.chunk(self, chunks, dim)

    def narrow(self, dim, start, length):
        return SH.narrow(self, dim, start, length)

    @property
    def T(self):  # noqa: N802 (PyTorch's name)
        """All dims reversed (the matrix transpose for 2-D)."""
        return SH.permute(self, *reversed(range(self.ndim)))

    @property
    def mT(self):  # noqa: N802
        """The last two dims swapped (a batch of matrix transposes)."""
        return SH.transpose(self, -2, -1)

    # -- indexing and selection (ops/indexing.py, ops/selection.py) -----------------------
    def __getitem__(self, key):
        return I.getitem(self, key)

    def gather(self, dim, index):
        return I.gather(self, dim, index)

    def index_select(self, dim, index):
        return I.index_select(self, dim, index)

    def masked_fill(self, mask, value):
        return S.masked_fill(self, mask, value)

    def where(self, condition, other):
        return S.where(condition, self, other)

    def tril(self, diagonal=0):
        return S.tril(self, diagonal)

    def triu(self, diagonal=0):
        return S.triu(self, diagonal)

    # -- in place (for optimizers and initialisation) ------------------------------------------
    def _in_place(self, name, out_of_place, mutate, *others):
        """Run ``mutate(array)`` on this tensor's memory, or, when a graph must be recorded,
        compute ``out_of_place(alias, *others)`` and make this tensor its result."""
        if _state.enabled and (self._requires_grad or any(
                is_tensor(o) and o._requires_grad for o in others)):
            if self.grad_fn is None and self._requires_grad:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad is being used in an in-place "
                    f"operation. Wrap the update in `with torch.no_grad():` (as optimizers and "
                    f"nn.init do), or use the out-of-place form.")
            if self.grad_fn is not None and self.grad_fn.is_view:
                raise RuntimeError(
                    f"{name}: this tensor is a view (of {self.grad_fn.name}) of a tensor that "
                    f"requires grad; modifying it in place would not update its base's graph "
                    f"(a silently wrong gradient). Use the out-of-place form, or .clone() the "
                    f"view before modifying it.")
            # The op reads a copy: its backward may save it, and the memory is overwritten below.
            alias = _tensor_type[0](self.array.copy())
            alias._requires_grad, alias.grad_fn = self._requires_grad, self.grad_fn
            result = out_of_place(alias, *others)
            if result.shape != self.shape:
                raise RuntimeError(
                    f"{name}: the result has shape {tuple(result.shape)} but the tensor being "
                    f"modified in place has shape {tuple(self.shape)}")
            self.array[...] = result.array
            self.grad_fn, self._requires_grad = result.grad_fn, result._requires_grad
        else:
            try:
                mutate(self.array)
            except ValueError as e:
                raise RuntimeError(f"{name}: {e} (tensor of shape {tuple(self.shape)})") from None
        version_cell(self)[0] += 1
        return self

    def add_(self, other, *, alpha=1):
        def mutate(a):
            xp = array_module(a)
            b = _arr(other)
            xp.add(a, b if alpha == 1 else alpha * b, out=a)
        return self._in_place("add_", lambda s, o: A.add(s, o, alpha=alpha), mutate, other)

    def sub_(self, other, *, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        return self._in_place("mul_", A.mul, lambda a: array_module(a).multiply(a, _arr(other), out=a), other)

    def div_(self, other):
        return self._in_place("div_", A.div, lambda a: array_module(a).divide(a, _arr(other), out=a), other)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return self._in_place("clamp_", lambda s: U.clamp(s, min, max),
                              lambda a: array_module(a).clip(a, min, max, out=a))

    def zero_(self):
        return self._in_place("zero_", lambda s: S.masked_fill(s, _everywhere(s), 0),
                              lambda a: a.fill(0))

    def fill_(self, value):
        def mutate(a):
            a[...] = _arr(value)
        return self._in_place("fill_", lambda s: S.masked_fill(s, _everywhere(s), value), mutate)

    def copy_(self, src):
        def mutate(a):
            from .backend import to_device  # noqa: PLC0415

            a[...] = to_device(_arr(src), self.device) if is_tensor(src) else src
        return self._in_place("copy_", lambda s, o: S.where(_everywhere(s), o, s), mutate, src)

    def masked_fill_(self, mask, value):
        def mutate(a):
            m = S._bool_mask(mask, "masked_fill_")
            array_module(a).copyto(a, a.dtype.type(_arr(value)), where=m)
        return self._in_place("masked_fill_", lambda s: S.masked_fill(s, mask, value), mutate)

    def __setitem__(self, key, value):
        def mutate(a):
            k, _ = I._convert_key(key)
            a[k] = _arr(value)
        self._in_place("setitem", lambda s, v: I.index_put(s, key, v), mutate, value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        from . import random  # noqa: PLC0415

        return self.copy_(random.uniform_array(self.shape, a, b, self.dtype, self.device, generator))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        from . import random  # noqa: PLC0415

        return self.copy_(random.normal_array(self.shape, mean, std, self.dtype, self.device, generator))
