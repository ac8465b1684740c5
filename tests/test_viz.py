"""tinytorch.viz draws the recorded graph: exact text for small graphs, shared nodes
once, leaves and tensors without grad, and a deep chain without recursion."""

from __future__ import annotations

import doctest
import sys

import pytest

import tinytorch
from tinytorch import viz


def test_square_dot():
    x = tinytorch.tensor(2.0, requires_grad=True)
    assert viz.to_dot(x ** 2, params={"x": x}).splitlines() == [
        "digraph {",
        '    node [fontname="Helvetica"];',
        '    n0 [label="()", shape=box, style=filled, fillcolor="#d5f5c8"];',
        '    n1 [label="Pow", shape=ellipse];',
        '    n2 [label="x ()", shape=box, style=filled, fillcolor="#cde4ff"];',
        "    n1 -> n0;",
        "    n2 -> n1;",
        "}",
    ]


def test_square_mermaid():
    x = tinytorch.tensor(2.0, requires_grad=True)
    assert viz.to_mermaid(x ** 2).splitlines() == [
        "flowchart TD",
        "    classDef leaf fill:#cde4ff",
        "    classDef output fill:#d5f5c8",
        '    n0["()"]:::output',
        '    n1("Pow")',
        '    n2["()"]:::leaf',
        "    n1 --> n0",
        "    n2 --> n1",
    ]


def test_small_graph_shares_a_once():
    # a feeds Mul and Add: one node for it, two edges out of it, inputs in order.
    a = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    b = tinytorch.tensor([3.0, 4.0], requires_grad=True)
    z = (a * b + a).sum()
    assert viz.to_mermaid(z, params={"a": a, "b": b}).splitlines()[3:] == [
        '    n0["()"]:::output',
        '    n1("Sum")',
        '    n2("Add")',
        '    n3("Mul")',
        '    n4["a (2,)"]:::leaf',
        '    n5["b (2,)"]:::leaf',
        "    n1 --> n0",
        "    n2 --> n1",
        "    n3 --> n2",
        "    n4 --> n2",
        "    n4 --> n3",
        "    n5 --> n3",
    ]
    dot = viz.to_dot(z, params={"a": a, "b": b})
    assert dot.count('label="a (2,)"') == 1
    assert "n4 -> n2;" in dot and "n4 -> n3;" in dot


def test_shared_subgraph_drawn_once():
    x = tinytorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x.exp()  # used twice below
    y = (h * h + h).sum()
    text = viz.to_mermaid(y)
    assert text.count('("Exp")') == 1
    assert text.count('["(3,)"]:::leaf') == 1
    exp_id = next(line.split("(")[0].strip() for line in text.splitlines() if '("Exp")' in line)
    # h * h: two edges into Mul; + h: one into Add
    assert sum(line.strip().startswith(f"{exp_id} -->") for line in text.splitlines()) == 3


def test_same_input_twice_gives_two_edges():
    a = tinytorch.tensor(1.0, requires_grad=True)
    text = viz.to_dot(a + a)
    assert text.count("n2 -> n1;") == 2


def test_leaf_alone():
    x = tinytorch.ones(2, 3, requires_grad=True)
    assert viz.to_mermaid(x, params={"w": x}).splitlines()[3:] == ['    n0["w (2, 3)"]:::leaf']
    assert viz.to_dot(x).splitlines()[2] == (
        '    n0 [label="(2, 3)", shape=box, style=filled, fillcolor="#cde4ff"];')


def test_tensors_without_grad():
    c = tinytorch.ones(3)  # requires no grad: a plain box, and no node when used as input
    assert viz.to_mermaid(c).splitlines()[3:] == ['    n0["(3,)"]']
    x = tinytorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    text = viz.to_mermaid(x * c + 5.0)
    assert text.splitlines()[3:] == [
        '    n0["(3,)"]:::output',
        '    n1("Add")',
        '    n2("Mul")',
        '    n3["(3,)"]:::leaf',
        "    n1 --> n0",
        "    n2 --> n1",
        "    n3 --> n2",
    ]
    with tinytorch.no_grad():
        y = x * 2
    assert viz.to_mermaid(y).splitlines()[3:] == ['    n0["(3,)"]']


def test_freed_graph_is_labelled():
    x = tinytorch.tensor(2.0, requires_grad=True)
    y = x ** 2
    y.backward()
    assert viz.to_mermaid(y).splitlines()[3:] == [
        '    n0["()"]:::output', '    n1("Pow (freed)")', "    n1 --> n0"]


def test_labels_are_quoted():
    x = tinytorch.tensor(1.0, requires_grad=True)
    assert '"say \\"hi\\" ()"' in viz.to_dot(x, params={'say "hi"': x})
    assert '"say #quot;hi#quot; ()"' in viz.to_mermaid(x, params={'say "hi"': x})


def test_deep_chain_has_no_recursion():
    x = tinytorch.tensor(1.0, requires_grad=True)
    y = x
    n = 10_000
    for _ in range(n):
        y = y * 1.0
    assert n > sys.getrecursionlimit()
    lines = viz.to_dot(y).splitlines()
    assert len(lines) == 2 + (n + 2) + (n + 1) + 1  # header, nodes, edges, "}"
    assert lines[-2] == f"    n{n + 1} -> n{n};"
    assert viz.to_mermaid(y).count('("Mul")') == n


def test_not_a_tensor():
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.to_dot([1.0])


def test_registered_and_docstring_runs():
    assert tinytorch.viz is viz
    result = doctest.testmod(viz, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
