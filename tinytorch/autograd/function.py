"""Function: one differentiable op, and the node it leaves in the graph.

Every op is a subclass with two methods that work on raw arrays::

    class Exp(Function):
        saves_output = True                 # backward reads y: guard it against in-place edits

        def forward(self, x):
            y = xp.exp(x)
            self.save(y)                    # the only thing backward keeps
            return y

        def backward(self, g):
            # y = exp(x)  =>  dy/dx = exp(x) = y  =>  dL/dx = g * y
            (y,) = self.saved
            return g * y

``Exp.apply(t)`` runs ``forward`` on ``t``'s array, wraps the result in a Tensor
and, if any input requires grad (and grad mode is on), keeps the Function
instance as the result's ``grad_fn``: a node of the graph. Its ``parents`` are,
for each positional input, the node that produced it (a Function), the input
itself when it is a leaf Tensor that requires grad, or None.

``backward(g)`` receives dL/d(output) with the output's shape and returns
dL/d(input) for each positional input (a bare array when there is one input, a
tuple otherwise; None for an input that needs no gradient). Gradients may come
back in the *broadcast* shape when the op sets ``broadcasts = True``: the engine
sums them back to each input's shape in one place (``engine.sum_to``).

What backward keeps is declared: arrays go through ``save(...)`` into
``self.saved`` and nothing else large is stored on the node. ``saves_inputs``
(positions) and ``saves_output`` name the tensors whose *values* backward
reads, so an in-place edit of one of them before backward is caught by a
version check instead of giving a silently wrong gradient. Only what backward
really reads is guarded: ``y = a * b`` reads ``b`` only for ``a``'s gradient
(dy/da = b), so ``Mul`` declares ``saves_inputs = ((0, 1), (1, 0))``, "input 0,
read for input 1's gradient; input 1, read for input 0's", and ``d = a * 3;
d += 1`` leaves ``a * 3``'s backward nothing to refuse (PyTorch accepts it too).

This is the class every op of tinytorch is written with. PyTorch's own way of
writing an op, with Tensors and static ``forward(ctx, ...)``/``backward(ctx, ...)``
(``torch.autograd.Function``), is ``tinytorch.autograd.Function``, defined in
custom_function.py on top of this one.

Two more things an op may do:

- **Several outputs.** ``forward`` may return a tuple of arrays; ``apply`` then
  returns a tuple of Tensors. The first output is the one the gradient flows
  through; the others are data that carry no gradient, such as indices or the
  attention weights kept for attention maps (PyTorch's ``mark_non_differentiable``).
- **Gradients made ahead.** A forward may compute its inputs' gradients itself,
  for an upstream gradient of 1, when its caller says they will be wanted (grad
  mode on and an input that requires grad), so that work shared by the loss and
  its gradient is done once; backward then only scales them by the real upstream
  gradient, and recomputes them if it runs a second time. Only a fused op of a
  fast path does this (``LinearCrossEntropy``, which would otherwise build its
  logits twice); it keeps them like saved arrays, freed when backward hands them on.

``fast_path = True`` marks an op that exists only to make something faster: the
fused form of a composed reference written above it in the same file (``Linear``
of ``linear_composed``...), or an op that only a fast path uses (packing). With
``tinytorch.fast_paths(False)`` none of them runs.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, version_cell
from .grad_mode import _state


class Function:
    __slots__ = ("parents", "saved", "out_shape", "out_dtype", "_versions", "_hooks",
                 "_retain", "__dict__", "__weakref__")

    #: True when backward may return gradients in the broadcast (output) shape.
    broadcasts = False
    #: True when the inputs may have different float dtypes (the engine casts back).
    promotes = False
    #: Positions of the inputs whose values backward reads (for the version check). An entry
    #: (i, j) says that input i is read only to compute input j's gradient: an in-place edit
    #: of input i is then refused only when input j needs a gradient.
    saves_inputs: tuple = ()
    #: True when backward reads the output's values (for the version check); a tuple of input
    #: positions when it reads them only to compute those inputs' gradients.
    saves_output: bool | tuple = False
    #: True when the output is a view of input 0 (they then share one version counter).
    is_view = False
    #: True for an op that only a fast path runs (see the module docstring).
    fast_path = False

    # Read by the engine to tell nodes from leaf Tensors without isinstance.
    is_leaf_node = False

    def __init__(self):
        self.parents = None
        self.saved = ()
        self._hooks = None
        self._retain = None

    # -- the two methods every op writes ------------------------------------------------
    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers for op authors ------------------------------------------------------------
    def save(self, *arrays) -> None:
        """Keep exactly these arrays for backward (the engine drops them once it has run)."""
        self.saved = arrays

    def needs_grad(self, i: int) -> bool:
        """Does input ``i`` want a gradient? (skip computing the ones nobody needs)"""
        return self.parents[i] is not None

    @property
    def name(self) -> str:
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @property
    def next_functions(self):
        """The parent nodes, like PyTorch's ``grad_fn.next_functions`` (for viz)."""
        return self.parents or ()

    # -- building the graph ------------------------------------------------------------------
    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on Tensors (or plain Python numbers) and record it if needed."""
        # This runs for every op call: one pass over the inputs collects both the arrays
        # and the parents (see benchmarks/bench_ops.py before making it more general).
        node = cls()
        arrays = []
        parents = []
        requires = False
        for t in inputs:
            if isinstance(t, Tensor):
                arrays.append(t.array)
                if t._requires_grad:
                    requires = True
                    fn = t.grad_fn
                    parents.append(t if fn is None else fn)
                    continue
            else:
                arrays.append(t)
            parents.append(None)
        try:
            out = node.forward(*arrays, **options)
        except ValueError as e:  # free when nothing is raised: only errors pay for this
            raise _broadcast_error(cls, arrays, e) from None
        extra = None
        if out.__class__ is tuple:  # several outputs: only the first carries a gradient
            out, *extra = out
        if out.__class__ is not np.ndarray and isinstance(out, np.generic):
            out = np.asarray(out)  # NumPy turns 0-d results into scalars; keep arrays
        result = Tensor(out)
        if cls.is_view:
            result._version = version_cell(inputs[0])
        if requires and _state.enabled and out.dtype.kind == "f":  # ints/bools carry no grad
            node.parents = tuple(parents)
            node.out_shape = out.shape
            node.out_dtype = out.dtype
            if cls.saves_inputs or cls.saves_output:
                node._versions = _snapshot(cls, inputs, parents, result)
            else:
                node._versions = None
            result._requires_grad = True
            result.grad_fn = node
        if extra is not None:
            return (result, *(wrap(a) for a in extra))
        return result


def once_differentiable(backward):
    """PyTorch's decorator (``torch.autograd.function.once_differentiable``) for the backward
    of a custom Function that cannot be differentiated again: every backward here is, so it
    changes nothing. Here for PyTorch programs that import it from this module."""
    return backward


def op_classes() -> list:
    """Every subclass of Function defined so far (in the modules imported), at any depth:
    for tools that look at all ops at once (profilers, dtype checks)."""
    seen, todo = [], [Function]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _broadcast_error(cls, arrays, error):
    """NumPy's "operands could not be broadcast" as an error naming the op and the shapes."""
    if "broadcast" not in str(error):
        return error
    shapes = ", ".join(str(tuple(a.shape)) for a in arrays if hasattr(a, "shape"))
    return ValueError(
        f"{cls.__name__.lower()}: shapes {shapes} cannot be broadcast together: compared from "
        f"the last dim, each pair of sizes must be equal or one of them 1. Reshape or "
        f"unsqueeze one operand (e.g. x.unsqueeze(-1)) so the dims line up.")


def is_tensor(x) -> bool:
    """isinstance(x, Tensor): for ops, which take Tensors and plain numbers alike."""
    return isinstance(x, Tensor)


def wrap(array):
    """A Tensor around ``array`` that records no graph (integer results, masks)."""
    if array.__class__ is not np.ndarray and isinstance(array, np.generic):
        array = np.asarray(array)
    return Tensor(array)


def _snapshot(cls, inputs, parents, result):
    """(version cell, version now) for every tensor whose values backward will read.

    An entry (i, j) of ``saves_inputs`` counts only when input j needs a gradient (j is a
    position every call passes). This runs for most op calls: ``version_cell`` is inlined.
    """
    snap = []
    n = len(inputs)
    for i in cls.saves_inputs:
        if i.__class__ is tuple:  # (i, j): read only to compute input j's gradient
            i, j = i
            if parents[j] is None:
                continue
        if i < n:
            t = inputs[i]
            if isinstance(t, Tensor):
                cell = t._version
                if cell is None:
                    cell = t._version = [0]
                snap.append((cell, cell[0]))
    out = cls.saves_output
    if out:
        if out is not True:  # read only to compute these inputs' gradients
            for j in out:
                if parents[j] is not None:
                    break
            else:
                return snap
        cell = version_cell(result)
        snap.append((cell, cell[0]))
    return snap
