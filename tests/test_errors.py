"""Bad input gives an error that names the op, the shapes or dtypes involved, and the fix."""

from __future__ import annotations

import re

import pytest

import tinytorch as torch


def _raises(exc, fn, *fragments):
    """``fn()`` raises ``exc`` and its message contains every fragment; returns the message."""
    with pytest.raises(exc) as e:
        fn()
    msg = str(e.value)
    for f in fragments:
        assert f in msg, f"{f!r} not in {msg!r}"
    return msg


# -- matmul ---------------------------------------------------------------------------------
def test_matmul_inner_dimensions():
    a, b = torch.ones(2, 3), torch.ones(4, 5)
    msg = _raises(RuntimeError, lambda: a @ b, "matmul", "(2, 3)", "(4, 5)", "inner dimensions")
    assert "transpose" in msg  # the likely fix
    _raises(RuntimeError, lambda: torch.ones(4) @ torch.ones(5), "matmul", "(4,)", "(5,)",
            "inner dimensions")
    _raises(RuntimeError, lambda: torch.matmul(torch.ones(3, 4), torch.ones(3)), "(3, 4)", "(3,)",
            "inner dimensions")


def test_matmul_batch_and_scalar():
    _raises(RuntimeError, lambda: torch.ones(2, 3, 4) @ torch.ones(5, 4, 2), "matmul",
            "(2, 3, 4)", "(5, 4, 2)", "batch")
    _raises(RuntimeError, lambda: torch.tensor(1.0) @ torch.ones(3, 4), "matmul", "()", "(3, 4)",
            "use *")


# -- broadcasting ---------------------------------------------------------------------------
@pytest.mark.parametrize("op, fn", [
    ("add", lambda a, b: a + b),
    ("sub", lambda a, b: a - b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a ** b),
    ("add", lambda a, b: b.__radd__(a)),
    ("maximum", torch.maximum),
    ("minimum", torch.minimum),
    ("where", lambda a, b: torch.where(torch.ones(2, 3) > 0, a, b)),
])
def test_broadcasting_mismatch(op, fn):
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.ones(4, 5)
    msg = _raises(ValueError, lambda: fn(a, b), "(2, 3)", "(4, 5)", "broadcast")
    assert msg.startswith(op + ":"), msg
    assert "unsqueeze" in msg  # the fix


def test_broadcasting_mismatch_without_grad():
    with torch.no_grad():
        _raises(ValueError, lambda: torch.ones(3) + torch.ones(2), "add:", "(3,)", "(2,)")


def test_broadcasting_mismatch_in_place():
    _raises(RuntimeError, lambda: torch.zeros(2).add_(torch.ones(3)), "add_", "(2,)", "(3,)")
    a = torch.ones(2, requires_grad=True)
    _raises(ValueError, lambda: (a * 1).add_(torch.ones(3)), "(2,)", "(3,)", "broadcast")


def test_other_value_errors_are_not_rewritten():
    msg = _raises(ValueError, lambda: torch.ones(3).norm(p=-1), "norm", "p must be")
    assert "broadcast" not in msg


# -- dtypes ---------------------------------------------------------------------------------
def test_float_index_to_gather():
    x = torch.ones(3, 4)
    _raises(TypeError, lambda: x.gather(1, torch.zeros(3, 2)), "gather", "float32", "integer",
            ".long()")
    _raises(TypeError, lambda: torch.gather(x, 1, torch.zeros(3, 2)), "gather", ".long()")


def test_float_index_to_index_select_and_getitem():
    x = torch.ones(3, 4)
    _raises(TypeError, lambda: x.index_select(1, torch.tensor([0.0])), "index_select", "float32",
            ".long()")
    _raises(TypeError, lambda: x[torch.tensor([0.5])], "index", "float32", ".long()")


@pytest.mark.parametrize("op, fn", [
    ("softmax", lambda t: t.softmax(0)),
    ("log_softmax", lambda t: t.log_softmax(0)),
    ("softmax", lambda t: torch.softmax(t, dim=0)),
    ("mean", lambda t: t.mean()),
    ("mean", lambda t: torch.mean(t, 0)),
    ("var", lambda t: t.var()),
])
def test_int_tensor_to_float_only_ops(op, fn):
    _raises(TypeError, lambda: fn(torch.tensor([1, 2])), op, "int64", "float()")


def test_softmax_needs_a_dim():
    _raises(TypeError, lambda: torch.softmax(torch.ones(3)), "softmax", "dim")


def test_masks_must_be_bool():
    x = torch.ones(3, 4)
    _raises(TypeError, lambda: x.masked_fill(torch.ones(3, 4), 0.0), "masked_fill", "bool",
            "float32", "x > 0")
    _raises(TypeError, lambda: torch.where(x, x, x), "where", "bool")
    _raises(RuntimeError, lambda: x.masked_fill(torch.ones(5, dtype=torch.bool), 0.0),
            "masked_fill", "(5,)", "(3, 4)")


def test_requires_grad_on_ints():
    _raises(RuntimeError, lambda: torch.tensor([1, 2]).requires_grad_(), "only floating point",
            "int64")


def test_gradcheck_refuses_float32():
    x = torch.ones(2, requires_grad=True)
    _raises(ValueError, lambda: torch.autograd.gradcheck(lambda t: t * 2, (x,)), "float64",
            "double()")


# -- indices out of range -------------------------------------------------------------------
def test_gather_out_of_range():
    x = torch.ones(3, 4)
    _raises(IndexError, lambda: x.gather(1, torch.full((3, 2), 7)), "gather", "out of range",
            "size 4", "max 7")
    _raises(RuntimeError, lambda: x.gather(1, torch.zeros(3, dtype=torch.int64)), "gather",
            "(3, 4)", "same number of dims")


def test_index_select_out_of_range():
    x = torch.ones(3, 4)
    _raises(IndexError, lambda: x.index_select(0, torch.tensor([3])), "index_select",
            "out of range", "size 3", "(3, 4)")
    _raises(IndexError, lambda: x.index_select(1, torch.tensor([-1])), "index_select", "min -1")
    _raises(RuntimeError, lambda: x.index_select(0, torch.zeros(2, 2, dtype=torch.int64)),
            "index_select", "1-D")


def test_getitem_out_of_range():
    x = torch.ones(3, 4)
    _raises(IndexError, lambda: x[10], "index", "10", "size 3", "(3, 4)")
    _raises(IndexError, lambda: x[:, 4], "index", "4", "(3, 4)")
    _raises(IndexError, lambda: x[0, 0, 0], "index", "too many indices", "(3, 4)")
    _raises(IndexError, lambda: x[torch.tensor([5])], "index", "5", "(3, 4)")


# -- shapes ---------------------------------------------------------------------------------
def test_reshape_invalid():
    x = torch.ones(3, 4)
    for fn, shape in [(lambda: x.reshape(5, 5), "(5, 5)"), (lambda: x.view(5, -1), "(5, -1)"),
                      (lambda: x.reshape(-1, -1), "(-1, -1)")]:
        msg = _raises(RuntimeError, fn, "reshape", shape, "(3, 4)", "12 elements")
        assert "-1" in msg


def test_cat_mismatched_shapes():
    x = torch.ones(3, 4)
    _raises(RuntimeError, lambda: torch.cat([x, torch.ones(3, 5)]), "cat", "(3, 5)", "(3, 4)",
            "except dim 0")
    _raises(RuntimeError, lambda: torch.cat([x, torch.ones(3)]), "cat", "(3,)", "(3, 4)")
    _raises(TypeError, lambda: torch.cat([]), "cat", "non-empty")
    _raises(RuntimeError, lambda: torch.stack([x, torch.ones(3, 5)]), "stack", "(3, 5)", "(3, 4)")


def test_expand_and_permute():
    x = torch.ones(3, 4)
    _raises(RuntimeError, lambda: x.expand(3, 5), "expand", "(3, 4)", "(3, 5)", "size-1")
    _raises(RuntimeError, lambda: x.permute(0, 0), "permute", "(0, 0)", "(3, 4)")
    _raises(IndexError, lambda: x.narrow(1, 3, 2), "narrow", "(3, 4)")


@pytest.mark.parametrize("op, fn", [
    ("sum", lambda x: x.sum(5)),
    ("mean", lambda x: x.mean(-3)),
    ("softmax", lambda x: x.softmax(2)),
    ("log_softmax", lambda x: x.log_softmax(-3)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("squeeze", lambda x: x.squeeze(2)),
    ("cat", lambda x: torch.cat([x, x], dim=2)),
    ("gather", lambda x: x.gather(2, torch.zeros(3, 4, dtype=torch.int64))),
    ("index_select", lambda x: x.index_select(2, torch.tensor([0]))),
    ("argmax", lambda x: x.argmax(2)),
    ("flatten", lambda x: x.flatten(3)),
    ("split", lambda x: x.split(1, dim=3)),
    ("size", lambda x: x.size(2)),
])
def test_dim_out_of_range(op, fn):
    msg = _raises(IndexError, lambda: fn(torch.ones(3, 4)), "out of range", "2 dimension(s)")
    assert msg.startswith(op + ":"), msg
    assert re.search(r"\[-2, 1\]", msg)  # the valid range


def test_unsqueeze_dim_out_of_range():
    # unsqueeze's dim counts the new dim too: [-3, 2] for a 2-d tensor
    _raises(IndexError, lambda: torch.ones(3, 4).unsqueeze(3), "unsqueeze", "dim 3", "[-3, 2]")


def test_duplicate_dims():
    _raises(ValueError, lambda: torch.ones(3, 4).sum(dim=(0, 0)), "sum", "twice")


# -- making tensors -------------------------------------------------------------------------
def test_bad_data_for_tensor():
    _raises(TypeError, lambda: torch.tensor([[1.0], [2.0, 3.0]]), "tensor", "equal lengths")
    _raises(TypeError, lambda: torch.tensor("a"), "tensor", "str")
    _raises(TypeError, lambda: torch.tensor([1, None]), "tensor")
    _raises(RuntimeError, lambda: torch.zeros(-1, 2), "negative dimension", "(-1, 2)")


def test_scalar_conversions():
    x = torch.ones(3, 4)
    _raises(RuntimeError, lambda: x.item(), "item", "12 elements", "(3, 4)")
    _raises(RuntimeError, lambda: bool(x), "ambiguous", ".any()")
    _raises(TypeError, lambda: [0, 1][torch.tensor(0.0)], "integer")


def test_unknown_dtype_and_device():
    _raises(TypeError, lambda: torch.ones(2).to(dtype="no-such-dtype"), "unknown dtype")
    _raises(ValueError, lambda: torch.ones(2).to("tpu"), "unknown device", "'cpu' or 'cuda'")
