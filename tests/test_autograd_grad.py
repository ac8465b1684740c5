"""tinytorch.autograd.grad: gradients returned, not accumulated, against PyTorch.

Every op of the op table goes through it (with respect to the leaves and to intermediate
tensors); then the API's edge cases, each compared with what torch 2.13 does.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import ROWS, as_tuple, make_inputs

import tinytorch
from tinytorch.autograd import grad

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.numpy()


def _close(ours, theirs, rtol=1e-9, atol=1e-12):
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert (o is None) == (t is None)
        if o is not None:
            assert tuple(o.shape) == tuple(t.shape) and not o.requires_grad and o.grad_fn is None
            np.testing.assert_allclose(_np(o), _np(t), rtol=rtol, atol=atol)


# -- every op: grad == PyTorch's grad == what backward() accumulates ------------------------------
@pytest.mark.parametrize("row", [pytest.param(r, id=r.name) for r in ROWS if not r.cuda])
@settings(max_examples=4)  # the op tests draw many cases already; this is about grad()
@given(data=st.data())
def test_grad_of_every_op_with_respect_to_leaves_and_intermediates(row, data):
    case = data.draw(row.case, label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    through = data.draw(st.booleans(), label="inputs are intermediate tensors")

    def run(mod, how):
        tinytorch.manual_seed(0)
        leaves, params = make_inputs(mod, case)
        xs = [x * 1.0 for x in leaves] if through else list(leaves)  # d/dh = d/dx for h = x*1
        outs = [o for o in as_tuple(row.fn(mod, *xs, **params)) if o.requires_grad]
        vs = [mod.tensor(v, dtype=o.dtype) for v, o in zip(upstream, outs)]
        if how == "backward":
            mod.autograd.backward(outs, vs) if mod is torch else _backward(outs, vs)
            return [x.grad for x in leaves]
        return list(mod.autograd.grad(outs, xs, vs, allow_unused=True))

    tinytorch.manual_seed(0)
    probe, probe_params = make_inputs(tinytorch, case)
    upstream = [rng.standard_normal(o.shape) for o in as_tuple(row.fn(tinytorch, *probe,
                                                                       **probe_params))
                if o.requires_grad]
    ours = run(tinytorch, "grad")
    accumulated = run(tinytorch, "backward")
    _close(ours, accumulated, rtol=0, atol=0)  # the same engine: the same numbers
    if row.torch:  # (an op may give None where PyTorch's gives zeros, as the parity tests allow)
        theirs = run(torch, "grad")
        ours = [torch.zeros(t.shape, dtype=torch.float64) if o is None and t is not None else o
                for o, t in zip(ours, theirs)]
        _close(ours, theirs, rtol=1e-6, atol=1e-9)


def _backward(outs, vs):
    total = sum(((o * v).sum() for o, v in zip(outs[1:], vs[1:])), (outs[0] * vs[0]).sum())
    total.backward()


# -- the basics --------------------------------------------------------------------------------
def test_grad_leaves_every_grad_alone():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    w = tinytorch.tensor([3.0, 4.0], requires_grad=True)
    w.grad = tinytorch.tensor([7.0, 7.0])
    (gx,) = grad((x * w).sum(), x)
    np.testing.assert_array_equal(gx.numpy(), [3.0, 4.0])
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.numpy(), [7.0, 7.0])


def test_outputs_and_inputs_may_be_tensors_or_sequences():
    results = []
    for mod in (tinytorch, torch):
        x = mod.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = mod.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y1, y2 = (x * w).sum(), x ** 2
        g1 = mod.autograd.grad(y1, [x, w], retain_graph=True)
        g2 = mod.autograd.grad([y1, y2], (x,), [None, mod.ones(3)], retain_graph=True)
        g3 = mod.autograd.grad(y2, x, mod.tensor([1.0, 0.0, -1.0]))
        assert isinstance(g1, tuple) and isinstance(g3, tuple)
        results.append(g1 + g2 + g3)
    _close(*results)


def test_gradient_with_respect_to_an_intermediate_tensor():
    results = []
    for mod in (tinytorch, torch):
        x = mod.tensor([1.0, -2.0, 0.5], dtype=mod.float64, requires_grad=True)
        h = x.tanh()
        y = (h * h).sum() + (h * x).sum()   # h has two consumers: their gradients add up
        results.append(mod.autograd.grad(y, [h, x]))
    _close(*results)


def test_inputs_as_a_dict_give_a_dict():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    out = grad((x * 3).sum(), {"x": x})
    assert list(out) == ["x"]
    np.testing.assert_array_equal(out["x"].numpy(), [3.0, 3.0])


def test_an_output_may_be_an_input_and_an_input_may_repeat():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    gy, gx1, gx2 = grad(y, [y, x, x])
    assert gy.item() == 1.0
    np.testing.assert_array_equal(gx1.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(gx2.numpy(), [2.0, 4.0])
    gx1.array[0] = 99.0          # each result is an array of its own
    assert gx2.numpy()[0] == 2.0


def test_grad_works_under_no_grad():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x ** 2).sum()
    with tinytorch.no_grad():
        (g,) = grad(y, x)
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])


def test_a_deep_chain_needs_no_recursion():
    x = tinytorch.tensor([1.0], dtype=tinytorch.float64, requires_grad=True)
    y, middle = x, None
    for i in range(10_000):
        y = y * 1.0001
        if i == 5_000:
            middle = y
    gx, gm = grad(y.sum(), [x, middle])
    np.testing.assert_allclose(gx.numpy(), [1.0001 ** 10_000])
    np.testing.assert_allclose(gm.numpy(), [1.0001 ** 4_999])


def test_autograd_backward_of_several_outputs():
    results = []
    for mod in (tinytorch, torch):
        x = mod.tensor([1.0, -2.0, 0.5], dtype=mod.float64, requires_grad=True)
        w = mod.tensor([0.5, 3.0, 1.0], dtype=mod.float64, requires_grad=True)
        y1, y2 = (x * w).sum(), x.exp() * w
        mod.autograd.backward([y1, y2], [None, mod.tensor([1.0, 0.0, -1.0], dtype=mod.float64)],
                              retain_graph=True)
        first = (x.grad.clone(), w.grad.clone())
        x.grad = None
        mod.autograd.backward(y2, mod.ones(3, dtype=mod.float64), inputs=[w])
        results.append(first + (x.grad, w.grad))
    _close(*results)


# -- retain_graph, and what does not run --------------------------------------------------------
def test_the_graph_is_freed_unless_retained():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    first = grad(y, x, retain_graph=True)
    second = grad(y, x)
    _close(first, second, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match="a second time"):
        grad(y, x)
    with pytest.raises(RuntimeError, match="a second time"):
        y.backward()


def test_only_what_leads_to_an_input_runs():
    """A branch that leads to no input is not run, as in PyTorch: a saved tensor modified
    there is no error, and nothing is accumulated into the other leaves."""
    for mod in (tinytorch, torch):
        x = mod.tensor([1.0, 2.0], requires_grad=True)
        w = mod.tensor([3.0, 4.0], requires_grad=True)
        c = mod.tensor([5.0, 6.0])
        y = (x * 2).sum() + (c * w).sum()   # (c * w) reads c for w's gradient
        c.add_(1)
        (gx,) = mod.autograd.grad(y, x, retain_graph=True)
        np.testing.assert_array_equal(_np(gx), [2.0, 2.0])
        assert w.grad is None
        with pytest.raises(RuntimeError, match="in-place|inplace"):
            mod.autograd.grad(y, w)   # ... but asking for w runs it


def test_hooks_see_what_pytorch_hooks_see():
    """An input that must run (x lies below h) is captured before its hooks, one that does
    not run after them (PyTorch's order); hooks and retain_grad run as usual."""
    results = []
    for mod in (tinytorch, torch):
        seen = []
        x = mod.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        h.register_hook(lambda g: seen.append(_np(g).tolist()) or g * 10)
        x.register_hook(lambda g: seen.append(_np(g).tolist()) or g * 100)
        h.retain_grad()
        y = (h * 3).sum()
        both = mod.autograd.grad(y, [h, x], retain_graph=True)
        after_both = _np(h.grad).tolist()
        only_h = mod.autograd.grad(y, [h])
        results.append((seen, [_np(g).tolist() for g in both + only_h], after_both,
                        _np(h.grad).tolist(), x.grad))
    assert results[0] == results[1]


# -- allow_unused, materialize_grads and the errors ---------------------------------------------
def _unused_setup(mod):
    x = mod.tensor([1.0, 2.0], requires_grad=True)
    w = mod.tensor([1.0, 2.0, 3.0], dtype=mod.float64, requires_grad=True)
    return x, w, (x * 2).sum()


def test_an_unused_input_is_an_error_unless_allowed():
    for mod in (tinytorch, torch):
        x, w, y = _unused_setup(mod)
        with pytest.raises(RuntimeError, match="The differentiated Tensor at index 1 appears to "
                                               "not have been used in the graph. Set "
                                               "allow_unused=True"):
            mod.autograd.grad(y, [x, w], retain_graph=True)
        gx, gw = mod.autograd.grad(y, [x, w], allow_unused=True, retain_graph=True)
        assert gw is None
        gx, gw = mod.autograd.grad(y, [x, w], materialize_grads=True, retain_graph=True)
        assert gw.shape == (3,) and _np(gw).tolist() == [0.0, 0.0, 0.0]
        assert str(gw.dtype).endswith("float64")
        with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed"):
            mod.autograd.grad(y, [x, w], allow_unused=False, materialize_grads=True)


@pytest.mark.parametrize("call, error, match", [
    (lambda m, x: m.autograd.grad((x * 2).sum(), m.tensor([1.0, 2.0])), RuntimeError,
     "One of the differentiated Tensors does not require grad"),
    (lambda m, x: m.autograd.grad((x * 2).sum(), []), RuntimeError,
     r"`inputs` argument to `grad\(\)` cannot be empty"),
    (lambda m, x: m.autograd.grad(m.tensor([1.0]).sum(), x), RuntimeError,
     "element 0 of tensors does not require grad and does not have a grad_fn"),
    (lambda m, x: m.autograd.grad(x * 2, x), RuntimeError,
     "grad can be implicitly created only for scalar outputs"),
    (lambda m, x: m.autograd.grad(x * 2, x, m.ones(3)), RuntimeError,
     "Mismatch in shape: grad_output\\[0\\] has a shape of"),
    (lambda m, x: m.autograd.grad([x * 2, x * 3], x, [m.ones(2)]), RuntimeError,
     "got 2 tensors and 1 gradients"),
    (lambda m, x: m.autograd.grad((x * 2).sum(), [x, 3]), (RuntimeError, TypeError),
     "all inputs have to be Tensors"),
])
def test_errors_match_pytorch(call, error, match):
    for mod in (tinytorch, torch):
        x = mod.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(error, match=match):
            call(mod, x)


def test_higher_order_gradients_are_refused_in_one_line():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="create_graph=True .* not supported"):
        grad((x ** 3).sum(), x, create_graph=True)


def test_the_module_docstring_example_runs():
    import doctest

    from tinytorch.autograd import gradients

    result = doctest.testmod(gradients, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
