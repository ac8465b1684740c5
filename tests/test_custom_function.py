"""tinytorch.autograd.Function, PyTorch's custom autograd Function, against PyTorch.

Each Function below is written once as a function of the library (``torch`` or
``tinytorch``: the names match), so the very same code runs on both.
"""

from __future__ import annotations

import gc
import math
import weakref

import numpy as np
import pytest

import tinytorch
from tinytorch.autograd import gradcheck

torch = pytest.importorskip("torch")

LIBS = pytest.mark.parametrize("lib", [tinytorch, torch], ids=["tinytorch", "torch"])


def _np(t):
    return None if t is None else np.array(t.tolist())


def _same(a, b, rtol=1e-12, atol=1e-12):
    assert (a is None) == (b is None)
    if a is not None:
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol)


# -- four Functions, written once for both libraries ----------------------------------------------
def exp_function(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)          # the output: dy/dx = y
            return y

        @staticmethod
        def backward(ctx, grad_output):
            # y = exp(x)  =>  dL/dx = grad_output * y
            (y,) = ctx.saved_tensors
            return grad_output * y
    return Exp


def split_function(lib):
    class SplitScale(lib.autograd.Function):
        """x (n,) -> (2 * x[:k], x[k:] ** 2): two differentiable outputs."""

        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            ctx.save_for_backward(x)
            return 2 * x[:k], x[k:] ** 2

        @staticmethod
        def backward(ctx, g_first, g_second):
            (x,) = ctx.saved_tensors
            # d(2 x_i)/dx_i = 2;  d(x_j^2)/dx_j = 2 x_j
            return lib.cat([2 * g_first, 2 * x[ctx.k:] * g_second]), None
    return SplitScale


def scale_function(lib, seen):
    class ScaleAdd(lib.autograd.Function):
        """y = alpha * x + w, with alpha a Python number (no gradient) and flags."""

        @staticmethod
        def forward(ctx, x, alpha, w):
            seen.append(("needs", ctx.needs_input_grad, lib.is_grad_enabled()))
            ctx.alpha = alpha
            return alpha * x + w

        @staticmethod
        def backward(ctx, g):
            seen.append(("backward grad mode", lib.is_grad_enabled()))
            gx = g * ctx.alpha if ctx.needs_input_grad[0] else None
            gw = g if ctx.needs_input_grad[2] else None
            return gx, None, gw
    return ScaleAdd


def max_function(lib, seen):
    class MaxAndArgmax(lib.autograd.Function):
        """(max over the last dim, its index, a marked copy of x): only the first one is
        differentiable; backward receives zeros for the other two."""

        @staticmethod
        def forward(ctx, x):
            values, index = x.max(dim=-1)
            copy = x.clone()
            ctx.mark_non_differentiable(copy)
            ctx.save_for_backward(index)
            ctx.shape = x.shape
            return values, index, copy

        @staticmethod
        def backward(ctx, g_values, g_index, g_copy):
            seen.append((_np(g_index).tolist(), str(g_index.dtype), _np(g_copy).tolist()))
            (index,) = ctx.saved_tensors
            grad = lib.zeros(ctx.shape, dtype=g_values.dtype)
            return grad.scatter(-1, index.unsqueeze(-1), g_values.unsqueeze(-1))
    return MaxAndArgmax


# -- parity with PyTorch -----------------------------------------------------------------------
def test_exp_saving_its_output():
    results = []
    for lib in (tinytorch, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = exp_function(lib).apply(x)
        assert "grad_fn=<ExpBackward>" in repr(y)
        y.backward(lib.tensor([1.0, 2.0, -3.0], dtype=lib.float64))
        results.append((y, x.grad))
    for a, b in zip(*results):
        _same(a, b)


def test_two_differentiable_outputs_used_by_different_consumers():
    results = []
    for lib in (tinytorch, torch):
        x = lib.tensor([0.5, -1.0, 2.0, 3.0, -0.25], dtype=lib.float64, requires_grad=True)
        first, second = split_function(lib).apply(x, 2)
        assert first.grad_fn is not None and second.grad_fn is not None
        second.retain_grad()
        first.register_hook(lambda g: g * 10)
        # first feeds two consumers, second one: each output's gradient is summed apart
        loss = (first * first).sum() + first.sum() * 3 + (second.tanh() * x[2:]).sum()
        loss.backward(retain_graph=True)
        by_grad = lib.autograd.grad(
            (first * 5).sum() + (second * 7).sum(), [second, first, x])
        results.append((first, second, x.grad, second.grad) + by_grad)
    for a, b in zip(*results):
        _same(a, b)


def test_only_one_output_used():
    results = []
    for lib in (tinytorch, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        first, second = split_function(lib).apply(x, 1)
        (second * 3).sum().backward()       # first's gradient arrives as zeros
        results.append(x.grad)
    _same(*results)


def test_a_non_tensor_argument_and_needs_input_grad():
    results = []
    for lib in (tinytorch, torch):
        seen = []
        fn = scale_function(lib, seen)
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([3.0, 4.0], dtype=lib.float64)          # needs no gradient
        y = fn.apply(x, 0.5, w)
        y.backward(lib.tensor([1.0, -1.0], dtype=lib.float64))
        w.requires_grad_()
        (gw,) = lib.autograd.grad(fn.apply(x.detach(), 2.0, w).sum(), w)
        with lib.no_grad():
            z = fn.apply(x, 2.0, w)
        results.append((seen, _np(x.grad).tolist(), _np(gw).tolist(), z.requires_grad))
    assert results[0] == results[1]
    assert results[0][0][0] == ("needs", (True, False, False), False)


def test_mark_non_differentiable_and_integer_outputs():
    results = []
    for lib in (tinytorch, torch):
        seen = []
        x = lib.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 1.0]], dtype=lib.float64,
                       requires_grad=True)
        values, index, copy = max_function(lib, seen).apply(x)
        flags = [t.requires_grad for t in (values, index, copy)]
        (values * lib.tensor([2.0, -3.0], dtype=lib.float64)).sum().backward()
        results.append((flags, seen, _np(x.grad).tolist(), _np(index).tolist()))
    assert results[0] == results[1]
    assert results[0][0] == [True, False, False]


def test_set_materialize_grads_false_gives_none():
    results = []
    for lib in (tinytorch, torch):
        seen = []

        class Pair(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, 5, x * 3

            @staticmethod
            def backward(ctx, g_a, g_five, g_b):
                seen.append(tuple(g is None for g in (g_a, g_five, g_b)))
                return g_b * 3

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, five, b = Pair.apply(x)
        assert five == 5
        b.sum().backward()
        results.append((seen, _np(x.grad).tolist()))
    assert results[0] == results[1] == ([(True, True, False)], [3.0, 3.0])


@LIBS
def test_backward_may_return_a_tensor_a_tuple_or_none(lib):
    class Returns(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, how):
            ctx.how = how
            return x * y

        @staticmethod
        def backward(ctx, g):
            if ctx.how == "tuple":
                return g * 2, g * 3, None
            return (g, None, None) if ctx.how == "partial" else (None, None, None)

    x, y = (lib.tensor([1.0], requires_grad=True) for _ in range(2))
    Returns.apply(x, y, "tuple").backward()
    assert (x.grad.item(), y.grad.item()) == (2.0, 3.0)
    Returns.apply(x, y, "partial").backward()
    assert (x.grad.item(), y.grad.item()) == (3.0, 3.0)
    Returns.apply(x, y, "none").backward()          # no gradient flows
    assert (x.grad.item(), y.grad.item()) == (3.0, 3.0)

    class One(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 4

        @staticmethod
        def backward(ctx, g):
            return g * 4                            # a bare tensor for the one input

    One.apply(x).backward()
    assert x.grad.item() == 7.0


@LIBS
def test_forward_runs_under_no_grad_and_backward_too(lib):
    seen = []

    class Watch(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            inner = x * 2
            seen.append((lib.is_grad_enabled(), inner.requires_grad))
            return inner

        @staticmethod
        def backward(ctx, g):
            seen.append(lib.is_grad_enabled())
            return g * 2

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    Watch.apply(x).sum().backward()
    assert seen == [(False, False), False]


@LIBS
def test_returning_an_input_gives_a_new_tensor_on_its_memory(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = Identity.apply(x)
    assert y is not x and y.grad_fn is not None
    with lib.no_grad():
        x.add_(1)
    assert y.tolist() == [2.0, 3.0]


@LIBS
def test_keyword_arguments_are_inputs_too(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale=None):
            ctx.save_for_backward(x, scale)
            return x * scale

        @staticmethod
        def backward(ctx, g):
            x, scale = ctx.saved_tensors
            return g * scale, g * x

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    s = lib.tensor([3.0, 4.0], requires_grad=True)
    Scale.apply(x, scale=s).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0] and s.grad.tolist() == [1.0, 2.0]


@LIBS
def test_setup_context_style(lib):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(x, power=3):
            return x ** power

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, power = inputs
            ctx.power = power
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * ctx.power * x ** (ctx.power - 1), None

    x = lib.tensor([1.0, 2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]


# -- gradcheck (float64) --------------------------------------------------------------------------
def test_gradcheck_of_each_function():
    x = tinytorch.tensor([0.5, -1.0, 2.0, 0.25, -0.75], dtype=tinytorch.float64,
                         requires_grad=True)
    w = tinytorch.tensor([1.5, -0.5, 0.5, 2.0, 1.0], dtype=tinytorch.float64,
                         requires_grad=True)
    m = tinytorch.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 1.0]], dtype=tinytorch.float64,
                         requires_grad=True)
    assert gradcheck(exp_function(tinytorch).apply, x)
    assert gradcheck(lambda t: split_function(tinytorch).apply(t, 3), x)
    assert gradcheck(lambda a, b: scale_function(tinytorch, []).apply(a, -1.5, b), (x, w))
    assert gradcheck(lambda t: max_function(tinytorch, []).apply(t)[0], m)
    assert gradcheck(lambda t: legendre_p3(tinytorch).apply(t), x)


# -- the tutorial: "Defining new autograd functions" (LegendrePolynomial3) -----------------
def legendre_p3(lib):
    # Copied from PyTorch's tutorial (polynomial_custom_function.py), torch -> lib.
    class LegendrePolynomial3(lib.autograd.Function):
        """
        We can implement our own custom autograd Functions by subclassing
        torch.autograd.Function and implementing the forward and backward passes
        which operate on Tensors.
        """

        @staticmethod
        def forward(ctx, input):
            """
            In the forward pass we receive a Tensor containing the input and return
            a Tensor containing the output. ctx is a context object that can be used
            to stash information for backward computation. You can cache arbitrary
            objects for use in the backward pass using the ctx.save_for_backward method.
            """
            ctx.save_for_backward(input)
            return 0.5 * (5 * input ** 3 - 3 * input)

        @staticmethod
        def backward(ctx, grad_output):
            """
            In the backward pass we receive a Tensor containing the gradient of the loss
            with respect to the output, and we need to compute the gradient of the loss
            with respect to the input.
            """
            input, = ctx.saved_tensors
            return grad_output * 1.5 * (5 * input ** 2 - 1)
    return LegendrePolynomial3


def _tutorial(torch, LegendrePolynomial3, steps=2000):  # noqa: N803 (the tutorial's names)
    dtype = torch.float
    device = torch.device("cpu")
    x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
    y = torch.sin(x)
    a = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    b = torch.full((), -1.0, device=device, dtype=dtype, requires_grad=True)
    c = torch.full((), 0.0, device=device, dtype=dtype, requires_grad=True)
    d = torch.full((), 0.3, device=device, dtype=dtype, requires_grad=True)
    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply  # noqa: N806
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 100 == 99:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    return losses, [v.item() for v in (a, b, c, d)]


def test_the_legendre_polynomial_tutorial_runs_unchanged():
    ours_losses, ours = _tutorial(tinytorch, legendre_p3(tinytorch))
    their_losses, theirs = _tutorial(torch, legendre_p3(torch))
    np.testing.assert_allclose(ours_losses, their_losses, rtol=1e-4)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert ours_losses[-1] < 9.0   # y = a + b P3(c + d x) fits sin(x) as in the tutorial


# -- saved tensors: version checks and freeing ---------------------------------------------------
def _saving(lib, reads=True):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            if not reads:
                return g
            (x,) = ctx.saved_tensors
            return 2 * x * g
    return Square


@LIBS
def test_a_saved_tensor_modified_in_place_is_refused_when_read(lib):
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1
    y = _saving(lib).apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation|inplace"):
        y.sum().backward()
    h = a * 1
    y = _saving(lib, reads=False).apply(h)
    h.add_(1)
    y.sum().backward()        # never read: no error, as PyTorch (it checks on unpacking)


@LIBS
def test_a_saved_output_modified_in_place_is_refused(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = exp_function(lib).apply(x)
    with lib.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation|inplace"):
        y.sum().backward()


def test_the_message_names_the_function():
    a = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    h = a * 1
    y = _saving(tinytorch).apply(h)
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"^SquareBackward: one of the tensors its backward "
                                           r"needs was modified by an in-place operation"):
        y.sum().backward()


@LIBS
def test_saved_tensors_are_freed_by_backward(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = _saving(lib).apply(x)
    y.sum().backward(retain_graph=True)
    y.sum().backward()                     # retained: twice is fine
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="(?i)backward through the graph a second time"):
        y.sum().backward()


def test_no_reference_cycle_keeps_the_graph_alive():
    """A saved output is kept without its grad_fn: the graph goes as soon as the output
    does, without the garbage collector."""
    gc.disable()
    try:
        x = tinytorch.randn(1000, requires_grad=True)
        y = exp_function(tinytorch).apply(x)
        node = weakref.ref(y.grad_fn)
        saved = weakref.ref(y.grad_fn.saved[0].array)
        del y
        assert node() is None and saved() is None
        y = _saving(tinytorch).apply(x * 2)    # saves its input, x * 2
        saved = weakref.ref(y.grad_fn.saved[0].array)
        y.sum().backward()
        assert saved() is None and y.grad_fn.saved is None   # backward dropped it
    finally:
        gc.enable()


# -- mistakes, each a one-line error ---------------------------------------------------------------
@LIBS
def test_wrong_number_of_gradients(lib):
    class Two(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, g):
            return g

    x = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"returned an incorrect number of gradients "
                                           r"\(expected 2, got 1\)"):
        Two.apply(x, x).backward()


@LIBS
def test_a_gradient_for_a_number(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = lib.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned a gradient different than None at "
                                           "position 2, but the corresponding forward input "
                                           "was not a Variable"):
        Scale.apply(x, 3.0).backward()


@LIBS
def test_a_gradient_that_is_not_a_tensor(lib):
    class Float(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 2.0

    with pytest.raises(RuntimeError, match=r"expected Variable or None \(got float\)"):
        Float.apply(lib.tensor([1.0], requires_grad=True)).backward()


@LIBS
def test_a_gradient_of_the_wrong_shape(lib):
    class Short(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:2]

    with pytest.raises(RuntimeError, match=r"ShortBackward.*\[?\(?2"):
        Short.apply(lib.ones(3, requires_grad=True)).sum().backward()


@LIBS
def test_saving_something_that_is_not_a_tensor(lib):
    class Saves(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(3)
            return x

    with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                        "argument 0 is of type int"):
        Saves.apply(lib.ones(1, requires_grad=True))


def test_the_array_level_style_on_the_pytorch_class_says_which_class_to_use():
    class Old(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save(x)
            return x

    with pytest.raises(AttributeError, match="tinytorch.autograd.function.Function"):
        Old.apply(tinytorch.ones(1, requires_grad=True))


def test_the_ops_keep_their_own_function_class():
    from tinytorch.autograd import function
    from tinytorch.ops.arithmetic import Mul

    assert issubclass(Mul, function.Function)
    assert not issubclass(Mul, tinytorch.autograd.Function)
    assert tinytorch.autograd.Function is not function.Function


def test_viz_draws_the_function_by_its_name():
    x = tinytorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    first, second = split_function(tinytorch).apply(x, 1)
    text = tinytorch.viz.to_mermaid((first.sum() + second.sum()))
    assert '("SplitScale")' in text and '("SplitScaleOutput")' in text


def test_once_differentiable_is_accepted():
    from tinytorch.autograd import once_differentiable

    class Double(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            return g * 2

    x = tinytorch.ones(2, requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
