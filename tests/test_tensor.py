"""The Tensor API with PyTorch's semantics: attributes, conversions, printing, dtype
rules, factories, random numbers and in-place ops. Compared with PyTorch when installed."""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch as torch


def _eq(t, expected, dtype=None):
    assert isinstance(t, torch.Tensor)
    exp = np.asarray(expected)
    assert t.shape == exp.shape, (t.shape, exp.shape)
    if dtype is not None:
        assert t.dtype == dtype, (t.dtype, dtype)
    np.testing.assert_array_equal(t.array, exp)


def _torch():
    return pytest.importorskip("torch")


def _tdtype(d):
    """Our dtype's name in PyTorch's spelling ('float32' for torch.float32)."""
    return str(d).replace("torch.", "")


# -- what a tensor is -----------------------------------------------------------------------
def test_attributes():
    x = torch.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4)
    assert x.size(0) == 2 and x.size(-1) == 4 and x.size(1) == 3
    assert x.ndim == 3 and x.dim() == 3
    assert x.numel() == 24 and len(x) == 2
    assert x.dtype == torch.float32 and x.device.type == "cpu" and not x.is_cuda
    assert x.is_leaf and not x.requires_grad and x.grad is None and x.grad_fn is None
    with pytest.raises(IndexError, match="size: dim 3 is out of range"):
        x.size(3)


def test_attributes_match_torch():
    t = _torch()
    for shape in [(), (3,), (2, 3), (2, 1, 4)]:
        ours, theirs = torch.zeros(shape), t.zeros(shape)
        assert ours.shape == tuple(theirs.shape)
        assert ours.ndim == theirs.ndim and ours.numel() == theirs.numel()
        for d in range(-len(shape), len(shape)):
            assert ours.size(d) == theirs.size(d)


def test_item_and_tolist():
    assert torch.tensor(3.5).item() == 3.5 and isinstance(torch.tensor(3.5).item(), float)
    assert torch.tensor([7]).item() == 7 and isinstance(torch.tensor([7]).item(), int)
    assert torch.tensor([[True]]).item() is True
    with pytest.raises(RuntimeError, match=r"3 elements \(shape \(3,\)\)"):
        torch.ones(3).item()
    assert torch.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert torch.tensor(2.5).tolist() == 2.5
    assert torch.tensor([0.5, 1.5]).tolist() == [0.5, 1.5]
    assert float(torch.tensor(2.0)) == 2.0 and int(torch.tensor(3)) == 3
    with pytest.raises(TypeError, match="0-d"):
        len(torch.tensor(1.0))


def test_numpy_shares_memory_and_refuses_requires_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as e:
        x.numpy()
    assert "requires grad" in str(e.value) and "detach().numpy()" in str(e.value)
    a = x.detach().numpy()
    assert np.shares_memory(a, x.array)
    a[0] = 10.0
    _eq(x.detach(), [10.0, 2.0])
    y = torch.zeros(3)
    y.numpy()[1] = 5.0
    _eq(y, [0.0, 5.0, 0.0])
    np.testing.assert_array_equal(np.asarray(y), [0.0, 5.0, 0.0])


def test_detach_shares_memory_without_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    d = x.detach()
    assert np.shares_memory(d.array, x.array)
    d.add_(1)  # visible through x, as in PyTorch
    _eq(x.detach(), [2.0, 3.0])
    z = x.data
    assert not z.requires_grad and np.shares_memory(z.array, x.array)


def test_requires_grad_rules():
    x = torch.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    with pytest.raises(RuntimeError) as e:
        torch.tensor([1, 2]).requires_grad_()
    assert "only floating point" in str(e.value) and "int64" in str(e.value)
    assert "float()" in str(e.value)
    with pytest.raises(RuntimeError, match="only floating point"):
        torch.tensor([1, 2], requires_grad=True)
    y = torch.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    assert not y.is_leaf


def test_int_results_carry_no_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    assert not (x > 1).requires_grad
    assert not x.argmax().requires_grad
    assert not x.long().requires_grad  # as PyTorch: ints cannot require grad


def test_conversions():
    x = torch.tensor([1.7, -1.7])
    _eq(x.long(), [1, -1], torch.int64)
    _eq(x.int(), [1, -1], torch.int32)
    assert x.double().dtype == torch.float64 and x.float() is x
    assert x.half().dtype == torch.float16
    assert x.to(torch.float64).dtype == torch.float64
    assert x.to("cpu") is x
    assert x.to(torch.zeros(1, dtype=torch.float64)).dtype == torch.float64
    _eq(x.bool(), [True, True], torch.bool)
    _eq(torch.tensor([1, 0, 2]).float(), [1.0, 0.0, 2.0], torch.float32)
    c = x.clone()
    assert not np.shares_memory(c.array, x.array)
    assert x.type_as(torch.tensor([1])).dtype == torch.int64


def test_cast_is_differentiable():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.dtype == torch.float64 and y.requires_grad
    (y * y).sum().backward()
    _eq(x.grad, [2.0, 4.0], torch.float32)


def test_transposes():
    x = torch.arange(6.0).reshape(2, 3)
    _eq(x.T, [[0, 3], [1, 4], [2, 5]])
    b = torch.arange(12.0).reshape(2, 2, 3)
    _eq(b.mT, np.arange(12.0).reshape(2, 2, 3).swapaxes(-1, -2))
    assert b.T.shape == (3, 2, 2)


def test_transposes_match_torch():
    t = _torch()
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(torch.tensor(a).mT.array, t.tensor(a).mT.numpy())
    a2 = a[0]
    np.testing.assert_array_equal(torch.tensor(a2).T.array, t.tensor(a2).T.numpy())


# -- printing -------------------------------------------------------------------------------
@pytest.mark.parametrize("make, expected", [
    (lambda: torch.tensor(4.0), "tensor(4.)"),
    (lambda: torch.tensor(1.5), "tensor(1.5000)"),
    (lambda: torch.tensor(3), "tensor(3)"),
    (lambda: torch.tensor(True), "tensor(True)"),
    (lambda: torch.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: torch.tensor([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: torch.tensor([0.1, 0.25]), "tensor([0.1000, 0.2500])"),
    (lambda: torch.tensor([1.0, 2.0], dtype=torch.float64), "tensor([1., 2.], dtype=torch.float64)"),
    (lambda: torch.tensor([1, 2], dtype=torch.int32), "tensor([1, 2], dtype=torch.int32)"),
    (lambda: torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
])
def test_repr(make, expected):
    assert repr(make()) == expected


def test_repr_with_grad_fn():
    x = torch.tensor(2.0, requires_grad=True)
    assert repr(x**2) == "tensor(4., grad_fn=<PowBackward>)"
    assert repr((x * 2).exp().sum()) .startswith("tensor(54.5981")
    assert repr(torch.tensor([1.0, 2.0], requires_grad=True) * 2) == (
        "tensor([2., 4.], grad_fn=<MulBackward>)")


def test_repr_matches_torch_for_common_cases():
    t = _torch()
    cases = [4.0, 1.5, -0.5, [1.0, 2.0], [0.1, 0.25], [[1.0, 2.0], [3.0, 4.0]], 3, [1, 2, 3],
             True, [2.7183, 7.3891]]
    for data in cases:
        assert repr(torch.tensor(data)) == repr(t.tensor(data)), data
    assert repr(torch.tensor([1.0], requires_grad=True)) == repr(t.tensor([1.0], requires_grad=True))
    assert repr(torch.tensor([1.0], dtype=torch.float64)) == repr(t.tensor([1.0], dtype=t.float64))


# -- dtype rules ----------------------------------------------------------------------------
def test_python_numbers_become_default_dtypes():
    assert torch.tensor(1.0).dtype == torch.float32
    assert torch.tensor([1.0, 2]).dtype == torch.float32
    assert torch.tensor(1).dtype == torch.int64
    assert torch.tensor([True]).dtype == torch.bool
    assert torch.tensor(np.float64(1.0)).dtype == torch.float64  # NumPy scalars keep theirs
    assert torch.tensor(np.zeros(2)).dtype == torch.float64  # arrays keep their dtype
    assert torch.tensor(np.zeros(2, dtype=np.int32)).dtype == torch.int32


@pytest.mark.parametrize("case, expected", [
    ("i64 / i64", torch.float32),
    ("f32 + i64", torch.float32),
    ("i64 + f32", torch.float32),
    ("f32 + f64", torch.float64),
    ("f32 * 2.5", torch.float32),
    ("2.5 * f32", torch.float32),
    ("f32 ** 2", torch.float32),
    ("f64 * 2.5", torch.float64),
    ("i64 + 2", torch.int64),
    ("i64 * i64", torch.int64),
    ("f16 * 2.5", torch.float16),
    ("f32 / f32", torch.float32),
    ("i64 / 2", torch.float32),
    ("i64 + 2.5", torch.float32),
])
def test_binary_dtype_promotion(case, expected):
    env = {"i64": torch.tensor([4, 2]), "f32": torch.tensor([1.0, 2.0]),
           "f64": torch.tensor([1.0, 2.0], dtype=torch.float64),
           "f16": torch.tensor([1.0, 2.0], dtype=torch.float16)}
    assert eval(case, env).dtype == expected  # noqa: S307


def test_binary_dtype_promotion_matches_torch():
    t = _torch()
    for lhs, rhs in [("int64", "int64"), ("float32", "int64"), ("float32", "float64"),
                     ("int32", "int64"), ("float16", "float32")]:
        for op in ("__add__", "__mul__", "__truediv__"):
            a = torch.ones(2, dtype=getattr(torch, lhs))
            b = torch.ones(2, dtype=getattr(torch, rhs))
            ta = t.ones(2, dtype=getattr(t, lhs))
            tb = t.ones(2, dtype=getattr(t, rhs))
            ours = getattr(a, op)(b).dtype
            theirs = getattr(ta, op)(tb).dtype
            assert np.dtype(ours).name == _tdtype(theirs), (lhs, op, rhs)


def test_no_silent_float64_from_python_floats():
    x = torch.ones(3, requires_grad=True)
    y = ((x * 0.5 + 1.5) / 3.0 - 0.25) ** 2.0
    assert y.dtype == torch.float32
    y.sum().backward()
    assert x.grad.dtype == torch.float32


# -- factories ------------------------------------------------------------------------------
def test_tensor_copies_and_from_numpy_shares():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = torch.tensor(a)
    a[0] = 9
    _eq(t, [1.0, 2.0])
    f = torch.from_numpy(a)
    assert np.shares_memory(f.array, a) and f.dtype == torch.float32
    a[1] = 7
    _eq(f, [9.0, 7.0])
    f.add_(1)
    np.testing.assert_array_equal(a, [10.0, 8.0])
    with pytest.raises(TypeError, match="numpy.ndarray"):
        torch.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match="could not make a tensor from list.*equal lengths"):
        torch.tensor([[1.0], [2.0, 3.0]])


def test_simple_factories():
    _eq(torch.zeros(2, 3), np.zeros((2, 3)), torch.float32)
    _eq(torch.zeros((2, 3)), np.zeros((2, 3)), torch.float32)
    _eq(torch.ones(2, dtype=torch.int64), [1, 1], torch.int64)
    _eq(torch.full((2,), 3), [3, 3], torch.int64)
    _eq(torch.full((2,), 3.5), [3.5, 3.5], torch.float32)
    _eq(torch.full((1,), True), [True], torch.bool)
    assert torch.empty(4, 5).shape == (4, 5) and torch.empty(4).dtype == torch.float32
    _eq(torch.eye(2), [[1, 0], [0, 1]], torch.float32)
    _eq(torch.eye(2, 3), [[1, 0, 0], [0, 1, 0]])
    _eq(torch.arange(4), [0, 1, 2, 3], torch.int64)
    _eq(torch.arange(1, 7, 2), [1, 3, 5], torch.int64)
    _eq(torch.arange(0, 1, 0.25), [0, 0.25, 0.5, 0.75], torch.float32)
    _eq(torch.arange(3.0), [0, 1, 2], torch.float32)
    _eq(torch.linspace(0, 1, 5), [0, 0.25, 0.5, 0.75, 1], torch.float32)
    assert torch.ones(2, requires_grad=True).requires_grad


def test_like_factories():
    i = torch.tensor([[1, 2, 3]])
    f = torch.tensor([1.0, 2.0], dtype=torch.float64)
    _eq(torch.zeros_like(i), [[0, 0, 0]], torch.int64)
    _eq(torch.ones_like(f), [1.0, 1.0], torch.float64)
    _eq(torch.full_like(f, 7), [7.0, 7.0], torch.float64)
    _eq(torch.ones_like(i, dtype=torch.float32), [[1.0, 1.0, 1.0]], torch.float32)
    assert torch.empty_like(f).shape == (2,) and torch.empty_like(f).dtype == torch.float64
    assert torch.rand_like(f).dtype == torch.float64 and torch.randn_like(f).shape == (2,)
    assert torch.zeros_like(f, requires_grad=True).requires_grad


def test_factories_match_torch():
    t = _torch()
    pairs = [
        (torch.arange(5), t.arange(5)), (torch.arange(2, 9, 3), t.arange(2, 9, 3)),
        (torch.arange(0.0, 1.0, 0.1), t.arange(0.0, 1.0, 0.1)),
        (torch.linspace(-1, 1, 7), t.linspace(-1, 1, 7)),
        (torch.eye(3, 2), t.eye(3, 2)), (torch.full((2, 2), 1.5), t.full((2, 2), 1.5)),
        (torch.full((2,), 4), t.full((2,), 4)), (torch.zeros(2, 3), t.zeros(2, 3)),
    ]
    for ours, theirs in pairs:
        assert np.dtype(ours.dtype).name == _tdtype(theirs.dtype)
        np.testing.assert_allclose(ours.array, theirs.numpy(), rtol=1e-6, atol=1e-7)


def test_random_factories():
    r = torch.rand(1000)
    assert r.shape == (1000,) and r.dtype == torch.float32
    assert 0.0 <= float(r.min()) and float(r.max()) < 1.0
    n = torch.randn(2, 3, dtype=torch.float64)
    assert n.shape == (2, 3) and n.dtype == torch.float64
    big = torch.randn(20000)
    assert abs(float(big.mean())) < 0.05 and abs(float(big.std()) - 1.0) < 0.05
    i = torch.randint(3, 7, (500,))
    assert i.dtype == torch.int64 and i.shape == (500,)
    assert set(i.tolist()) == {3, 4, 5, 6}
    j = torch.randint(4, (2, 2))
    assert j.shape == (2, 2) and 0 <= int(j.min()) and int(j.max()) < 4
    p = torch.randperm(10)
    assert p.dtype == torch.int64 and sorted(p.tolist()) == list(range(10))
    assert torch.rand(2, 3, requires_grad=True).requires_grad
    assert torch.randn((4, 5)).shape == (4, 5)


def test_manual_seed_reproduces():
    torch.manual_seed(1234)
    a = (torch.rand(5), torch.randn(5), torch.randint(0, 100, (5,)), torch.randperm(8))
    torch.manual_seed(1234)
    b = (torch.rand(5), torch.randn(5), torch.randint(0, 100, (5,)), torch.randperm(8))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.array, y.array)
    torch.manual_seed(4321)
    assert not np.array_equal(torch.rand(5).array, a[0].array)
    assert torch.initial_seed() == 4321


def test_rng_state_roundtrip():
    state = torch.get_rng_state()
    x = torch.randn(4)
    torch.set_rng_state(state)
    np.testing.assert_array_equal(torch.randn(4).array, x.array)


def test_generator_is_independent():
    g1 = torch.Generator().manual_seed(7)
    g2 = torch.Generator().manual_seed(7)
    a = torch.rand(4, generator=g1)
    torch.rand(10)  # the global stream does not disturb g2
    np.testing.assert_array_equal(torch.rand(4, generator=g2).array, a.array)


# -- in-place ops ---------------------------------------------------------------------------
def _same_memory_and_bumped(t, fn):
    arr, before = t.array, t._version[0] if t._version else 0
    out = fn(t)
    assert out is t and t.array is arr
    assert t._version[0] == before + 1
    return t


def test_in_place_ops_modify_memory_and_bump_the_version():
    t = torch.tensor([1.0, 2.0, 3.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.add_(1)), [2.0, 3.0, 4.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.add_(torch.ones(3), alpha=2)), [4.0, 5.0, 6.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.sub_(1)), [3.0, 4.0, 5.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.mul_(2)), [6.0, 8.0, 10.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.div_(2)), [3.0, 4.0, 5.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.clamp_(max=4.0)), [3.0, 4.0, 4.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.masked_fill_(torch.tensor([True, False, True]), -1.0)),
        [-1.0, 4.0, -1.0])
    _eq(_same_memory_and_bumped(t, lambda s: s.copy_(torch.tensor([7, 8, 9]))), [7.0, 8.0, 9.0])
    assert t.dtype == torch.float32
    _eq(_same_memory_and_bumped(t, lambda s: s.fill_(2.5)), [2.5, 2.5, 2.5])
    _eq(_same_memory_and_bumped(t, lambda s: s.zero_()), [0.0, 0.0, 0.0])


def test_augmented_assignment_is_in_place():
    t = torch.tensor([1.0, 2.0])
    alias, arr = t, t.array
    t += 1
    t *= 3
    t -= 1
    t /= 2
    assert t is alias and t.array is arr
    _eq(t, [2.5, 4.0])
    assert t._version[0] == 4


def test_in_place_under_no_grad_on_a_leaf_that_requires_grad():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    arr = w.array
    with torch.no_grad():
        w += 1
        w.mul_(2)
        w -= torch.tensor([0.5, 0.5])
    assert w.array is arr and w.requires_grad and w.is_leaf and w.grad_fn is None
    _eq(w.detach(), [3.5, 5.5])
    (w * w).sum().backward()
    _eq(w.grad, [7.0, 11.0])


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    for fn in (lambda: w.add_(1), lambda: w.mul_(2), lambda: w.zero_(), lambda: w.fill_(1.0),
               lambda: w.copy_(torch.ones(2))):
        with pytest.raises(RuntimeError) as e:
            fn()
        assert "leaf" in str(e.value) and "no_grad" in str(e.value)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w += 1
    _eq(w.detach(), [1.0, 2.0])  # nothing changed


def test_in_place_in_a_graph_matches_torch():
    t = _torch()
    grads = []
    for lib in (torch, t):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = a * 2
        x += 1
        x.mul_(a)  # saves x's value before the multiply: must not see it overwritten
        x.masked_fill_(lib.tensor([False, False, True]), 0.0)
        x.sum().backward()
        grads.append((a.grad.detach().numpy().copy(), x.detach().numpy().copy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


def test_copy_into_a_plain_tensor_records_the_graph():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.zeros(2)
    b.copy_(a * a)
    assert b.requires_grad
    b.sum().backward()
    _eq(a.grad, [2.0, 4.0])


def test_in_place_on_a_view_in_a_graph_is_refused():
    # PyTorch rebases the base's graph; we refuse instead of giving a wrong gradient
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 1
    v = b[0:2]
    with pytest.raises(RuntimeError, match="view"):
        v.mul_(2)


def test_in_place_shape_errors():
    with pytest.raises(RuntimeError) as e:
        torch.zeros(2).add_(torch.ones(3))
    assert "add_" in str(e.value) and "(2,)" in str(e.value)


def test_setitem():
    t = torch.zeros(2, 3)
    t[0] = 1.0
    t[1, 1:] = torch.tensor([2.0, 3.0])
    _eq(t, [[1, 1, 1], [0, 2, 3]])
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b[1] = 0.0
    b.sum().backward()
    _eq(a.grad, [2.0, 0.0, 2.0])
