"""The backward pass: walk the recorded graph from the output back to the leaves.

Reverse mode in three steps (``backward`` below):

1. **Count consumers.** An explicit-stack depth-first walk from the output finds
   every node that leads to it and counts, for each node, how many of its
   consumers are in the graph. (No recursion: a chain of 100,000 ops is fine.)
2. **Process in topological order.** A node runs only once all its consumers have
   handed it their gradient (its count reaches zero), so each node sees the
   *sum* of the gradients flowing into it, exactly once:
   ``dL/dx = sum over consumers c of dL/dc * dc/dx`` (the chain rule).
3. **Free the graph.** After a node's backward ran, what it saved is dropped,
   unless ``retain_graph=True``.

Each gradient an op returns is checked here, at the op that produced it: wrong
shape or dtype is reported naming the op and both shapes. Gradients of ops that
broadcast come back in the broadcast shape and are summed back to the input's
shape by ``sum_to``, the one place where broadcasting is undone.

The gradients that flow into a node are added up with ``+``. For the node of a custom
Function with several outputs, what flows in is an ``OutputGrads`` (one slot per output),
which ``+`` fills slot by slot (custom_function.py); the loop below does not know.
``autograd.grad`` runs the same loop, telling it which nodes not to run (gradients.py).
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module
from ..tensor import Tensor


def sum_to(grad, shape, op_name: str = "op"):
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Broadcasting copies an input along new leading axes and along axes of size 1;
    each copy sent gradient back, so the input's gradient is the sum over them.
    Example: ``x (2, 3) + b (3,)``: ``b`` was used by both rows, ``db = g.sum(0)``.
    """
    shape = tuple(shape)
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    if lead < 0:
        raise RuntimeError(
            f"{op_name}: backward returned a gradient of shape {gshape} for an input of "
            f"shape {shape} (fewer dimensions); the op's backward is wrong")
    axes = list(range(lead))
    for i, n in enumerate(shape):
        gn = gshape[lead + i]
        if n == 1 and gn != 1:
            axes.append(lead + i)
        elif gn != n:
            raise RuntimeError(
                f"{op_name}: backward returned a gradient of shape {gshape} for an input of "
                f"shape {shape}, which does not broadcast to it; the op's backward is wrong")
    if axes:
        grad = grad.sum(axis=tuple(axes), keepdims=True)
    return grad.reshape(shape)


def _check(node, i, grad, shape, dtype):
    """The gradient for input ``i`` of ``node``, in the input's shape and dtype."""
    if grad.shape != shape:
        if not node.broadcasts:
            raise RuntimeError(
                f"{node.name}: backward returned a gradient of shape {tuple(grad.shape)} for "
                f"input {i} of shape {tuple(shape)}; a gradient has its input's shape")
        grad = sum_to(grad, shape, node.name)
    if grad.dtype != dtype:
        if node.promotes or dtype.kind != "f" or grad.dtype.kind != "f":
            grad = grad.astype(dtype)
        else:
            raise RuntimeError(
                f"{node.name}: backward returned a {grad.dtype} gradient for input {i} of "
                f"dtype {dtype}; a gradient has its input's dtype")
    return grad


def _root(arr):
    """The array that owns ``arr``'s memory (``arr`` itself unless it is a view)."""
    while getattr(arr, "base", None) is not None:
        arr = arr.base
    return arr


def _own(arr, seen: set):
    """``arr``, or a copy of it, as a gradient array that no other leaf or caller shares.

    Ops pass gradients through without copying (``a + b`` sends the same array to
    both), so the first time an array reaches a leaf we copy it unless it is a fresh
    array nobody else has seen (``seen`` holds the ids of the ones handed out, and of
    the caller's ``gradient``). Later accumulation into it is then in place.
    """
    if not hasattr(arr, "base"):  # a Python number from a 0-d op
        arr = np.asarray(arr)
    elif arr.base is not None or id(arr) in seen:
        arr = arr.copy()
    seen.add(id(arr))
    return arr


def backward(tensor, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d(tensor)/d(leaf) * gradient into ``leaf.grad`` for every leaf.

    ``gradient`` is dL/d(tensor); it may be omitted only for a one-element tensor
    (then it is 1). Called by ``Tensor.backward``.
    """
    if not tensor._requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad and has no grad_fn, so there is no "
            "graph to go back through. Create the inputs with requires_grad=True (or call "
            "x.requires_grad_()), and check for a no_grad() block or a .detach() on the way.")
    seen = set()  # ids of gradient arrays that someone else holds (see _own)
    if gradient is None:
        if tensor.array.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar outputs, but this "
                f"tensor has shape {tuple(tensor.shape)}. Reduce it first (loss.sum() or "
                f"loss.mean()) or pass the upstream gradient: t.backward(gradient=...) with "
                f"shape {tuple(tensor.shape)}.")
        grad = array_module(tensor.array).ones_like(tensor.array)
    else:
        grad = (gradient.array if isinstance(gradient, Tensor)
                else array_module(tensor.array).asarray(gradient))
        if grad.shape != tensor.array.shape:
            raise RuntimeError(
                f"backward: gradient has shape {tuple(grad.shape)} but the tensor has shape "
                f"{tuple(tensor.shape)}; they must be equal")
        if grad.dtype != tensor.array.dtype:
            grad = grad.astype(tensor.array.dtype)
        seen.add(id(_root(grad)))

    root = tensor.grad_fn if tensor.grad_fn is not None else tensor
    run(root, grad, _count_consumers(root), retain_graph, seen)


def run(root, grad, order_counts: dict, retain_graph: bool, seen: set) -> dict:
    """Steps 2 and 3: hand ``grad``, dL/d(root), back through the graph below ``root``.

    ``order_counts`` comes from ``_count_consumers(root)``. A node runs when its count
    reaches zero; ``autograd.grad`` (gradients.py) gives the nodes it must not run (the
    leaves, and the nodes that lead to none of its inputs) a count that never does. Returns
    the gradients of those nodes: summed over their consumers, never used.
    """
    grads = {root: grad}
    # Sums made here belong to the engine alone until their node pops them, so a third
    # consumer's gradient is added to them in place (no new array per extra consumer).
    sums = set()
    ready = [root]
    # The loop runs once per node: the common case (no hooks, no version check, shapes
    # as expected) is kept free of function calls beyond the op's own backward.
    while ready:
        node = ready.pop()
        g = grads.pop(node, None)
        if sums:
            sums.discard(id(g))  # handed on now: an op may pass it to several parents
        if node.is_leaf_node:
            if g is not None:
                if node.grad is None and node._hooks is None and \
                        node._post_accumulate_hooks is None:  # the common case, inlined
                    node.grad = Tensor(_own(g, seen))
                else:
                    _accumulate(node, g, seen)
            continue
        parents = node.parents
        if g is not None:
            if node._hooks is not None or node._retain is not None:
                g = _run_tensor_hooks(node, g, seen)
            if node._versions:
                check_versions(node.name, node._versions)
            out = node.backward(g)
            if out.__class__ is not tuple:  # one input: a bare array
                out = (out,)
        else:
            out = (None,) * len(parents)
        for i, (parent, gi) in enumerate(zip(parents, out)):
            if parent is None:
                continue
            if gi is not None:
                if parent.is_leaf_node:
                    arr = parent.array
                    shape, dtype = arr.shape, arr.dtype
                else:
                    shape, dtype = parent.out_shape, parent.out_dtype
                if gi.shape != shape or gi.dtype != dtype:
                    gi = _check(node, i, gi, shape, dtype)
                prev = grads.get(parent)
                if prev is None:
                    grads[parent] = gi
                elif id(prev) in sums:
                    prev += gi
                else:
                    prev = prev + gi
                    if prev.__class__ is not np.ndarray and isinstance(prev, np.generic):
                        prev = np.asarray(prev)  # 0-d sums come back as scalars: keep arrays
                    grads[parent] = prev         # (so that a third `+=` adds in place)
                    sums.add(id(prev))
            count = order_counts[parent] - 1
            order_counts[parent] = count
            if count == 0:
                ready.append(parent)
        if not retain_graph:
            # Step 3: free this node. Dropping what it saved releases the arrays; dropping
            # its parents unlinks it from the graph (and marks it as already used, which
            # _count_consumers reports if backward comes through here again).
            node.saved = node.parents = None
    return grads


def _count_consumers(root) -> dict:
    """For every node reachable from ``root``, how many consumers it has in the graph."""
    counts = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_leaf_node:
            continue
        parents = node.parents
        if parents is None:
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time ({node.name} "
                f"was already freed). Saved values are released by backward(); call "
                f"backward(retain_graph=True) the first time if you need to go back twice.")
        for p in parents:
            if p is None:
                continue
            seen = p in counts
            counts[p] = counts.get(p, 0) + 1
            if not seen:
                stack.append(p)
    return counts


def check_versions(name: str, versions) -> None:
    """Refuse to go on if a tensor that ``name``'s backward reads was modified in place:
    ``versions`` holds (version cell, version when saved) pairs."""
    for cell, version in versions:
        if cell[0] != version:
            raise RuntimeError(
                f"{name}: one of the tensors its backward needs was modified by an in-place "
                f"operation after it was used (version {version} when saved, {cell[0]} now). "
                f"Use the out-of-place form (x = x + 1 instead of x.add_(1)) or .clone() the "
                f"tensor before modifying it.")


def _run_tensor_hooks(node, g, seen):
    """Hooks and retain_grad() registered on the non-leaf tensor this node produced."""
    if node._hooks:
        for hook in node._hooks:
            result = hook(Tensor(g))
            if result is not None:
                g = result.array
    if node._retain is not None:
        t = node._retain()
        if t is not None:
            owned = _own(g, seen)
            if t.grad is None:
                t.grad = Tensor(owned)
            else:
                t.grad.array = t.grad.array + owned
    return g


def _run_leaf_hooks(leaf, g):
    """The gradient after the hooks registered on a leaf (each may replace it)."""
    for hook in leaf._hooks:
        result = hook(Tensor(g))
        if result is not None:
            g = result.array
    return g


def _accumulate(leaf, g, seen) -> None:
    """leaf.grad += g, after the leaf's hooks (which see the summed gradient, once); then
    the post-accumulate hooks, which see the leaf with its new ``.grad``."""
    if leaf._hooks:
        g = _run_leaf_hooks(leaf, g)
    if leaf.grad is None:
        leaf.grad = Tensor(_own(g, seen))
    else:
        acc = leaf.grad.array
        if acc.shape != g.shape:
            raise RuntimeError(
                f"backward: {tuple(leaf.shape)} leaf has a .grad of shape {tuple(acc.shape)}; "
                f"set .grad = None (or zero_grad()) before backward")
        acc += g
    if leaf._post_accumulate_hooks:
        for hook in tuple(leaf._post_accumulate_hooks):  # (a hook may remove itself)
            hook(leaf)
