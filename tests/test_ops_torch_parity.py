"""Every row of the op table (tests/op_table.py) against PyTorch: the same float64 inputs
and the same random upstream gradient in both libraries; the outputs (values, dtypes,
requires_grad) and every input's gradient must agree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from op_table import ROWS, as_tuple, make_inputs

import tinytorch

torch = pytest.importorskip("torch")

RTOL, ATOL = 1e-6, 1e-9


def _dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _numpy(t):
    """A tensor of either library as a NumPy array."""
    return t.detach().numpy() if isinstance(t, torch.Tensor) else tinytorch.backend.as_numpy(t.array)


def _assert_same(ours, theirs, what):
    a, b = _numpy(ours), _numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs PyTorch's {b.shape}"
    assert a.dtype.name == _dtype_name(theirs.dtype), f"{what}: dtype {a.dtype} vs {theirs.dtype}"
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


@pytest.mark.parametrize("row", [pytest.param(r, id=r.name) for r in ROWS
                                 if r.torch and not r.cuda])
@given(data=st.data())
def test_matches_pytorch(row, data):
    case = data.draw(row.case, label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="upstream seed"))
    ours_in, ours_params = make_inputs(tinytorch, case)
    theirs_in, theirs_params = make_inputs(torch, case)

    ours = as_tuple(row.fn(tinytorch, *ours_in, **ours_params))
    theirs = as_tuple(row.fn(torch, *theirs_in, **theirs_params))
    assert len(ours) == len(theirs), f"{len(ours)} outputs, PyTorch gives {len(theirs)}"
    for i, (o, t) in enumerate(zip(ours, theirs)):
        _assert_same(o, t, f"{row.name} output {i}")
        assert o.requires_grad == t.requires_grad, f"{row.name} output {i}: requires_grad"

    # dL/d(output) = v, the same random v for both: backward gives v^T J for each input.
    pairs = [(o, t) for o, t in zip(ours, theirs) if t.requires_grad]
    vs = [rng.standard_normal(tuple(t.shape)) for _, t in pairs]
    total = None
    for (o, _), v in zip(pairs, vs):
        term = (o * tinytorch.tensor(v, dtype=o.dtype)).sum()
        total = term if total is None else total + term
    total.backward()
    torch.autograd.backward([t for _, t in pairs],
                            [torch.tensor(v, dtype=t.dtype) for (_, t), v in zip(pairs, vs)])

    for i, (x, y) in enumerate(zip(ours_in, theirs_in)):
        gx = x.grad if x.grad is not None else tinytorch.zeros_like(x)  # None means 0
        gy = y.grad if y.grad is not None else torch.zeros_like(y)
        _assert_same(gx, gy, f"{row.name}: gradient of input {i}")


@pytest.mark.parametrize("src, dst", [("float32", "float64"), ("float64", "float32")])
def test_cast_gradient_dtype_matches_pytorch(src, dst):
    values, upstream = [1.5, -2.0, 1 / 3], [0.1, 3.0, -1 / 7]
    grads = []
    for mod in (tinytorch, torch):
        x = mod.tensor(values, dtype=getattr(mod, src), requires_grad=True)
        y = x.to(getattr(mod, dst))
        y.backward(mod.tensor(upstream, dtype=getattr(mod, dst)))
        grads.append(x.grad)
    _assert_same(grads[0], grads[1], f"{src} -> {dst} cast gradient")
