"""``tinytorch.autograd.Function``: PyTorch's way to write a new differentiable op with
Tensors, as in its tutorial "Defining new autograd functions"::

    class Exp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):                 # Tensors in, Tensors out; no graph is recorded
            y = x.exp()
            ctx.save_for_backward(y)         # what backward will need
            return y

        @staticmethod
        def backward(ctx, grad_output):      # dL/dy in, dL/dx out: one per input of forward
            # y = exp(x)  =>  dy/dx = exp(x) = y  =>  dL/dx = grad_output * y
            (y,) = ctx.saved_tensors
            return grad_output * y

    y = Exp.apply(x)

How it sits on the engine: ``apply`` runs ``forward`` under ``no_grad`` and records one
node, an instance of an array-level Function (function.py, the class every op of
tinytorch is written with) made for ``Exp`` and named after it, so ``y.grad_fn`` prints
as ``<ExpBackward>``. The engine calls that node's ``backward`` with arrays, as any op's;
it wraps them as Tensors, calls ``Exp.backward(ctx, ...)`` under ``no_grad``, checks what
comes back and hands the arrays on (a gradient in a broadcast shape is summed back, one of
another float dtype is cast, as PyTorch does).

``ctx`` (a ``FunctionCtx``) is what forward leaves for backward: the tensors given to
``save_for_backward`` (freed with the graph by ``backward()``, and checked against
in-place edits when ``saved_tensors`` is read), any attribute you set (``ctx.k = k``),
``needs_input_grad`` (one bool per input) and the settings of
``mark_non_differentiable`` and ``set_materialize_grads``.

**Several outputs.** When forward returns a tuple, each differentiable output gets a
node of its own (an ``OutputNode``) between it and the Function's node. The engine sums
the gradients of each output there, separately, whoever consumes it; each hands its sum
on in an ``OutputGrads`` (one slot per output) that ``+``, the engine's way of adding up
what flows into a node, fills slot by slot. backward then gets one gradient per output:
zeros for an output that received none (None after ``ctx.set_materialize_grads(False)``),
and None for an output that is not a Tensor.

Not supported: higher-order gradients (backward runs under no_grad, as PyTorch's does
without ``create_graph``), ``ctx.mark_dirty`` (a forward that modifies an input in
place), forward-mode AD and vmap.
"""

from __future__ import annotations

import inspect
import weakref

from ..backend import array_module
from ..tensor import Tensor, version_cell
from . import function
from .engine import check_versions
from .grad_mode import _state, no_grad


class FunctionCtx:
    """``ctx``: what forward leaves for backward. Set any attribute on it too."""

    def __init__(self):
        self.needs_input_grad = ()     # one bool per input of forward: requires grad?
        self._to_save = ()
        self._non_differentiable = set()
        self._materialize = True
        self._versions = ()            # (version cell, version) of each saved tensor
        self._node = None              # weakref to the node, once the graph is recorded

    def save_for_backward(self, *tensors) -> None:
        """Keep these tensors (or Nones) for backward, where ``saved_tensors`` returns them."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}; keep other values as attributes (ctx.k = k)")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, refused if one was modified in place
        since forward, or after ``backward()`` freed them."""
        if self._node is None:  # no graph recorded (yet)
            return tuple(self._to_save)
        node = self._node()
        if node is None or node.saved is None:
            raise RuntimeError(
                "saved_tensors: trying to backward through the graph a second time (or to "
                "access saved tensors after they have already been freed). backward() frees "
                "them; call backward(retain_graph=True) the first time to go back twice.")
        check_versions(node.name, self._versions)
        return node.saved

    def mark_non_differentiable(self, *outputs) -> None:
        """These outputs of forward carry no gradient (indices, masks...)."""
        self._non_differentiable.update(id(t) for t in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """False: backward gets None, not zeros, for an output that received no gradient."""
        self._materialize = bool(value)

    def mark_dirty(self, *tensors) -> None:
        raise NotImplementedError(
            "mark_dirty: custom Functions that modify their inputs in place are not supported "
            "by tinytorch; return a new tensor from forward instead")

    def __getattr__(self, name):  # only for names that are missing
        if name in ("save", "saved", "needs_grad"):
            raise AttributeError(
                f"ctx.{name}: this is a PyTorch-style Function (ctx.save_for_backward, "
                f"ctx.saved_tensors, ctx.needs_input_grad); {name} belongs to tinytorch's "
                f"array-level ops, which subclass tinytorch.autograd.function.Function")
        raise AttributeError(f"'FunctionCtx' object has no attribute '{name}'")


class Function:
    """Base class of a differentiable op written with Tensors: subclass it with static
    ``forward(ctx, *args, **kwargs)`` and ``backward(ctx, *grad_outputs)``, and call
    ``MyFunction.apply(*args, **kwargs)`` (see the module docstring)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The graph's node classes for this Function, named after it (viz draws the name).
        cls._node_class = type(cls.__name__, (CustomNode,), {"function": cls})
        cls._output_class = type(cls.__name__ + "Output", (OutputNode,), {"function": cls})

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement the backward function for custom autograd.Function to use it "
            "with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """PyTorch 2's other style: a forward without ctx, then this fills ctx."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on these inputs and, if one of them requires grad (and grad mode is
        on), record the node whose backward calls ``cls.backward``."""
        separate = cls.setup_context is not Function.setup_context  # PyTorch 2's other style
        if separate:
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        inputs = args + tuple(kwargs.values())
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(t, Tensor) and t._requires_grad for t in inputs)
        with no_grad():
            if separate:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if not (_state.enabled and any(ctx.needs_input_grad)):
            return output
        return _record(cls, ctx, inputs, output)


def _record(cls, ctx, inputs, output):
    """Make the node of ``cls`` for this call and hang the outputs on it."""
    several = isinstance(output, tuple)
    outs = list(output) if several else [output]
    saved = list(ctx._to_save)
    differentiable = []
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            continue
        if o.array.dtype.kind == "f" and id(o) not in ctx._non_differentiable:
            differentiable.append(k)
        if o._requires_grad or o.grad_fn is not None or any(o is t for t in inputs):
            outs[k] = _alias(o)  # forward returned a tensor it did not make (an input...)
        # A saved output is kept as an alias without grad_fn: the node must not hold the
        # tensor that points back at it (a reference cycle).
        saved = [_alias(s) if s is o else s for s in saved]
    if not differentiable:
        return tuple(outs) if several else outs[0]

    node = cls._node_class()
    node.parents = tuple(_parent(t) for t in inputs)
    node.ctx = ctx
    node.tensor_inputs = tuple(isinstance(t, Tensor) for t in inputs)
    node.saved = tuple(saved)
    node._versions = None
    ctx._versions = [(version_cell(t), version_cell(t)[0]) for t in saved if t is not None]
    ctx._to_save = ()
    ctx._node = weakref.ref(node)
    if not several:
        node.outputs = None
        _hang(outs[0], node)
        return outs[0]
    node.outputs = [(o.array.shape, o.array.dtype, array_module(o.array))
                    if isinstance(o, Tensor) else None for o in outs]
    node.out_shape = tuple(info and info[0] for info in node.outputs)
    node.out_dtype = tuple(info and info[1] for info in node.outputs)
    for k in differentiable:
        slot = cls._output_class()
        slot.parents = (node,)
        slot.index = k
        _hang(outs[k], slot)
    return tuple(outs)


def _alias(t: Tensor) -> Tensor:
    """A new tensor on ``t``'s memory, with its version counter and no graph."""
    out = Tensor(t.array)
    out._version = version_cell(t)
    return out


def _parent(t):
    """The node that produced input ``t`` (``t`` itself for a leaf), or None when no gradient
    goes to it (as in ``Function.apply`` of function.py)."""
    if isinstance(t, Tensor) and t._requires_grad:
        return t if t.grad_fn is None else t.grad_fn
    return None


def _hang(t: Tensor, node) -> None:
    """Make ``node`` the ``grad_fn`` of output ``t``."""
    node.out_shape, node.out_dtype = t.array.shape, t.array.dtype
    node._versions = None  # saved tensors are checked when ctx.saved_tensors reads them
    t._requires_grad = True
    t.grad_fn = node


class CustomNode(function.Function):
    """The node a PyTorch-style Function records: its backward calls the Function's."""

    broadcasts = True  # gradients in a broadcast shape are summed back, as PyTorch does
    promotes = True    # and cast to the input's dtype
    function = None    # the Function subclass (set on the class made for each one)

    def backward(self, grad):
        ctx = self.ctx
        if self.outputs is None:  # one output
            grads = (Tensor(grad),)
        else:
            grads = tuple(_grad_tensor(g, info, ctx._materialize)
                          for g, info in zip(grad.grads, self.outputs))
        with no_grad():
            result = self.function.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self.parents)
        if len(result) < n or any(r is not None for r in result[n:]):
            raise RuntimeError(
                f"function {self.name} returned an incorrect number of gradients (expected {n}, "
                f"got {len(result)}): backward returns one gradient per input of forward (None "
                f"for an input that needs none)")
        arrays = []
        for i, (r, parent) in enumerate(zip(result, self.parents)):
            if r is not None and not isinstance(r, Tensor):
                raise RuntimeError(
                    f"function {self.name}: expected Variable or None (got {type(r).__name__}) "
                    f"as gradient {i}; backward returns Tensors (or None)")
            if r is not None and not self.tensor_inputs[i]:
                raise RuntimeError(
                    f"function {self.name} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable; return "
                    f"None for inputs that are not Tensors")
            arrays.append(None if r is None or parent is None else r.array)
        return tuple(arrays)

    @property
    def name(self) -> str:
        return self.function.__name__ + "Backward"


class OutputNode(function.Function):
    """Between one output of a Function with several outputs and the Function's node: the
    engine sums this output's gradients here, and backward hands the sum on in its slot."""

    function = None

    def backward(self, g):
        node = self.parents[0]
        grads = [None] * len(node.out_shape)
        grads[self.index] = g
        return OutputGrads(grads, node.out_shape, node.out_dtype)

    @property
    def name(self) -> str:
        return self.function.__name__ + "Backward"


class OutputGrads:
    """The gradient of a node with several outputs: one array (or None) per output.

    ``a + b`` adds slot by slot (None is zero). ``shape`` and ``dtype`` hold one entry per
    output: the engine compares them with the node's ``out_shape`` and ``out_dtype``.
    """

    __slots__ = ("grads", "shape", "dtype")

    def __init__(self, grads: list, shape: tuple, dtype: tuple):
        self.grads, self.shape, self.dtype = grads, shape, dtype

    def __add__(self, other: OutputGrads) -> OutputGrads:
        out = OutputGrads(list(self.grads), self.shape, self.dtype)
        out += other
        return out

    def __iadd__(self, other: OutputGrads) -> OutputGrads:
        for k, g in enumerate(other.grads):
            if g is not None:
                mine = self.grads[k]
                self.grads[k] = g if mine is None else mine + g
        return self


def _grad_tensor(g, info, materialize: bool):
    """The gradient backward receives for one output: g, zeros, or None."""
    if g is not None:
        return Tensor(g)
    if info is None or not materialize:
        return None
    shape, dtype, xp = info
    return Tensor(xp.zeros(shape, dtype))
