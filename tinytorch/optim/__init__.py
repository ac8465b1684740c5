"""Optimizers and learning-rate schedules, as ``torch.optim``.

    opt = tinytorch.optim.Adam(model.parameters(), lr=1e-3)
    sched = tinytorch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    for x, y in batches:
        opt.zero_grad()                 # grads accumulate: clear them first
        loss_fn(model(x), y).backward()
        opt.step()                      # p ← p - lr · (update from p.grad)
        sched.step()                    # then move the lr along the schedule

Read optimizer.py (param groups, state, state dicts), then sgd.py and adam.py (the update
rules, formulas in their docstrings), then lr_scheduler.py. The other update rules, one
file each: rmsprop.py and adagrad.py (steps scaled by the size of past gradients), then
Adam's variants adamax.py, nadam.py and radam.py.
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Adagrad", "Adamax", "NAdam", "Optimizer", "RAdam",
           "RMSprop", "lr_scheduler"]
