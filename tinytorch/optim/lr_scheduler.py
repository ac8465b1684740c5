"""Learning-rate schedules: change each param group's ``lr`` as training goes (PyTorch's API).

A scheduler wraps an optimizer. Call ``scheduler.step()`` once per step (or epoch), after
``optimizer.step()``::

    opt = SGD(params, lr=0.1)
    sched = StepLR(opt, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)          # opt.step() inside
        sched.step()        # lr: 0.1 for epochs 0-29, 0.01 for 30-59, ...

``last_epoch`` counts the calls (it is 0 right after construction, which already sets the
lr for epoch 0); ``base_lrs`` are the groups' initial lrs (saved as ``group['initial_lr']``).
``state_dict()`` holds every attribute except the optimizer, so save and load both.

The schedules (η₀ = base lr, e = last_epoch):

- ``LambdaLR``:            η = η₀ · f(e), for your function f
- ``StepLR``:              η = η₀ · γ^⌊e / step_size⌋
- ``LinearLR``:            η = η₀ · (s + (t - s) · min(e, N) / N), from factor s to t in N steps
- ``CosineAnnealingLR``:   η = η_min + (η₀ - η_min) · (1 + cos(π e / T_max)) / 2
- ``WarmupInverseSqrtLR``: η = peak · min(k / W, √(W / k)) with k = e + 1: linear warm-up
  over W steps, then decay as 1/√k (the transformer paper's schedule; see ``noam_lambda``)

and, in lr_scheduler_more.py (import them from here, as from ``torch.optim.lr_scheduler``):

- ``OneCycleLR``: one warm-up from max_lr/div_factor to max_lr, then down to far below the
  start, stepped per batch; momentum (or Adam's β1) cycles the other way
- ``CosineAnnealingWarmRestarts``: the cosine of CosineAnnealingLR, restarted from η₀ every
  T_i epochs, T_i growing by T_mult at each restart
- ``ReduceLROnPlateau``: η ← η · factor when ``step(metric)`` has seen no improvement for
  ``patience`` epochs

The base class, ``LRScheduler``, is in lr_scheduler_base.py.

Like PyTorch, StepLR, LinearLR and CosineAnnealingLR compute each lr from the previous
one (so they compose with other changes to ``group['lr']``); ``step(epoch)`` (deprecated)
uses the closed forms above.
"""

from __future__ import annotations

import math
import types

from .lr_scheduler_base import LRScheduler
from .lr_scheduler_more import CosineAnnealingWarmRestarts, OneCycleLR, ReduceLROnPlateau
from .optimizer import Optimizer

__all__ = ["CosineAnnealingLR", "CosineAnnealingWarmRestarts", "LRScheduler", "LambdaLR",
           "LinearLR", "OneCycleLR", "ReduceLROnPlateau", "StepLR", "WarmupInverseSqrtLR",
           "noam_lambda"]


class LambdaLR(LRScheduler):
    """``η = η₀ · lr_lambda(epoch)``; ``lr_lambda`` is one function, or a list (one per group).

    ``state_dict()`` leaves plain functions and lambdas out (they cannot be saved): build the
    scheduler with the same function, then load. For a callable object, its ``__dict__`` is
    saved, as in PyTorch."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        self.optimizer = optimizer
        if not isinstance(lr_lambda, (list, tuple)):
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        else:
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(
                    f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [base_lr * f(self.last_epoch) for f, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else f.__dict__.copy()
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas", [])
        self.__dict__.update(state)
        for f, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                f.__dict__.update(saved)


class StepLR(LRScheduler):
    """``η = η₀ · γ^⌊epoch / step_size⌋``: multiply the lr by ``gamma`` every ``step_size``
    epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """``η = η₀ · (s + (t - s) · min(epoch, N) / N)``: the factor goes linearly from
    ``start_factor`` s to ``end_factor`` t over ``total_iters`` N epochs, then stays at t."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and "
                             "less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        # Recursive form: η_e = η_{e-1} · factor(e) / factor(e-1), written out.
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        s, t, n = self.start_factor, self.end_factor, self.total_iters
        ratio = 1.0 + (t - s) / (n * s + (self.last_epoch - 1) * (t - s))
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list:
        s, t, n = self.start_factor, self.end_factor, self.total_iters
        return [base_lr * (s + (t - s) * min(n, self.last_epoch) / n) for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """``η = η_min + (η₀ - η_min) · (1 + cos(π · epoch / T_max)) / 2``: half a cosine from
    η₀ down to ``eta_min`` over ``T_max`` epochs. Past T_max the cosine carries on, so the lr
    climbs back to η₀ at 2·T_max (no restart jump), as in PyTorch.

    The lr is updated recursively, as PyTorch does (``η_e`` from ``η_{e-1}``)::

        η_e = η_min + (η_{e-1} - η_min) · (1 + cos(π e / T_max)) / (1 + cos(π (e-1) / T_max))

    except at the bottom of the cosine (where that ratio is 0/0), which adds the step up
    ``(η₀ - η_min) · (1 - cos(π / T_max)) / 2`` instead."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (e - 1 - T) % (2 * T) == 0:
            return [lr + (base_lr - lo) * (1 - math.cos(math.pi / T)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T))
                * (lr - lo) + lo for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class WarmupInverseSqrtLR(LRScheduler):
    """Linear warm-up, then inverse-square-root decay::

        η = peak · min(k / W, √(W / k)),   k = epoch + 1 (the number of the step about to run)

    so the lr rises as peak·k/W for k ≤ W, reaches ``peak`` at step k = W, then decays as
    peak·√(W/k) (halved at k = 4W). ``peak_lr`` is one number or one per group; by default
    each group's own lr. This is the transformer paper's schedule (see ``noam_lambda``) with
    the peak chosen directly instead of through d_model.
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, peak_lr=None,
                 last_epoch: int = -1):
        if int(warmup_steps) != warmup_steps or warmup_steps < 1:
            raise ValueError(f"warmup_steps must be a positive integer, got {warmup_steps!r}")
        self.warmup_steps = int(warmup_steps)
        n = len(optimizer.param_groups)
        if isinstance(peak_lr, (list, tuple)):
            if len(peak_lr) != n:
                raise ValueError(f"Expected {n} peak_lr values (one per param group), "
                                 f"but got {len(peak_lr)}")
            self.peak_lrs = [float(x) for x in peak_lr]
        elif peak_lr is not None:
            self.peak_lrs = [float(peak_lr)] * n
        else:  # each group's own initial lr (what becomes base_lrs)
            self.peak_lrs = [g.get("initial_lr", g["lr"]) for g in optimizer.param_groups]
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        k, w = self.last_epoch + 1, self.warmup_steps
        factor = min(k / w, math.sqrt(w / k))
        return [peak * factor for peak in self.peak_lrs]

    _get_closed_form_lr = get_lr


def noam_lambda(d_model: int, warmup: int, factor: float = 1.0):
    """The lr multiplier of "Attention Is All You Need" (the "Noam" schedule), for LambdaLR::

        f(e) = factor · d_model^(-1/2) · min(k^(-1/2), k · warmup^(-3/2)),   k = e + 1

    Linear warm-up for ``warmup`` steps, then decay as 1/√k; the peak, at k = warmup, is
    factor / √(d_model · warmup). Use it with base lr 1, as the Annotated Transformer does
    (k = e + 1 because k^(-1/2) is undefined at 0)::

        opt = Adam(params, lr=1.0, betas=(0.9, 0.98), eps=1e-9)
        sched = LambdaLR(opt, noam_lambda(d_model=512, warmup=4000))
    """
    if warmup < 1:
        raise ValueError(f"warmup must be a positive integer, got {warmup!r}")
    scale = factor * d_model ** -0.5

    def noam(epoch: int) -> float:
        k = epoch + 1
        return scale * min(k ** -0.5, k * warmup ** -1.5)

    return noam
