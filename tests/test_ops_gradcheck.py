"""Every row of the op table (tests/op_table.py), proven by float64 finite differences,
plus the contract every op keeps: inputs are never modified, an output shares memory
with an input only when the op is a view (and then it shares the version counter too),
and under no_grad nothing is recorded.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_table import ROWS, as_tuple, const_tensors, make_inputs

import tinytorch
from tinytorch.autograd import gradcheck

needs_cuda = pytest.mark.skipif(not tinytorch.cuda.is_available(), reason="needs CUDA + CuPy")


def _rows(rows):
    return [pytest.param(r, id=r.name, marks=[needs_cuda] if r.cuda else []) for r in rows]


def _snapshot(tensors):
    return [t.array.copy() for t in tensors]


def _assert_unchanged(row, tensors, before, when):
    for i, (t, b) in enumerate(zip(tensors, before)):
        assert t.array.shape == b.shape and np.array_equal(t.array, b), (
            f"{row.name}: {when} modified input {i} in place")


# One test per row (drawing the inputs is most of the cost, so it is done once): the
# forward contract on any row, then finite differences on every smooth one.
@pytest.mark.parametrize("row", _rows(ROWS))
@given(data=st.data())
def test_op(row, data):
    case = data.draw(row.case, label="case")
    tensors, params = make_inputs(tinytorch, case)
    watched = list(tensors) + const_tensors(params)
    before = _snapshot(watched)

    _check_forward(row, tensors, params)
    _assert_unchanged(row, watched, before, "forward")
    if not row.gradcheck:
        return

    seed = data.draw(st.integers(0, 2**32 - 1), label="upstream gradient seed")
    assert gradcheck(lambda *ts: row.fn(tinytorch, *ts, **params), tensors, eps=row.eps,
                     seed=seed)
    _assert_unchanged(row, watched, before, "backward")
    # Each leaf's .grad is an array of its own: no input, no other gradient shares it.
    grads = [t.grad.array for t in tensors if t.grad is not None]
    for i, g in enumerate(grads):
        assert g.dtype == np.float64, f"{row.name}: a {g.dtype} gradient for a float64 input"
        for other in [w.array for w in watched] + grads[:i]:
            assert not np.shares_memory(g, other), f"{row.name}: a .grad shares memory"


def _check_forward(row, tensors, params):
    """Outputs alias inputs only in view ops, which share the version counter; under
    no_grad nothing is recorded."""
    outs = as_tuple(row.fn(tinytorch, *tensors, **params))
    for o in outs:
        for i, x in enumerate(tensors):
            if o is x:  # the op returned its input itself (x.to(x.dtype)), as PyTorch does
                continue
            if np.shares_memory(o.array, x.array):
                assert row.view, f"{row.name}: the output aliases input {i}, but it is no view op"
                # so an in-place edit of one is seen by the version checks of the other
                assert o._version is not None and o._version is x._version, (
                    f"{row.name}: the output shares memory with input {i} but not its version "
                    f"counter (the op class must set is_view = True)")
        for c in const_tensors(params):
            assert not np.shares_memory(o.array, c.array), f"{row.name}: output aliases a mask/index"

    with tinytorch.no_grad():
        quiet = as_tuple(row.fn(tinytorch, *tensors, **params))
    for o, loud in zip(quiet, outs):
        assert o.shape == loud.shape and o.dtype == loud.dtype
        if any(o is x for x in tensors):
            continue
        assert o.grad_fn is None and not o.requires_grad, f"{row.name}: recorded under no_grad"


# -- stable at extremes -------------------------------------------------------------------
# conftest.py turns NumPy's overflow/invalid/divide warnings into errors, so a naive
# exp(1000) fails here even before the values are compared.

_EXTREME = [[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]]
_LOG3 = np.log(3.0)
_EXPECTED = {
    "softmax": (lambda x: x.softmax(-1),
                [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3], np.array([1, 1, np.exp(-1)]) / (2 + np.exp(-1))]),
    "log_softmax": (lambda x: x.log_softmax(-1),
                    [[0, -2000, -1000], [-_LOG3] * 3,
                     np.array([0, 0, -1]) - np.log(2 + np.exp(-1))]),
    "sigmoid": (lambda x: x.sigmoid(),
                [[1, 0, 0.5], [0, 0, 0], [1, 1, 1]]),
    "logsumexp": (lambda x: x.logsumexp(-1),
                  [1000, -1000 + _LOG3, 1000 + np.log(2 + np.exp(-1))]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(_EXPECTED))
def test_stays_finite_at_plus_minus_1000(name, dtype):
    fn, expected = _EXPECTED[name]
    x = tinytorch.tensor(_EXTREME, dtype=getattr(tinytorch, dtype), requires_grad=True)
    y = fn(x)
    assert y.dtype == x.dtype
    np.testing.assert_allclose(y.detach().numpy(), np.asarray(expected, dtype=np.float64),
                               rtol=1e-6, atol=1e-6)
    y.backward(tinytorch.ones_like(y))
    assert x.grad.dtype == x.dtype
    assert np.isfinite(x.grad.numpy()).all()


# -- casts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("src, dst", [("float32", "float64"), ("float64", "float32")])
def test_cast_gradient_comes_back_in_the_input_dtype(src, dst):
    x = tinytorch.tensor([1.5, -2.0, 0.25], dtype=getattr(tinytorch, src), requires_grad=True)
    y = x.to(getattr(tinytorch, dst))
    assert y.dtype == getattr(tinytorch, dst) and y.grad_fn is not None
    y.backward(tinytorch.tensor([0.5, 3.0, -1.25], dtype=y.dtype))
    assert x.grad.dtype == x.dtype
    np.testing.assert_array_equal(x.grad.numpy(), np.array([0.5, 3.0, -1.25], dtype=x.dtype))
