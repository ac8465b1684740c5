"""Adam and AdamW: per-parameter step sizes from running averages of the gradient (PyTorch's rule).

For each parameter p with gradient g, at step t = 1, 2, ...::

    g ← -g                          if maximize
    g ← g + λ·p                     Adam's weight_decay λ: an L2 penalty, added to the gradient
    p ← p·(1 - lr·λ)                AdamW's weight_decay: decoupled, shrinks p directly
    m ← β1·m + (1-β1)·g             first moment: a running mean of g   (m, v start at 0)
    v ← β2·v + (1-β2)·g²            second moment: a running mean of g²
    m̂ = m / (1-β1^t)                bias correction: m and v start at 0, so early
    v̂ = v / (1-β2^t)                averages are too small by exactly these factors
    p ← p - lr·m̂ / (√v̂ + ε)

Each coordinate moves by about lr in the direction of its average gradient, scaled down
where the gradient is noisy (large v). With ``amsgrad`` the denominator uses the largest
v seen so far (``max_exp_avg_sq``), so a coordinate's step size never grows back.

Why AdamW: with Adam, the L2 term λ·p also gets divided by √v̂, so weights with large
gradients are barely decayed. AdamW takes the decay out of the gradient, and every
weight shrinks by the same factor 1 - lr·λ per step.

The arithmetic follows PyTorch's ``_single_tensor_adam`` step for step (so results match
it to rounding): m is updated as the lerp ``m ← m + (1-β1)·(g - m)`` (the same value), and
``p ← p - (lr/(1-β1^t)) · m / (√v / √(1-β2^t) + ε)``.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from ..autograd.function import version_cell
from ..autograd.grad_mode import no_grad
from ..backend import array_module
from ..parallel import rows_parallel
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
    *, maximize=False, decoupled_weight_decay=False)``: the update in this module's docstring.

    State per parameter: ``step`` (a float32 scalar tensor, as in PyTorch), ``exp_avg`` (m),
    ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq``."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
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
                    "amsgrad": amsgrad, "maximize": maximize,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                # Python floats: a NumPy float64 scalar would upcast float32 arrays.
                beta1, beta2 = group["betas"]
                hyper = (float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                         float(group["weight_decay"]), group["amsgrad"], group["maximize"],
                         group.get("decoupled_weight_decay", False))
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, *hyper)
        return loss

    def _update(self, p, lr, beta1, beta2, eps, wd, amsgrad, maximize, decoupled):
        xp = array_module(p.array)
        w, g = p.array, p.grad.array
        state = self.state[p]
        if not state:  # lazy init on the first step that has a gradient
            state["step"] = Tensor(np.zeros((), np.float32))
            state["exp_avg"] = Tensor(xp.zeros_like(w))
            state["exp_avg_sq"] = Tensor(xp.zeros_like(w))
            if amsgrad:
                state["max_exp_avg_sq"] = Tensor(xp.zeros_like(w))
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        step_t = state["step"].array
        step_t += 1
        t = float(step_t)

        if wd and decoupled:
            w *= 1 - lr * wd                                    # AdamW: p ← p·(1 - lr·λ)
        if wd and not decoupled:                                # Adam: g ← ±g + λ·p
            d = xp.multiply(w, wd)
            g = (xp.subtract if maximize else xp.add)(d, g, out=d)
        elif maximize:
            g = xp.negative(g)

        bias_correction1 = 1 - beta1 ** t                       # Python floats
        bias_correction2 = 1 - beta2 ** t
        step_size = lr / bias_correction1
        vmax = state["max_exp_avg_sq"].array if amsgrad else None
        args = (beta1, beta2, eps, step_size, bias_correction2 ** 0.5)
        arrays = (w, g, m, v) if vmax is None else (w, g, m, v, vmax)
        if xp is np and w.size > 2 * CHUNK and all(a.flags.c_contiguous for a in arrays):
            # In slices that stay in the CPU cache from the first line of _adam_math to the
            # last: on a 7M-parameter model each line is otherwise a trip to main memory
            # (benchmarks/README.md has the measurement). The values are the same.
            # Large parameters (the embedding) are also split over threads (parallel.py);
            # each element's update is the same arithmetic whichever thread does it.
            flat = [a.reshape(-1) for a in arrays]
            rows_parallel(partial(_adam_slices, args=args), *flat)
        else:
            _adam_math(w, g, m, v, vmax, None, *args)
        version_cell(p)[0] += 1


#: Numbers per slice when Adam updates a large parameter slice by slice (256 KB in float32).
CHUNK = 65536


def _adam_slices(*arrays, args):
    """_adam_math over flat (w, g, m, v[, vmax]) in CHUNK-sized slices with one scratch array."""
    w = arrays[0]
    scratch = np.empty(min(CHUNK, w.size), dtype=w.dtype)
    for start in range(0, w.size, CHUNK):
        part = [a[start:start + CHUNK] for a in arrays]
        _adam_math(*part[:4], part[4] if len(part) > 4 else None, scratch[:part[0].size], *args)


def _adam_math(w, g, m, v, vmax, scratch, beta1, beta2, eps, step_size, bias_correction2_sqrt):
    """The update of the module docstring on arrays (or slices of them), in place."""
    xp = array_module(w)
    scratch = xp.subtract(g, m, out=scratch)                # the one scratch array
    m += xp.multiply(scratch, 1 - beta1, out=scratch)       # m ← m + (1-β1)(g - m)
    v *= beta2
    v += xp.multiply(xp.multiply(g, g, out=scratch), 1 - beta2, out=scratch)  # + (1-β2)g²
    if vmax is not None:
        xp.maximum(vmax, v, out=vmax)                       # amsgrad: v ← max over steps
        v = vmax
    denom = xp.sqrt(v, out=scratch)                         # √v̂ + ε, into scratch
    denom /= bias_correction2_sqrt
    denom += eps
    w += xp.multiply(xp.divide(m, denom, out=scratch), -step_size, out=scratch)


class AdamW(Adam):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False)``: Adam with decoupled weight decay
    ``p ← p·(1 - lr·λ)`` (see this module's docstring)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
