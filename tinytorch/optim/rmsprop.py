"""RMSprop: divide each step by a running root mean square of the gradient (PyTorch's rule).

For each parameter p with gradient g, one step is::

    g ← -g                         if maximize
    g ← g + λ·p                    if weight_decay λ
    v ← α·v + (1-α)·g²             square_avg: a running mean of g²   (v, ḡ, b start at 0)
    if centered:
        ḡ ← ḡ + (1-α)·(g - ḡ)      grad_avg: a running mean of g
        s = √(v - ḡ²) + ε          a running standard deviation of g
    else:
        s = √v + ε                 a running root mean square of g
    if momentum μ > 0:
        b ← μ·b + g / s            momentum_buffer
        p ← p - lr·b
    else:
        p ← p - lr·g / s

Each coordinate's step is its gradient over the recent size of its gradients, so steep and
flat directions move at comparable speeds. Unlike Adam there is no bias correction: v
starts at 0, so after the first step v = (1-α)·g² and every coordinate moves by lr/√(1-α)
(10·lr with α = 0.99). ``alpha`` is the averaging rate, not a learning rate.
"""

from __future__ import annotations

from ..autograd.function import version_cell
from ..backend import array_module
from .optimizer import (Optimizer, check_hyperparameters, next_step, regularized_grad,
                        scalar_state, zeros_state)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False)``: the update in this module's docstring.

    State per parameter: ``step`` (a scalar tensor), ``square_avg`` (v), and
    ``momentum_buffer`` (b) with momentum, ``grad_avg`` (ḡ) when centered."""

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 maximize: bool = False):
        check_hyperparameters(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay,
                              alpha=alpha)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, p, group):
        """One step of ``p`` (called by ``Optimizer.step`` for each parameter with a grad)."""
        # Python floats: a NumPy float64 scalar would upcast float32 arrays.
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, momentum = float(group["weight_decay"]), float(group["momentum"])
        centered = group["centered"]
        xp = array_module(p.array)
        w = p.array
        state = self.state[p]
        if not state:  # lazy init on the first step that has a gradient
            state["step"] = scalar_state()
            state["square_avg"] = zeros_state(p)
            if momentum > 0:
                state["momentum_buffer"] = zeros_state(p)
            if centered:
                state["grad_avg"] = zeros_state(p)
        next_step(state)
        g = regularized_grad(p, wd, group["maximize"])          # ±g + λ·p

        v = state["square_avg"].array
        v *= alpha
        v += (1 - alpha) * (g * g)                              # v ← α·v + (1-α)·g²
        if centered:
            g_avg = state["grad_avg"].array
            g_avg += (1 - alpha) * (g - g_avg)                  # ḡ ← ḡ + (1-α)·(g - ḡ)
            s = xp.sqrt(v - g_avg * g_avg)                      # √(v - ḡ²)
        else:
            s = xp.sqrt(v)
        s += eps

        if momentum > 0:
            b = state["momentum_buffer"].array
            b *= momentum
            b += g / s                                          # b ← μ·b + g/s
            w -= lr * b                                         # p ← p - lr·b
        else:
            w -= lr * (g / s)                                   # p ← p - lr·g/s
        version_cell(p)[0] += 1
