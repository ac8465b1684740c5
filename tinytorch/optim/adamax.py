"""Adamax: Adam with the infinity norm in place of the root mean square (PyTorch's rule).

For each parameter p with gradient g, at step t = 1, 2, ...::

    g ← -g                          if maximize
    g ← g + λ·p                     if weight_decay λ
    m ← m + (1-β1)·(g - m)          exp_avg: a running mean of g       (m, u start at 0)
    u ← max(β2·u, |g| + ε)          exp_inf: a decaying maximum of |g|
    p ← p - (lr / (1-β1^t)) · m / u

Adam divides by √v, a running L2 norm of the recent gradients; Adamax takes the limit of the
Lp norm as p → ∞, which is a running maximum. u needs no bias correction (a maximum is not
pulled towards its zero start the way an average is), only m does, by 1 - β1^t as in Adam.
ε sits inside the maximum, so u > 0 and the division is safe.
"""

from __future__ import annotations

from ..autograd.function import version_cell
from ..backend import array_module
from .optimizer import (Optimizer, check_hyperparameters, next_step, regularized_grad,
                        scalar_state, zeros_state)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
    maximize=False)``: the update in this module's docstring.

    State per parameter: ``step`` (a scalar tensor), ``exp_avg`` (m), ``exp_inf`` (u)."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, p, group):
        """One step of ``p`` (called by ``Optimizer.step`` for each parameter with a grad)."""
        # Python floats: a NumPy float64 scalar would upcast float32 arrays.
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        xp = array_module(p.array)
        w = p.array
        state = self.state[p]
        if not state:  # lazy init on the first step that has a gradient
            state["step"] = scalar_state()
            state["exp_avg"] = zeros_state(p)
            state["exp_inf"] = zeros_state(p)
        t = next_step(state)                                    # t ← t + 1
        g = regularized_grad(p, float(group["weight_decay"]), group["maximize"])  # ±g + λ·p

        m, u = state["exp_avg"].array, state["exp_inf"].array
        m += (1 - beta1) * (g - m)                              # m ← m + (1-β1)(g - m)
        u *= beta2
        xp.maximum(u, xp.abs(g) + eps, out=u)                   # u ← max(β2·u, |g| + ε)
        clr = lr / (1 - beta1 ** t)                             # bias correction of m
        w -= clr * (m / u)                                      # p ← p - clr·m/u
        version_cell(p)[0] += 1
