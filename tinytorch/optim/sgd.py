"""SGD: stochastic gradient descent, with momentum, Nesterov and weight decay (PyTorch's rule).

For each parameter p with gradient g, one step is::

    g ← -g                      if maximize        (climb instead of descend)
    g ← g + λ·p                 if weight_decay λ  (L2 penalty λ/2·|p|² added to the loss)
    if momentum μ ≠ 0:
        b ← g                   on the first step   (b: the momentum buffer, a velocity)
        b ← μ·b + (1-τ)·g       afterwards          (τ: dampening)
        g ← g + μ·b             if nesterov        (look ahead along the velocity)
        g ← b                   otherwise
    p ← p - lr·g

With μ = 0 this is plain ``p ← p - lr·g``. Momentum averages recent gradients, so steps
build up speed along directions the gradients agree on and cancel where they oscillate.
"""

from __future__ import annotations

from ..autograd.function import version_cell
from ..autograd.grad_mode import no_grad
from ..backend import array_module
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False)``: the update in this module's docstring."""

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                # Python floats: a NumPy float64 scalar would upcast float32 arrays.
                lr, momentum = float(group["lr"]), float(group["momentum"])
                dampening, wd = float(group["dampening"]), float(group["weight_decay"])
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, lr, momentum, dampening, wd,
                                     group["nesterov"], group["maximize"])
        return loss

    def _update(self, p, lr, momentum, dampening, wd, nesterov, maximize):
        xp = array_module(p.array)
        w, g = p.array, p.grad.array
        # d: the direction to step against. `owned` says whether d is our own scratch array
        # (free to overwrite) or the user's p.grad (read only).
        if wd:
            d = xp.multiply(w, wd)                              # λ·p
            (xp.subtract if maximize else xp.add)(d, g, out=d)  # ±g + λ·p
            owned = True
        elif maximize:
            d, owned = xp.negative(g), True
        else:
            d, owned = g, False

        if momentum:
            state = self.state[p]
            buf = state.get("momentum_buffer")
            if buf is None:  # first step: the buffer starts as the gradient itself
                buf = state["momentum_buffer"] = Tensor(d.copy())
                b = buf.array
            else:
                b = buf.array
                b *= momentum                                   # b ← μ·b
                if dampening:
                    if owned and not nesterov:
                        b += xp.multiply(d, 1 - dampening, out=d)
                    else:
                        b += (1 - dampening) * d
                else:
                    b += d                                      # b ← μ·b + g
            if nesterov:                                        # d ← d + μ·b
                if owned:
                    d += momentum * b
                else:
                    d, owned = xp.multiply(b, momentum), True
                    d += g
            else:
                d, owned = b, False

        if owned:                                               # p ← p - lr·d
            w += xp.multiply(d, -lr, out=d)
        else:
            w += -lr * d
        version_cell(p)[0] += 1
