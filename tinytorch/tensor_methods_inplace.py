"""Tensor's in-place methods: ``add_``, ``mul_``, ``zero_``, ``fill_``, ``copy_``,
``masked_fill_``, ``x[i] = v``, ``+=``, ``uniform_``... (optimizers and ``nn.init`` use them).

Each one either changes the tensor's memory directly (under ``no_grad``, or when no graph
is involved) or, when a graph must be recorded, computes the out-of-place op and makes
this tensor its result; both ways bump the version counter, so a backward that saved the
old values refuses to run (autograd/function.py). ``_in_place`` holds that logic once.
Copied onto ``Tensor`` by ``attach`` in tensor_methods.py.
"""

from __future__ import annotations

from . import random
from .autograd.grad_mode import _state
from .backend import array_module, to_device
from .ops import arithmetic, indexing, selection, unary
from .tensor import Tensor, array_of, version_cell


def _everywhere(t):
    """An all-True bool mask of t's shape: where(all, new, t) is "replace t" in graph form."""
    xp = array_module(t.array)
    return Tensor(xp.ones(t.shape, dtype=bool))


class InPlaceMethods:
    """Not a base class: a namespace for Tensor's in-place methods, copied onto Tensor."""

    def _in_place(self, name, out_of_place, mutate, *others):
        """Run ``mutate(array)`` on this tensor's memory, or, when a graph must be recorded,
        compute ``out_of_place(alias, *others)`` and make this tensor its result."""
        if _state.enabled and (self._requires_grad or any(
                isinstance(o, Tensor) and o._requires_grad for o in others)):
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
            alias = Tensor(self.array.copy())
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
            b = array_of(other)
            xp.add(a, b if alpha == 1 else alpha * b, out=a)
        return self._in_place("add_", lambda s, o: arithmetic.add(s, o, alpha=alpha), mutate, other)

    def sub_(self, other, *, alpha=1):
        return self.add_(other, alpha=-alpha)

    def mul_(self, other):
        return self._in_place("mul_", arithmetic.mul,
                              lambda a: array_module(a).multiply(a, array_of(other), out=a), other)

    def div_(self, other):
        return self._in_place("div_", arithmetic.div,
                              lambda a: array_module(a).divide(a, array_of(other), out=a), other)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return self._in_place("clamp_", lambda s: unary.clamp(s, min, max),
                              lambda a: array_module(a).clip(a, min, max, out=a))

    def zero_(self):
        return self._in_place("zero_", lambda s: selection.masked_fill(s, _everywhere(s), 0),
                              lambda a: a.fill(0))

    def fill_(self, value):
        def mutate(a):
            a[...] = array_of(value)
        return self._in_place("fill_", lambda s: selection.masked_fill(s, _everywhere(s), value),
                              mutate)

    def copy_(self, src):
        def mutate(a):
            a[...] = to_device(array_of(src), self.device) if isinstance(src, Tensor) else src
        return self._in_place("copy_", lambda s, o: selection.where(_everywhere(s), o, s), mutate,
                              src)

    def masked_fill_(self, mask, value):
        def mutate(a):
            m = selection._bool_mask(mask, "masked_fill_")
            array_module(a).copyto(a, a.dtype.type(array_of(value)), where=m)
        return self._in_place("masked_fill_", lambda s: selection.masked_fill(s, mask, value),
                              mutate)

    def __setitem__(self, key, value):
        def mutate(a):
            k, _ = indexing._convert_key(key)
            a[k] = array_of(value)
        self._in_place("setitem", lambda s, v: indexing.index_put(s, key, v), mutate, value)

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        return self.copy_(
            random.uniform_array(self.shape, a, b, self.dtype, self.device, generator))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        return self.copy_(
            random.normal_array(self.shape, mean, std, self.dtype, self.device, generator))
