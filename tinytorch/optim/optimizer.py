"""Optimizer: what every optimizer shares (param groups, per-parameter state, state dicts).

An optimizer updates parameters from their gradients, ``p ← p - lr · (something of p.grad)``.
It holds:

- ``param_groups``: a list of dicts, each ``{'params': [tensors], 'lr': ..., ...}``. One group
  per set of hyperparameters, e.g. no weight decay on biases::

      SGD([{'params': weights, 'weight_decay': 1e-4}, {'params': biases}], lr=0.1)

  Keys a group leaves out take the optimizer's ``defaults``. A scheduler changes
  ``group['lr']`` between steps; the next ``step()`` reads it.
- ``state``: ``{parameter: {name: value}}``, what the update remembers between steps
  (momentum, Adam's moving averages, the step count), keyed by the tensor itself
  (tensors hash by identity).

``state_dict()`` writes both with integer indices in place of tensors, PyTorch's layout::

    {'state': {0: {'momentum_buffer': tensor(...)}, ...},
     'param_groups': [{'lr': 0.1, ..., 'params': [0, 1, 2]}, ...]}

Index ``i`` is the i-th parameter counting through the groups in order, so a state dict
loads into any optimizer built over the same parameters in the same order.
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict

import numpy as np

from .. import backend, dtypes
from ..autograd.grad_mode import enable_grad, no_grad
from ..backend import array_module
from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a default that every param group must set itself (PyTorch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class: ``Optimizer(params, defaults)``; subclasses write ``step()``.

    ``params`` is an iterable of tensors, or of dicts (param groups) each with a
    ``'params'`` entry. ``defaults`` maps each hyperparameter to its default value.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                "dicts, but got a Tensor: wrap it in a list, e.g. SGD([w], lr=0.1)")
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._opt_called = False  # has step() run? (the scheduler's order check reads it)
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        # Record that step() ran, so a scheduler stepped before its optimizer can warn.
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_records_call", False):
            @functools.wraps(step)
            def recorded_step(self, *args, **kw):
                self._opt_called = True
                return step(self, *args, **kw)

            recorded_step._records_call = True
            cls.step = recorded_step

    # -- param groups ------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (e.g. a layer unfrozen mid-training) with its own
        hyperparameters; missing ones come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    "can't optimize a non-leaf Tensor (one computed by ops): optimize the "
                    "leaves it was computed from, or use x.detach().requires_grad_()")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization "
                    f"parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in param_group["params"]]
        if len(set(ids)) != len(ids):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error", UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's ``.grad`` before the next backward (which accumulates).

        ``set_to_none=True`` (the default) drops the gradient (``p.grad = None``): no memory
        held, and ``step()`` skips parameters whose grad is None. ``False`` fills it with
        zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    p.grad.zero_()

    def step(self, closure=None):
        """Update the parameters once; returns ``closure()``'s loss. ``closure`` (optional)
        re-evaluates the model and returns the loss, for optimizers that need it (e.g. LBFGS).

        The loop most optimizers are: ``self._update(p, group)`` for every parameter that has
        a gradient, under no_grad. A subclass writes ``_update`` (RMSprop, Adagrad, ...) or
        its own ``step`` (SGD and Adam, which read each group's hyperparameters once)."""
        self._opt_called = True
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update(p, group)
        return loss

    def _update(self, p: Tensor, group: dict) -> None:  # pragma: no cover - abstract
        """Update one parameter ``p`` (it has a ``.grad``) with its ``group``'s
        hyperparameters, in place."""
        raise NotImplementedError(f"{type(self).__name__} must define step() or _update()")

    def _closure_loss(self, closure):
        """Run ``closure`` with grad recording on (the step itself runs under no_grad)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- state dicts -------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}``.

        As in PyTorch the state tensors are the live ones (no copy): ``tinytorch.save`` it
        right away, or ``copy.deepcopy`` it to keep a snapshot while training goes on."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a ``state_dict()`` (e.g. from ``tinytorch.load``): hyperparameters and state.

        Everything is checked before anything changes: the number of groups, the number of
        parameters in each, and that every per-parameter state tensor has its parameter's
        shape (or is a scalar, like ``step``). Tensors are copied (cast to the parameter's
        dtype and device; ``step`` keeps its own dtype), so the given dict is not aliased.
        """
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            got = (sorted(map(str, state_dict)) if isinstance(state_dict, dict)
                   else type(state_dict).__name__)
            raise ValueError(
                f"load_state_dict: expected a dict with keys 'state' and 'param_groups' (what "
                f"optimizer.state_dict() returns), got {got}")
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        fix = ("build the optimizer over the same parameters, grouped and ordered as in the "
               "optimizer that saved this state dict")
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups: it has "
                f"{len(saved_groups)}, this optimizer has {len(groups)}; {fix}")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(s['params'])} parameters in the "
                    f"state dict but {len(g['params'])} in this optimizer; {fix}")
        params = {}
        for g, s in zip(groups, saved_groups):
            params.update(zip(s["params"], g["params"]))

        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if key not in params:
                raise ValueError(
                    f"loaded state dict has state for parameter index {key!r}, which none of its "
                    f"param_groups lists (they list {sorted(params)}); the state dict is damaged")
            p = params[key]
            state[p] = {name: _copy_state_value(p, key, name, v) for name, v in values.items()}

        new_groups = []
        for g, s in zip(groups, saved_groups):
            new = copy.deepcopy({k: v for k, v in s.items() if k != "params"})
            new["params"] = g["params"]
            new_groups.append(new)
        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _copy_state_value(p: Tensor, index, name, value):
    """A copy of one saved state value, as a Tensor on ``p``'s device (numbers as they are)."""
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    if value.ndim and value.shape != p.shape:
        raise ValueError(
            f"loaded state dict: state {name!r} of parameter {index} has shape "
            f"{tuple(value.shape)} but the parameter has shape {tuple(p.shape)}; the state dict "
            f"was saved for different parameters (another model, or another order). Build the "
            f"optimizer over the same parameters, in the same order, as the one that saved it.")
    arr = value.array
    if name == "step":  # a scalar counter: kept as saved (float32 on the CPU), as in PyTorch
        return Tensor(backend.as_numpy(arr).copy())
    if arr.dtype.kind == "f" and p.dtype.kind == "f":
        arr = arr.astype(p.dtype, copy=False)
    arr = backend.to_device(arr, p.device)
    return Tensor(arr.copy() if arr is value.array else arr)


# -- what several update rules share -----------------------------------------------------------
_INVALID = {"lr": "Invalid learning rate: {}", "eps": "Invalid epsilon value: {}"}


def check_hyperparameters(**values) -> None:
    """PyTorch's argument checks, in the order given: every value must be ≥ 0, and each of
    ``betas`` in [0, 1). Raises PyTorch's message, e.g. ``Invalid learning rate: -1``."""
    for name, value in values.items():
        if name == "betas":
            for i, beta in enumerate(value):
                if not 0.0 <= beta < 1.0:
                    raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        elif not 0.0 <= value:
            raise ValueError(_INVALID.get(name, f"Invalid {name} value: {{}}").format(value))


def scalar_state(value: float = 0.0) -> Tensor:
    """A scalar state entry such as ``step``: a 0-d CPU tensor in PyTorch's scalar dtype
    (float64 when the default dtype is float64, else float32, as ``_get_scalar_dtype``)."""
    dtype = np.float64 if dtypes.get_default_dtype() == np.float64 else np.float32
    return Tensor(np.array(value, dtype=dtype))


def next_step(state: dict) -> float:
    """Add 1 to the step counter ``state['step']`` (a scalar tensor); return the new t."""
    step = state["step"].array
    step += 1
    return float(step)


def regularized_grad(p: Tensor, weight_decay: float, maximize: bool):
    """The gradient an update follows: ``g ← -g`` if maximize, then ``g ← g + λ·p`` (weight
    decay λ as an L2 penalty λ/2·|p|² added to the loss). An array; ``p.grad``'s own when
    neither applies, so never write into it."""
    g = p.grad.array
    if maximize:
        g = -g
    if weight_decay:
        g = g + weight_decay * p.array
    return g


def zeros_state(p: Tensor) -> Tensor:
    """A state entry shaped like ``p`` (same dtype and device), all zeros."""
    return Tensor(array_module(p.array).zeros_like(p.array))
