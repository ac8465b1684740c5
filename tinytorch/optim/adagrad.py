"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients (PyTorch's rule).

For each parameter p with gradient g, at step t = 1, 2, ...::

    g ← -g                          if maximize
    g ← g + λ·p                     if weight_decay λ
    lr_t = lr / (1 + (t-1)·δ)       lr_decay δ (0: a constant lr)
    G ← G + g²                      sum: every squared gradient so far (starts at
                                    initial_accumulator_value)
    p ← p - lr_t · g / (√G + ε)

Coordinates that have seen large gradients take small steps and rarely updated ones (a
word seen once in an embedding) keep large steps. G only grows, so the steps only shrink:
good for convex problems and sparse features, often too fast a decay for deep networks
(RMSprop and Adam replace the sum by a running average).

As in PyTorch, the state (``step`` = 0 and ``sum`` = initial_accumulator_value) is made for
every parameter when the optimizer is built, so ``state_dict()`` holds it before the first
step; a group added later with ``add_param_group`` gets it at its first step. Both use the
constructor's ``initial_accumulator_value`` (a param group's own value is ignored, as there).
"""

from __future__ import annotations

from ..autograd.function import version_cell
from ..backend import array_module
from ..tensor import Tensor
from .optimizer import (Optimizer, check_hyperparameters, next_step, regularized_grad,
                        scalar_state)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False)``: the update in this module's docstring.

    State per parameter: ``step`` (a scalar tensor) and ``sum`` (G)."""

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False):
        check_hyperparameters(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "maximize": maximize}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p) -> None:
        xp = array_module(p.array)
        state = self.state[p]
        state["step"] = scalar_state()
        state["sum"] = Tensor(xp.full_like(p.array, self.defaults["initial_accumulator_value"]))

    def _update(self, p, group):
        """One step of ``p`` (called by ``Optimizer.step`` for each parameter with a grad)."""
        # Python floats: a NumPy float64 scalar would upcast float32 arrays.
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        xp = array_module(p.array)
        w = p.array
        state = self.state[p]
        if not state:  # a parameter of a group added after construction
            self._init_state(p)
        t = next_step(state)                                    # t ← t + 1
        g = regularized_grad(p, float(group["weight_decay"]), group["maximize"])  # ±g + λ·p

        clr = lr / (1 + (t - 1) * lr_decay)                     # lr_t (a Python float)
        G = state["sum"].array
        G += g * g                                              # G ← G + g²
        std = xp.sqrt(G)
        std += eps
        w -= clr * (g / std)                                    # p ← p - lr_t·g/(√G + ε)
        version_cell(p)[0] += 1
