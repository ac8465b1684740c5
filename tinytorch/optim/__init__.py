"""Optimizers and learning-rate schedules, as ``torch.optim``.

    opt = tinytorch.optim.Adam(model.parameters(), lr=1e-3)
    sched = tinytorch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in batches:
        opt.zero_grad()                 # grads accumulate: clear them first
        loss_fn(model(x), y).backward()
        opt.step()                      # p ← p - lr · (update from p.grad)
        sched.step()                    # then move the lr along the schedule

Read optimizer.py (param groups, state, state dicts), then sgd.py and adam.py (the update
rules, formulas in their docstrings), then lr_scheduler.py.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
