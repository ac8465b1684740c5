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
from ..autograd.grad_mode import no_grad
from ..backend import array_module
from .optimizer import Optimizer, regularized_grad, scalar_state, zeros_state

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
    maximize=False)``: the update in this module's docstring.

    State per parameter: ``step`` (a scalar tensor), ``exp_avg`` (m), ``exp_inf`` (u)."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                # Python floats: a NumPy float64 scalar would upcast float32 arrays.
                beta1, beta2 = group["betas"]
                hyper = (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                         float(group["weight_decay"]), group["maximize"])
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, *hyper)
        return loss

    def _update(self, p, lr, beta1, beta2, eps, wd, maximize):
        xp = array_module(p.array)
        w = p.array
        state = self.state[p]
        if not state:  # lazy init on the first step that has a gradient
            state["step"] = scalar_state()
            state["exp_avg"] = zeros_state(p)
            state["exp_inf"] = zeros_state(p)
        step_t = state["step"].array
        step_t += 1
        t = float(step_t)
        g = regularized_grad(p, wd, maximize)                   # ±g + λ·p

        m, u = state["exp_avg"].array, state["exp_inf"].array
        m += (1 - beta1) * (g - m)                              # m ← m + (1-β1)(g - m)
        u *= beta2
        xp.maximum(u, xp.abs(g) + eps, out=u)                   # u ← max(β2·u, |g| + ε)
        clr = lr / (1 - beta1 ** t)                             # bias correction of m
        w -= clr * (m / u)                                      # p ← p - clr·m/u
        version_cell(p)[0] += 1
