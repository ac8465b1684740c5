"""The op table cannot fall behind the ops: every public differentiable op class in
``tinytorch/ops`` must appear as a node in the graph of at least one row of
tests/op_table.py. The rows are run and their graphs walked, so a row is credited with
the ops it really records, not the ones it claims."""

from __future__ import annotations

import importlib
import pkgutil

from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from op_table import ROWS, as_tuple, graph_nodes, make_inputs

import tinytorch
import tinytorch.ops
from tinytorch.autograd.function import Function

#: Op classes whose outputs are bool or int: no gradient, no row needed.
NOT_DIFFERENTIABLE = {"Compare", "LogicalNot", "OneHot", "Argmax", "Argmin", "AnyAll"}
#: Op classes that only a machine with a GPU can run (their rows are marked cuda=True).
NEEDS_CUDA = {"ToDevice"}


def op_classes() -> dict:
    """{class name: module name} for every public Function subclass defined in tinytorch.ops."""
    found = {}
    for info in pkgutil.iter_modules(tinytorch.ops.__path__):
        module = importlib.import_module(f"tinytorch.ops.{info.name}")
        for name, obj in vars(module).items():
            if (isinstance(obj, type) and issubclass(obj, Function)
                    and obj.__module__ == module.__name__ and not name.startswith("_")):
                assert name not in found, f"two op classes named {name}"
                found[name] = module.__name__
    return found


def test_exemptions_name_real_ops():
    missing = (NOT_DIFFERENTIABLE | NEEDS_CUDA) - set(op_classes())
    assert not missing, f"stale names in the exemption lists: {sorted(missing)}"


# One example per row is enough to see which node classes it records.
@settings(max_examples=1, phases=[Phase.generate], database=None)
@given(data=st.data())
def test_every_differentiable_op_has_a_row(data):
    cuda = tinytorch.cuda.is_available()
    covered = {}
    for row in ROWS:
        if row.cuda and not cuda:
            continue
        case = data.draw(row.case, label=row.name)
        tensors, params = make_inputs(tinytorch, case)
        outs = as_tuple(row.fn(tinytorch, *tensors, **params))
        nodes = graph_nodes(outs)
        # a row that records nothing proves nothing, unless the op returns its input itself
        assert nodes or all(any(o is x for x in tensors) for o in outs), (
            f"row {row.name} records no graph")
        for node in nodes:
            covered.setdefault(type(node).__name__, row.name)

    exempt = NOT_DIFFERENTIABLE | (set() if cuda else NEEDS_CUDA)
    classes = op_classes()
    missing = sorted(set(classes) - exempt - set(covered))
    assert not missing, (
        "differentiable ops with no row in tests/op_table.py: "
        + ", ".join(f"{name} ({classes[name]})" for name in missing))
