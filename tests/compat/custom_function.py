"""PyTorch's tutorial "Defining new autograd functions": LegendrePolynomial3 as a
torch.autograd.Function with ctx.save_for_backward, fitting y = sin(x) with SGD by hand,
plus torch.autograd.grad for a gradient without .grad. Plain PyTorch."""
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def build():
    dtype = torch.float
    torch.manual_seed(0)
    return {name: torch.full((), value, dtype=dtype, requires_grad=True)
            for name, value in (("a", 0.0), ("b", -1.0), ("c", 0.0), ("d", 0.3))}


def train(weights, steps):
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    a, b, c, d = weights["a"], weights["b"], weights["c"], weights["d"]
    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
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
    y_pred = a + b * LegendrePolynomial3.apply(c + d * x)
    (gd,) = torch.autograd.grad((y_pred - y).pow(2).sum(), [d])
    return {"losses": losses, "grad_d": gd.item(),
            "weights": [w.item() for w in (a, b, c, d)]}
