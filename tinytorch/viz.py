"""Draw the graph behind a tensor: Graphviz DOT text or Mermaid text.

    >>> import tinytorch as torch
    >>> x = torch.tensor(2.0, requires_grad=True)
    >>> print(torch.viz.to_mermaid(x ** 2, params={"x": x}))
    flowchart TD
        classDef leaf fill:#cde4ff
        classDef output fill:#d5f5c8
        n0["()"]:::output
        n1("Pow")
        n2["x ()"]:::leaf
        n1 --> n0
        n2 --> n1

Two kinds of nodes, as in torchviz's ``make_dot``:

- **tensor** boxes, labelled with the shape (and the name, for tensors named in
  ``params``): the tensor you pass (``output``, green) and the leaves that
  require grad (``leaf``, blue);
- **op** nodes, labelled with the class name of the Function that produced a
  tensor (``Mul``, ``Pow``, ``Sum``...), the ``grad_fn`` the engine will call.

Arrows follow the forward pass (input -> op -> output); ``backward()`` walks them
the other way. Only what the engine recorded is drawn: constants and tensors that
do not require grad are no parents of any node (see ``Function.apply``), so they
do not appear. An op whose graph ``backward()`` already freed is labelled
``(freed)`` and has no inputs; call ``backward(retain_graph=True)`` to draw after it.

Mermaid text renders on GitHub inside a ```mermaid block, no install needed; DOT
text renders with Graphviz (``dot -Tsvg``) or any online DOT viewer. The walk uses
an explicit stack (a 100,000-op chain is fine) and numbers nodes in the order it
meets them, parents in input order, so the same graph always gives the same text.
"""

from __future__ import annotations

from .tensor import Tensor

__all__ = ["to_dot", "to_mermaid"]


def _walk(tensor: Tensor, params: dict | None):
    """The graph behind ``tensor`` as (nodes, edges).

    nodes: ``(kind, label)`` per node, numbered by position; kind is "output",
    "leaf", "tensor" (a leaf that does not require grad) or "op".
    edges: ``(source, target)`` node numbers, in forward direction.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"viz: expected a Tensor, got {type(tensor).__name__}")
    names = {id(t): name for name, t in (params or {}).items()}

    def tensor_label(t: Tensor) -> str:
        shape = str(tuple(t.shape))
        name = names.get(id(t))
        return shape if name is None else f"{name} {shape}"

    ids: dict = {}  # id(node object) -> node number
    keep = []  # the objects numbered so far: their ids stay unique while we run
    nodes: list = []
    edges: list = []

    def number(obj, kind: str, label: str) -> tuple[int, bool]:
        """The node number of ``obj`` and whether it is new."""
        key = id(obj)
        if key in ids:
            return ids[key], False
        ids[key] = len(nodes)
        keep.append(obj)
        nodes.append((kind, label))
        return ids[key], True

    fn = tensor.grad_fn
    if fn is None:
        number(tensor, "leaf" if tensor.requires_grad else "tensor", tensor_label(tensor))
        return nodes, edges
    out, _ = number(tensor, "output", tensor_label(tensor))
    node, _ = number(fn, "op", _op_label(fn))
    edges.append((node, out))

    # Depth-first with an explicit stack. An op numbers its inputs in order when it is
    # expanded (so its edges are listed in input order) and pushes the new ones.
    stack = [(fn, node)]
    while stack:
        fn, node = stack.pop()
        new_parents = []
        for p in fn.parents or ():
            if p is None:  # a constant or a tensor that needs no grad: not recorded
                continue
            if p.is_leaf_node:
                parent, new = number(p, "leaf", tensor_label(p))
            else:
                parent, new = number(p, "op", _op_label(p))
                if new:
                    new_parents.append((p, parent))
            edges.append((parent, node))
        stack.extend(reversed(new_parents))  # the first input is expanded first
    return nodes, edges


def _op_label(fn) -> str:
    return type(fn).__name__ + (" (freed)" if fn.parents is None else "")


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_DOT_STYLE = {
    "output": ', shape=box, style=filled, fillcolor="#d5f5c8"',
    "leaf": ', shape=box, style=filled, fillcolor="#cde4ff"',
    "tensor": ", shape=box",
    "op": ", shape=ellipse",
}


def to_dot(tensor: Tensor, params: dict | None = None) -> str:
    """Graphviz DOT text for the graph that produced ``tensor``.

    ``params``: optional ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``)
    naming tensors in the drawing. Save the text as ``graph.dot`` and run
    ``dot -Tsvg graph.dot -o graph.svg``.
    """
    nodes, edges = _walk(tensor, params)
    lines = ["digraph {", '    node [fontname="Helvetica"];']
    lines += [f"    n{i} [label={_dot_quote(label)}{_DOT_STYLE[kind]}];"
              for i, (kind, label) in enumerate(nodes)]
    lines += [f"    n{a} -> n{b};" for a, b in edges]
    lines.append("}")
    return "\n".join(lines)


def _mermaid_quote(text: str) -> str:
    # Mermaid labels are quoted strings; a quote inside is written as an entity.
    return '"' + text.replace('"', "#quot;") + '"'


def to_mermaid(tensor: Tensor, params: dict | None = None) -> str:
    """Mermaid flowchart text for the graph that produced ``tensor``.

    ``params``: optional ``{name: tensor}`` naming tensors in the drawing. Paste the
    text into a ```mermaid block of a Markdown file and GitHub draws it.
    """
    nodes, edges = _walk(tensor, params)
    lines = ["flowchart TD", "    classDef leaf fill:#cde4ff", "    classDef output fill:#d5f5c8"]
    for i, (kind, label) in enumerate(nodes):
        if kind == "op":
            lines.append(f"    n{i}({_mermaid_quote(label)})")
        else:
            style = f":::{kind}" if kind in ("leaf", "output") else ""
            lines.append(f"    n{i}[{_mermaid_quote(label)}]{style}")
    lines += [f"    n{a} --> n{b}" for a, b in edges]
    return "\n".join(lines)
