"""autograd.grad: the gradients of outputs with respect to chosen inputs, returned
instead of accumulated into ``.grad`` (and autograd.backward: ``Tensor.backward`` for
several outputs at once).

    >>> import tinytorch as torch
    >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
    >>> h = x * 3
    >>> y = (h ** 2).sum()
    >>> torch.autograd.grad(y, x, retain_graph=True)      # dy/dx = 2h * 3 = 18x
    (tensor([18., 36.]),)
    >>> torch.autograd.grad(y, h)                         # an intermediate tensor: 2h
    (tensor([ 6., 12.]),)
    >>> x.grad is None                                    # no .grad was touched
    True

It is the engine's walk (engine.py), over the same graph as ``backward()``, with
two differences in what it lets run:

- **Only what leads to an input runs.** A node runs only when one of the inputs
  lies below it. The others, and every leaf, get a consumer count that never
  reaches zero, so the engine never takes them off its list: no ``.grad`` is
  written and no backward runs for a gradient nobody asked for.
- **The inputs' gradients are collected.** Each input's gradient, summed over its
  consumers, is left waiting for a node that never runs, and ``engine.run``
  returns it. An input that must run because another input lies below it (``h``
  in ``grad(y, [h, x])``) has its gradient recorded by a hook that we add for the
  run and remove after it.

Several outputs (``grad([y1, y2], x, [g1, g2])``) start from one root node whose
backward hands each output its upstream gradient (PyTorch's ``GraphRoot``);
``autograd.backward`` runs the engine from that root with nothing held back.
"""

from __future__ import annotations

from ..backend import array_module
from ..tensor import Tensor
from . import engine
from .function import Function

#: A consumer count that never reaches zero: the engine never runs that node.
_NEVER = 1 << 62


class GraphRoot(Function):
    """The node above the outputs: its gradient is the tuple of their upstream gradients,
    and its backward hands each output its own."""

    def __init__(self, outputs):
        super().__init__()
        self.parents = tuple(y if y.grad_fn is None else y.grad_fn for y in outputs)
        self._versions = None

    def backward(self, grads):
        return grads


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False,
         materialize_grads=False):
    """d(outputs)/d(inputs) · grad_outputs, as a tuple with one Tensor per input.

    outputs, inputs: a Tensor or a sequence of them (``inputs`` may also be a dict of
    name -> Tensor; the result is then a dict). grad_outputs: the upstream gradient of
    each output, of its shape (None for a one-element output means 1). An input the
    outputs do not depend on is an error, or None with ``allow_unused=True``, or zeros
    with ``materialize_grads=True``. The graph is freed unless ``retain_graph=True``.
    ``.grad`` of the inputs (and of every other leaf) is left as it was.
    """
    if create_graph:
        raise NotImplementedError(
            "grad: create_graph=True (higher-order gradients) is not supported: tinytorch's "
            "backward formulas work on arrays and record no graph of their own")
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported; call grad "
                                  "once per upstream gradient (with retain_graph=True)")
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "grad: Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False.")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    names = None
    if isinstance(inputs, dict):
        names, inputs = list(inputs), tuple(inputs.values())
    outputs, inputs = _as_tuple(outputs, "outputs"), _as_tuple(inputs, "inputs")
    if not inputs:
        raise RuntimeError("grad: `inputs` argument to `grad()` cannot be empty.")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError(
                "grad: One of the differentiated Tensors does not require grad; create it with "
                "requires_grad=True (or call x.requires_grad_()) before computing with it")
    seen = set()  # gradient arrays someone else holds (see engine._own)
    root = GraphRoot(outputs)
    seeds = _seeds(outputs, grad_outputs, seen)

    # Which nodes run: those with an input below them. The rest wait forever.
    targets = [t if t.grad_fn is None else t.grad_fn for t in inputs]
    distinct = dict.fromkeys(targets)  # (in input order: hooks run in that order)
    counts = engine._count_consumers(root)
    needed = _needed(root, distinct)
    for node in counts:
        if node not in needed:
            counts[node] = _NEVER
    # An input that runs hands its gradient on: a hook records it first (as PyTorch does,
    # before the tensor's own hooks).
    captured = {}
    recorders = {node: _recorder(captured, node) for node in distinct if node in needed}
    for node, record in recorders.items():
        node._hooks = [record] + (node._hooks or [])
    try:
        waiting = engine.run(root, seeds, counts, bool(retain_graph), seen)
    finally:
        for node, record in recorders.items():
            node._hooks.remove(record)
            if not node._hooks:
                node._hooks = None

    # An input that did not run: its hooks (and retain_grad) see its gradient now.
    for node in distinct:
        g = waiting.get(node)
        if g is not None and node not in recorders:
            if node.is_leaf_node:
                captured[node] = engine._run_leaf_hooks(node, g) if node._hooks else g
            else:
                captured[node] = engine._run_tensor_hooks(node, g, seen)
    result = []
    for i, (t, node) in enumerate(zip(inputs, targets)):
        g = captured.get(node)
        if g is not None:
            result.append(Tensor(engine._own(g, seen)))
        elif materialize_grads:
            result.append(Tensor(array_module(t.array).zeros_like(t.array)))
        elif allow_unused:
            result.append(None)
        else:
            raise RuntimeError(
                f"grad: The differentiated Tensor at index {i} appears to not have been used in "
                f"the graph. Set allow_unused=True if this is the desired behavior.")
    return tuple(result) if names is None else dict(zip(names, result))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False,
             grad_variables=None, inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf) · grad_tensors into ``.grad`` of every leaf (of each
    of ``inputs`` only, when given: leaves or not), as ``y.backward()`` does for one."""
    if create_graph:
        raise NotImplementedError(
            "backward: create_graph=True (higher-order gradients) is not supported: "
            "tinytorch's backward formulas work on arrays and record no graph of their own")
    if grad_tensors is None:
        grad_tensors = grad_variables  # (PyTorch's old name for it)
    tensors = _as_tuple(tensors, "tensors", "backward")
    if inputs is not None:
        inputs = _as_tuple(inputs, "inputs", "backward")
        grads = grad(tensors, inputs, grad_tensors, retain_graph, allow_unused=True)
        for t, g in zip(inputs, grads):
            if g is not None:
                t.grad = g if t.grad is None else Tensor(t.grad.array + g.array)
        return
    seen = set()
    root = GraphRoot(tensors)
    seeds = _seeds(tensors, grad_tensors, seen, "backward")
    engine.run(root, seeds, engine._count_consumers(root), bool(retain_graph), seen)


def _as_tuple(tensors, what: str, caller: str = "grad") -> tuple:
    """A Tensor or a sequence of Tensors as a tuple, checked."""
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise RuntimeError(
                f"{caller}: all {what} have to be Tensors, but got {type(t).__name__}")
    return tensors


def _seeds(outputs, grad_outputs, seen, caller: str = "grad") -> tuple:
    """The upstream gradient array of each output (1 for a one-element output without)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    else:
        grad_outputs = tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"{caller}: got {len(outputs)} tensors and {len(grad_outputs)} gradients; pass one "
            f"grad_output per output (None for a one-element output)")
    seeds = []
    for i, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if not y._requires_grad:
            raise RuntimeError(
                f"{caller}: element {i} of tensors does not require grad and does not have a "
                f"grad_fn: it was not computed from a tensor that requires grad (check for "
                f"no_grad() or .detach())")
        xp = array_module(y.array)
        if g is None:
            if y.array.size != 1:
                raise RuntimeError(
                    f"{caller}: grad can be implicitly created only for scalar outputs, but output "
                    f"{i} has shape {tuple(y.shape)}. Reduce it first (y.sum()) or pass "
                    f"grad_outputs with shape {tuple(y.shape)}.")
            g = xp.ones_like(y.array)
        else:
            g = g.array if isinstance(g, Tensor) else xp.asarray(g)
            if g.shape != y.array.shape:
                raise RuntimeError(
                    f"{caller}: Mismatch in shape: grad_output[{i}] has a shape of "
                    f"{tuple(g.shape)} and output[{i}] has a shape of {tuple(y.shape)}.")
            if g.dtype != y.array.dtype:
                g = g.astype(y.array.dtype)
            seen.add(id(engine._root(g)))
        seeds.append(g)
    return tuple(seeds)


def _needed(root, targets) -> set:
    """The nodes that have one of ``targets`` below them, so must run.

    Parents come before their consumers in a depth-first post-order, so one pass over
    it settles each node from its parents (an explicit stack: deep graphs are fine).
    """
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for p in node.parents:
            if p is not None and not p.is_leaf_node and p not in visited:
                stack.append((p, False))
    needed = set()
    for node in order:
        if any(p is not None and (p in targets or p in needed) for p in node.parents):
            needed.add(node)
    return needed


def _recorder(captured: dict, node):
    def record(g):
        captured[node] = g.array
    return record
