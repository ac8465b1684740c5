"""The engine's behaviour: chain rule, accumulation, graph freeing, version checks,
memory, gradient ownership, grad mode and hooks. Values are asserted exactly."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch as torch


def _eq(t, expected):
    """t's values and dtype equal ``expected`` exactly."""
    assert isinstance(t, torch.Tensor)
    exp = np.asarray(expected, dtype=t.dtype)
    assert t.shape == exp.shape, (t.shape, exp.shape)
    np.testing.assert_array_equal(t.array, exp)


# -- the chain rule ------------------------------------------------------------------------
def test_square_gives_two_x():
    x = torch.tensor(2.0, requires_grad=True)
    y = x**2
    y.backward()
    _eq(x.grad, 4.0)
    assert x.grad.dtype == torch.float32


def test_same_tensor_used_twice_sums_gradients():
    a = torch.tensor(1.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    _eq(a.grad, 4.0)


def test_diamond_graph():
    # a -> (b = 2a, c = 3a) -> d = b * c = 6a^2  =>  dd/da = 12a
    a = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    b = a * 2
    c = a * 3
    d = b * c
    d.backward(torch.ones(3))
    _eq(a.grad, [12.0, -24.0, 6.0])


def test_nested_diamonds_count_each_path_once():
    # y = x; repeat 10 times: y = y + y  =>  y = 1024 x
    x = torch.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(10):
        y = y + y
    y.backward()
    _eq(y.detach(), 1536.0)
    _eq(x.grad, 1024.0)


def test_diamond_with_unequal_branch_lengths():
    # d = exp(a) * (a + 1 + 1 + 1): dd/da = exp(a) * (a + 3) + exp(a)
    a = torch.tensor(0.0, requires_grad=True)
    e = a.exp()
    s = a + 1
    s = s + 1
    s = s + 1
    (e * s).backward()
    _eq(a.grad, 4.0)


def test_many_consumers_sum_in_place_without_touching_shared_arrays():
    # a has five uses. The engine adds the third, fourth and fifth gradient into the sum
    # it made for the first two, in place; Add hands one array to both its parents, so
    # summing in place into an array someone else holds would corrupt the other parent.
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    c = torch.tensor([0.5, 0.5, 0.5], requires_grad=True)
    a = x + c                          # Add: passes its gradient to x and to c as one array
    c2 = c * 1.0                       # a second use of c, summed into c's gradient later
    y = (a + a) + a * 3 + a * 4 + a    # dy/da = 1 + 1 + 3 + 4 + 1 = 10
    w = torch.tensor([1.0, 10.0, 100.0])
    ((y * w).sum() + (c2 * w).sum()).backward()
    _eq(x.grad, [10.0, 100.0, 1000.0])
    _eq(c.grad, [11.0, 110.0, 1100.0])


def test_two_leaves_and_a_constant():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    k = torch.tensor([5.0, 6.0])  # does not require grad
    ((a * b + k) * a).sum().backward()  # d/da = 2ab + k, d/db = a^2
    _eq(a.grad, [11.0, 22.0])
    _eq(b.grad, [1.0, 4.0])
    assert k.grad is None


@pytest.mark.parametrize("step", ["mul", "add"])
def test_chain_of_100k_ops_has_no_recursion_limit(step):
    x = torch.tensor(3.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0 if step == "mul" else y + 0
    y.backward()
    _eq(x.grad, 1.0)


def test_long_chain_frees_its_graph():
    x = torch.tensor(3.0, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_on_a_leaf():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.backward(torch.tensor([3.0, 4.0]))
    _eq(x.grad, [3.0, 4.0])


def test_unused_branch_gets_no_gradient():
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(5.0, requires_grad=True)
    _ = b * 3  # not part of the loss
    (a * 2).backward()
    _eq(a.grad, 2.0)
    assert b.grad is None


# -- backward(): arguments and errors ------------------------------------------------------
def test_non_scalar_output_needs_a_gradient():
    y = torch.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as e:
        y.backward()
    msg = str(e.value)
    assert "scalar" in msg and "(2, 3)" in msg
    assert "sum()" in msg and "gradient=" in msg  # the two fixes


def test_one_element_non_scalar_output_needs_no_gradient():
    x = torch.tensor([3.0], requires_grad=True)
    (x * x).backward()
    _eq(x.grad, [6.0])


def test_explicit_gradient_is_the_upstream_gradient():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).backward(torch.tensor([1.0, 10.0, 100.0]))
    _eq(x.grad, [2.0, 40.0, 600.0])


def test_explicit_gradient_as_numpy_or_number():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.array([1.0, 2.0]))  # float64 array: cast to the output's dtype
    _eq(x.grad, [3.0, 6.0])
    assert x.grad.dtype == torch.float32
    s = torch.tensor(2.0, requires_grad=True)
    (s * s).backward(0.5)
    _eq(s.grad, 2.0)


def test_gradient_of_the_wrong_shape():
    y = torch.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError) as e:
        y.backward(torch.ones(2))
    assert "(2,)" in str(e.value) and "(3,)" in str(e.value)


def test_second_backward_through_freed_graph():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as e:
        y.backward()
    msg = str(e.value)
    assert "second time" in msg and "retain_graph=True" in msg


def test_retain_graph_accumulates_like_pytorch():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    _eq(x.grad, [2.0, 4.0])
    y.backward(retain_graph=True)
    _eq(x.grad, [4.0, 8.0])  # 2x
    y.backward()  # the last one may free
    _eq(x.grad, [6.0, 12.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_matches_torch():
    torch_ = pytest.importorskip("torch")
    for lib in (torch, torch_):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        if lib is torch:
            ours = x.grad.array.copy()
        else:
            theirs = x.grad.numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_leaf_gradients_accumulate_across_calls():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    _eq(x.grad, [5.0, 7.0])
    x.grad = None
    (x * 3).sum().backward()
    _eq(x.grad, [3.0, 3.0])


def test_accumulation_with_a_preset_grad():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.grad = torch.tensor([10.0, 20.0])
    (x * 2).sum().backward()
    _eq(x.grad, [12.0, 22.0])


def test_backward_without_requires_grad():
    with pytest.raises(RuntimeError) as e:
        (torch.ones(3) * 2).sum().backward()
    assert "does not require grad" in str(e.value) and "requires_grad=True" in str(e.value)


def test_backward_of_a_no_grad_result():
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_detach_cuts_the_graph():
    x = torch.tensor(3.0, requires_grad=True)
    y = x * x
    z = y.detach() * x  # the y branch is a constant: dz/dx = y = 9
    z.backward()
    _eq(x.grad, 9.0)


# -- version counter: in-place edits of saved tensors -----------------------------------
def test_saved_output_modified_in_place():
    x = torch.ones(3, requires_grad=True)
    y = x.exp()
    with torch.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError) as e:
        y.sum().backward()
    msg = str(e.value)
    assert "ExpBackward" in msg and "in-place" in msg
    assert "version 0 when saved, 1 now" in msg and ".clone()" in msg


def test_saved_input_modified_in_place():
    a = torch.ones(3, requires_grad=True)
    b = torch.full((3,), 2.0)
    w = a * b
    with torch.no_grad():
        b.mul_(3)
    with pytest.raises(RuntimeError, match="MulBackward.*modified by an in-place"):
        w.sum().backward()


def test_in_place_edit_of_an_unsaved_input_is_fine():
    a = torch.ones(3, requires_grad=True)
    b = torch.full((3,), 2.0)
    w = a + b  # Add reads no values in backward
    b.add_(1)
    w.sum().backward()
    _eq(a.grad, [1.0, 1.0, 1.0])


def test_in_place_edit_through_a_view_is_caught():
    a = torch.ones(2, 3, requires_grad=True)
    b = torch.full((2, 3), 2.0)
    w = a * b
    v = b.view(6)
    v.add_(1)  # b's memory changed through its view
    with pytest.raises(RuntimeError, match="in-place"):
        w.sum().backward()


def test_views_share_the_version_counter():
    t = torch.zeros(2, 3)
    v = t.view(6)
    assert t._version is v._version
    before = t._version[0]
    v.add_(1)
    assert t._version[0] == before + 1
    _eq(t, np.ones((2, 3)))  # the memory is shared too
    t.mul_(2)
    assert v._version[0] == before + 2
    s = t[0]  # basic indexing is a view
    s.zero_()
    assert t._version[0] == before + 3
    _eq(t, [[0, 0, 0], [2, 2, 2]])


def test_detach_shares_the_version_counter():
    x = torch.ones(3, requires_grad=True)
    y = x.exp()
    y.detach().add_(1)  # the classic bug: editing a detached alias of a saved output
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()


# -- memory -------------------------------------------------------------------------------
def test_saved_arrays_are_released_after_backward():
    x = torch.randn(64, 64, requires_grad=True)
    h = x.exp()
    z = h.tanh()
    loss = (z * z).sum()
    nodes = [h.grad_fn, z.grad_fn, loss.grad_fn]
    saved = [weakref.ref(a) for n in (h.grad_fn, z.grad_fn) for a in n.saved]
    saved += [weakref.ref(h.array), weakref.ref(z.array)]
    node_refs = [weakref.ref(n) for n in nodes[:2]]
    del h, z, nodes
    gc.collect()
    assert all(r() is not None for r in saved)  # the graph keeps them for backward
    loss.backward()
    assert loss.grad_fn.saved is None and loss.grad_fn.parents is None
    gc.collect()
    assert all(r() is None for r in saved)  # freed although `loss` is still alive
    assert all(r() is None for r in node_refs)
    assert x.grad.shape == (64, 64)


def test_node_saved_is_none_after_backward():
    x = torch.randn(5, requires_grad=True)
    y = x.exp()
    z = y * x
    nodes = [y.grad_fn, z.grad_fn]
    assert all(n.saved for n in nodes)
    z.sum().backward()
    assert all(n.saved is None for n in nodes)


def test_retain_graph_keeps_saved_arrays():
    x = torch.randn(5, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    y.sum().backward(retain_graph=True)
    assert node.saved is not None and node.saved[0] is y.array


def test_intermediates_die_with_the_graph_without_backward():
    x = torch.randn(32, 32, requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h.array)
    loss = h.sum()
    del h, loss
    gc.collect()
    assert ref() is None


# -- who owns a gradient ------------------------------------------------------------------
def test_gradients_do_not_share_memory():
    a = torch.zeros(3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    g = torch.tensor([1.0, 2.0, 3.0])
    c = a + b
    c.backward(g)
    assert not np.shares_memory(a.grad.array, b.grad.array)
    assert not np.shares_memory(a.grad.array, g.array)
    assert not np.shares_memory(b.grad.array, g.array)
    a.grad.add_(100)
    _eq(b.grad, [1.0, 2.0, 3.0])
    _eq(g, [1.0, 2.0, 3.0])


def test_gradient_of_a_leaf_root_is_a_copy():
    x = torch.zeros(2, requires_grad=True)
    g = torch.tensor([1.0, 2.0])
    x.backward(g)
    x.grad.mul_(5)
    _eq(g, [1.0, 2.0])


def test_accumulation_does_not_write_into_the_callers_gradient():
    x = torch.zeros(2, requires_grad=True)
    g = torch.tensor([1.0, 2.0])
    (x + 0).backward(g)
    (x + 0).backward(g)
    _eq(x.grad, [2.0, 4.0])
    _eq(g, [1.0, 2.0])


def test_views_and_clones_do_not_share_gradients():
    x = torch.zeros(2, 3, requires_grad=True)
    y = torch.zeros(6, requires_grad=True)
    (x.reshape(6) + y).backward(torch.arange(6.0))
    assert not np.shares_memory(x.grad.array, y.grad.array)
    _eq(x.grad, [[0, 1, 2], [3, 4, 5]])
    _eq(y.grad, [0, 1, 2, 3, 4, 5])


# -- grad mode ----------------------------------------------------------------------------
def test_no_grad_context_manager():
    x = torch.ones(2, requires_grad=True)
    assert torch.is_grad_enabled()
    with torch.no_grad():
        assert not torch.is_grad_enabled()
        y = x * 2
    assert torch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2).requires_grad


def test_no_grad_restores_on_exception():
    with pytest.raises(ZeroDivisionError), torch.no_grad():
        raise ZeroDivisionError
    assert torch.is_grad_enabled()


def test_no_grad_decorator_forms():
    @torch.no_grad()
    def f(x):
        return x * 2, torch.is_grad_enabled()

    @torch.no_grad
    def g(x):
        return x * 2, torch.is_grad_enabled()

    x = torch.ones(2, requires_grad=True)
    for fn in (f, g):
        y, enabled = fn(x)
        assert not enabled and not y.requires_grad
        assert torch.is_grad_enabled()
    assert f.__name__ == "f"


def test_enable_grad_nested_in_no_grad():
    x = torch.ones(2, requires_grad=True)
    with torch.no_grad():
        with torch.enable_grad():
            assert torch.is_grad_enabled()
            y = x * 2
        assert not torch.is_grad_enabled()
        z = x * 2
    assert y.requires_grad and not z.requires_grad

    @torch.enable_grad()
    def f():
        return torch.is_grad_enabled()

    with torch.no_grad():
        assert f()
        assert not torch.is_grad_enabled()


def test_nested_no_grad_restores_each_level():
    with torch.no_grad():
        with torch.no_grad():
            pass
        assert not torch.is_grad_enabled()
    assert torch.is_grad_enabled()


def test_set_grad_enabled_forms():
    x = torch.ones(2, requires_grad=True)
    with torch.set_grad_enabled(False):
        assert not torch.is_grad_enabled()
        with torch.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert torch.is_grad_enabled()

    torch.set_grad_enabled(False)  # a plain call switches at once
    try:
        assert not torch.is_grad_enabled()
    finally:
        torch.set_grad_enabled(True)
    assert torch.is_grad_enabled()

    @torch.set_grad_enabled(False)
    def f():
        return torch.is_grad_enabled()

    assert torch.is_grad_enabled()  # decorating does not switch
    assert f() is False
    assert torch.is_grad_enabled()


def test_grad_mode_is_thread_local():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with torch.no_grad():
            seen["worker"] = torch.is_grad_enabled()
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert inside.wait(5)
        assert torch.is_grad_enabled()  # the worker's no_grad is not ours
        x = torch.ones(2, requires_grad=True)
        assert (x * 2).requires_grad
    finally:
        release.set()
        t.join()
    assert seen["worker"] is False

    def worker2():  # a new thread starts enabled even while we are in no_grad
        seen["worker2"] = torch.is_grad_enabled()

    with torch.no_grad():
        t = threading.Thread(target=worker2)
        t.start()
        t.join()
    assert seen["worker2"] is True


# -- hooks --------------------------------------------------------------------------------
def test_hook_on_a_leaf_sees_the_summed_gradient_once():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append(g.array.copy()))
    (x * x + x * 3).sum().backward()  # used three times
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [5.0, 7.0])
    _eq(x.grad, [5.0, 7.0])


def test_hook_on_a_non_leaf_used_twice():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3  # [3, 6]
    calls = []
    y.register_hook(lambda g: calls.append(g.array.copy()))
    (y * y + y).sum().backward()  # dz/dy = 2y + 1
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], [7.0, 13.0])
    _eq(x.grad, [21.0, 39.0])


def test_hook_returning_a_tensor_replaces_the_gradient():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x + x).sum().backward()
    _eq(x.grad, [20.0, 20.0])

    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2
    b.register_hook(lambda g: g * 0.5)
    b.sum().backward()
    _eq(a.grad, [1.0, 1.0])


def test_hooks_run_in_order_and_chain():
    x = torch.tensor(1.0, requires_grad=True)
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: g * 10)
    (x * 3).backward()
    _eq(x.grad, 40.0)


def test_hook_handle_remove():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    h = x.register_hook(lambda g: calls.append(1) or g * 10)
    (x + x).sum().backward()
    h.remove()
    h.remove()  # twice is harmless
    x.grad = None
    (x + x).sum().backward()
    assert calls == [1]
    _eq(x.grad, [2.0, 2.0])


def test_hook_matches_torch():
    torch_ = pytest.importorskip("torch")
    out = {}
    for lib in (torch, torch_):
        seen = []
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x.exp()
        y.register_hook(lambda g, seen=seen: seen.append(g.detach().numpy().copy()) or g * 2)
        (y * x).sum().backward()
        out[lib.__name__] = (seen, x.grad.detach().numpy().copy())
    (s1, g1), (s2, g2) = out.values()
    assert len(s1) == len(s2) == 1
    np.testing.assert_allclose(s1[0], s2[0], rtol=1e-6)
    np.testing.assert_allclose(g1, g2, rtol=1e-6)


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.ones(2).register_hook(lambda g: g)


def test_retain_grad_on_a_non_leaf():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    z = y * y
    z.sum().backward()
    _eq(y.grad, [6.0, 12.0])
    assert z.grad is None  # not retained
    _eq(x.grad, [18.0, 36.0])
    assert not np.shares_memory(y.grad.array, x.grad.array)


def test_retain_grad_accumulates():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    s = y.sum()
    s.backward(retain_graph=True)
    s.backward()
    _eq(y.grad, [2.0, 2.0])


# -- the scatter-add behind every gather's backward -----------------------------------------
@given(rows=st.integers(1, 12), n=st.integers(0, 40), cols=st.integers(1, 5), seed=st.integers(0, 99),
       increasing=st.booleans())
def test_index_add_rows_matches_add_at(rows, n, cols, seed, increasing):
    # Repeated indices must accumulate (first uses in one +=, repeats through np.add.at);
    # an increasing index (no repeats possible) takes a shortcut with no sort.
    from tinytorch.backend import index_add_rows

    rng = np.random.default_rng(seed)
    index = rng.integers(0, rows, n)
    if increasing:
        index = np.unique(index)
        n = index.size
    values = rng.standard_normal((n, cols))
    start = rng.standard_normal((rows, cols))
    expected = start.copy()
    np.add.at(expected, index, values)
    got = start.copy()
    index_add_rows(np, got, index, values)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    view = np.zeros((cols, rows)).T  # a non-contiguous target: writes must land in its base
    index_add_rows(np, view, index, values)
    np.testing.assert_allclose(view, expected - start, rtol=1e-12, atol=1e-12)


def test_a_function_with_several_outputs_differentiates_the_first():
    """forward may return a tuple: the first output carries the gradient, the others
    (indices, attention weights) come back as plain tensors without a graph."""
    from tinytorch.autograd.function import Function

    class ScaleAndArgmax(Function):
        def forward(self, x):
            return x * 3.0, x.argmax(axis=-1)

        def backward(self, g):
            # y = 3 x  =>  dL/dx = 3 g
            return g * 3.0

    x = torch.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 1.0]], requires_grad=True)
    y, index = ScaleAndArgmax.apply(x)
    assert y.grad_fn is not None and index.grad_fn is None and not index.requires_grad
    assert index.tolist() == [1, 0]
    y.backward(torch.ones(2, 3))
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3), 3.0))
    with torch.no_grad():
        y2, _ = ScaleAndArgmax.apply(x)
    assert y2.grad_fn is None


@pytest.mark.parametrize("shape", [(), (1,), (2, 3)])
def test_three_consumers_of_a_0d_tensor_all_count(shape):
    """A node used by three or more ops sums their gradients in place after the second; a
    0-d sum is a NumPy scalar, which cannot be added to in place: none may be lost."""
    x = torch.ones(*shape, requires_grad=True)
    d = x * 1
    (d * 2 + d * 3 + d * 4 + d * 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(shape, 14.0))
