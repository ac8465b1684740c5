"""RAdam: Adam whose adaptive step is switched on only once it can be trusted (PyTorch's rule).

For each parameter p with gradient g, at step t = 1, 2, ...::

    g ← -g                          if maximize
    g ← g + λ·p                     weight_decay λ as an L2 penalty, or, with
    p ← p·(1 - lr·λ)                decoupled_weight_decay, shrinking p directly (AdamW's)
    m ← m + (1-β1)·(g - m)          exp_avg: a running mean of g         (m, v start at 0)
    v ← β2·v + (1-β2)·g²            exp_avg_sq: a running mean of g²
    m̂ = m / (1-β1^t)                bias-corrected, as in Adam
    ρ∞ = 2/(1-β2) - 1               how many gradients v averages, in the long run
    ρ_t = ρ∞ - 2t·β2^t / (1-β2^t)   ... and after t steps (ρ_1 = 1, growing to ρ∞)
    if ρ_t > 5:
        r = √((ρ_t-4)(ρ_t-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρ_t))     the rectification, < 1, → 1
        p ← p - lr · m̂ · √(1-β2^t) / (√v + ε) · r       Adam's step, scaled by r
    else:
        p ← p - lr · m̂                                  SGD with momentum: no √v yet

In the first steps v averages only a few squared gradients, so 1/√v̂ has a huge variance
and Adam's steps are erratic (the reason warm-up schedules exist). RAdam (Liu et al. 2019)
estimates that variance from ρ_t: while it is undefined (ρ_t ≤ 5, the first 5 or so steps
with β2 = 0.999) it takes plain momentum steps, then it multiplies Adam's step by r, the
factor that makes the step's variance what it will be at ρ∞. A warm-up built in.
"""

from __future__ import annotations

from ..autograd.function import version_cell
from ..backend import array_module
from .optimizer import (Optimizer, check_hyperparameters, next_step, regularized_grad,
                        scalar_state, zeros_state)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    decoupled_weight_decay=False, *, maximize=False)``: the update in this module's docstring.

    State per parameter: ``step`` (a scalar tensor), ``exp_avg`` (m), ``exp_avg_sq`` (v)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update(self, p, group):
        """One step of ``p`` (called by ``Optimizer.step`` for each parameter with a grad)."""
        # Python floats: a NumPy float64 scalar would upcast float32 arrays.
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        decoupled = group["decoupled_weight_decay"]
        xp = array_module(p.array)
        w = p.array
        state = self.state[p]
        if not state:  # lazy init on the first step that has a gradient
            state["step"] = scalar_state()
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        t = next_step(state)                                    # t ← t + 1
        if wd and decoupled:
            w *= 1 - lr * wd                                    # p ← p·(1 - lr·λ)
        g = regularized_grad(p, 0.0 if decoupled else wd, group["maximize"])

        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        m += (1 - beta1) * (g - m)                              # m ← m + (1-β1)(g - m)
        v *= beta2
        v += (1 - beta2) * (g * g)                              # v ← β2·v + (1-β2)·g²
        bias_correction1 = 1 - beta1 ** t                       # Python floats from here
        bias_correction2 = 1 - beta2 ** t
        m_hat = m / bias_correction1                            # m̂
        rho_inf = 2 / (1 - beta2) - 1                           # ρ∞
        rho_t = rho_inf - 2 * t * beta2 ** t / bias_correction2  # ρ_t

        if rho_t > 5.0:                                         # Adam's step, rectified
            r = ((rho_t - 4) * (rho_t - 2) * rho_inf
                 / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            denom = xp.sqrt(v)
            denom += eps
            w -= m_hat * lr * (bias_correction2 ** 0.5 / denom) * r
        else:                                                   # momentum only
            w -= m_hat * lr
        version_cell(p)[0] += 1
