"""NAdam: Adam with Nesterov momentum (PyTorch's rule, Dozat 2016).

For each parameter p with gradient g, at step t = 1, 2, ...::

    g ← -g                            if maximize
    g ← g + λ·p                       weight_decay λ as an L2 penalty, or, with
    p ← p·(1 - lr·λ)                  decoupled_weight_decay, shrinking p directly (AdamW's)
    μ_t = β1·(1 - ½·0.96^(t·ψ))       the momentum at step t (momentum_decay ψ): it warms up
                                      from β1/2 towards β1
    Π_t = μ_1·μ_2···μ_t               mu_product
    m ← m + (1-β1)·(g - m)            exp_avg: a running mean of g        (m, v start at 0)
    v ← β2·v + (1-β2)·g²              exp_avg_sq: a running mean of g²
    d = √(v / (1-β2^t)) + ε           Adam's denominator, bias-corrected
    p ← p - lr·(1-μ_t)/(1-Π_t) · g / d  -  lr·μ_{t+1}/(1-Π_t·μ_{t+1}) · m / d

Adam steps along the bias-corrected m; Nesterov's idea is to step from where momentum is
about to carry p, so NAdam mixes the gradient of this step (first term) with the momentum
of the next one (second term, with μ_{t+1}).

``mu_product`` is a scalar tensor in PyTorch's scalar dtype (float32 unless the default
dtype is float64), and the update reads it back rounded to that dtype, as PyTorch does: the
float32 rounding of Π_t moves the result by about 1e-7 relative, so matching PyTorch means
rounding in the same place. As in PyTorch, ``load_state_dict`` casts it to the parameter's
dtype (like every state tensor but ``step``), so a float64 model resumed from a state dict
carries on with a float64 Π_t.
"""

from __future__ import annotations

from ..autograd.function import version_cell
from ..backend import array_module
from .optimizer import (Optimizer, check_hyperparameters, next_step, regularized_grad,
                        scalar_state, zeros_state)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False)``: the update in
    this module's docstring.

    State per parameter: ``step`` and ``mu_product`` (Π_t) (scalar tensors), ``exp_avg`` (m),
    ``exp_avg_sq`` (v)."""

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False):
        check_hyperparameters(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay,
                              momentum_decay=momentum_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(self, p, group):
        """One step of ``p`` (called by ``Optimizer.step`` for each parameter with a grad)."""
        # Python floats: a NumPy float64 scalar would upcast float32 arrays.
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        psi, decoupled = float(group["momentum_decay"]), group["decoupled_weight_decay"]
        xp = array_module(p.array)
        w = p.array
        state = self.state[p]
        if not state:  # lazy init on the first step that has a gradient
            state["step"] = scalar_state(0.0)
            state["mu_product"] = scalar_state(1.0)
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
        t = next_step(state)                                    # t ← t + 1
        if wd and decoupled:
            w *= 1 - lr * wd                                    # p ← p·(1 - lr·λ)
        g = regularized_grad(p, 0.0 if decoupled else wd, group["maximize"])

        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))            # μ_t
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))  # μ_{t+1}
        prod = state["mu_product"].array
        prod *= prod.dtype.type(mu)                             # Π_t = Π_{t-1}·μ_t, in its dtype
        mu_product = float(prod)
        mu_product_next = mu_product * mu_next                  # Π_t·μ_{t+1} (a Python float)

        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        m += (1 - beta1) * (g - m)                              # m ← m + (1-β1)(g - m)
        v *= beta2
        v += (1 - beta2) * (g * g)                              # v ← β2·v + (1-β2)·g²
        d = xp.sqrt(v / (1 - beta2 ** t))
        d += eps                                                # d = √v̂ + ε
        w -= lr * (1.0 - mu) / (1.0 - mu_product) * (g / d)     # the gradient's part
        w -= lr * mu_next / (1.0 - mu_product_next) * (m / d)   # the momentum's part
        version_cell(p)[0] += 1
