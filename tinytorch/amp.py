"""Mixed precision, as far as NumPy allows: ``torch.autocast`` and ``torch.amp.GradScaler``.

**autocast is a no-op here.** PyTorch's ``autocast`` runs chosen ops (matmuls, linear
layers) in bfloat16 or float16 inside its ``with`` block. tinytorch has no such switch: every
op computes in the dtype of its inputs, so inside ``with torch.autocast("cpu",
dtype=torch.bfloat16):`` a float32 model computes in float32, exactly as outside, and its
outputs are float32 where PyTorch's would be bfloat16 (NumPy has no bfloat16 at all). The
block runs, so scripts written for mixed precision run unchanged; the numbers are the
full-precision ones. An enabled autocast says so once, with a warning; ``enabled=False``
is silent. As in PyTorch, ``autocast("cuda")`` without a GPU warns and is disabled.

**GradScaler works as in PyTorch.** It multiplies the loss by a scale (65536 to start),
divides the gradients back before the optimizer step, skips a step whose gradients hold
inf or NaN and then halves the scale, and doubles it after 2000 good steps. That protects
float16 gradients from underflow; in float32 it changes nothing but the skipping. Made for
'cuda' without a GPU it is disabled with a warning (PyTorch's CPU build does the same): then
``scale(loss)`` is ``loss``, ``step(opt)`` is ``opt.step()`` and ``get_scale()`` is 1.0.
"""

from __future__ import annotations

import functools
import warnings

from . import backend, dtypes
from .devices import device as _device
from .tensor import Tensor

_said_no_op = [False]  # the "autocast changes nothing here" warning is given once


class autocast:  # noqa: N801 (PyTorch's name)
    """``with torch.autocast(device_type, dtype=None, enabled=True):`` (or as a decorator).

    Runs the block unchanged: tinytorch ops compute in their inputs' dtype (see the module
    docstring). ``dtype`` defaults to bfloat16 on 'cpu' and float16 on 'cuda', as in PyTorch.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True,
                 cache_enabled: bool | None = None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: device_type must be a string such as 'cpu' or "
                             f"'cuda', got {device_type!r}")
        self.device = _device(device_type).type
        self.fast_dtype = dtype if dtype is not None else (
            dtypes.bfloat16 if self.device == "cpu" else dtypes.float16)
        self._enabled = bool(enabled)
        if not self._enabled:
            return
        if self.device == "cuda" and not backend.is_cuda_available():
            warnings.warn("CUDA is not available. Disabling autocast.", UserWarning,
                          stacklevel=2)
            self._enabled = False
        elif self.device == "cpu" and self.fast_dtype not in (dtypes.bfloat16, dtypes.float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", UserWarning, stacklevel=2)
            self._enabled = False
        elif not _said_no_op[0]:
            _said_no_op[0] = True
            warnings.warn(f"autocast: tinytorch has no mixed precision; the ops inside run in "
                          f"their inputs' dtype (float32 stays float32), not in "
                          f"{self.fast_dtype}", UserWarning, stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def __call__(self, func):
        @functools.wraps(func)
        def run(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return run


_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """``torch.amp.GradScaler(device='cuda', init_scale=65536.0, growth_factor=2.0,
    backoff_factor=0.5, growth_interval=2000, enabled=True)``::

        scaler.scale(loss).backward()
        scaler.step(optimizer)        # unscales the grads; skips the step on inf/NaN
        scaler.update()               # halves the scale after a skip, doubles it after
                                      # growth_interval good steps
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        self._device = _device(device).type
        self._enabled = bool(enabled)
        if self._enabled and self._device == "cuda" and not backend.is_cuda_available():
            warnings.warn("torch.amp.GradScaler is enabled, but CUDA is not available. "
                          "Disabling.", UserWarning, stacklevel=2)
            self._enabled = False
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = {}  # id(optimizer) -> {"stage": ..., "found_inf": bool}

    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def scale(self, outputs):
        """``outputs`` (a tensor, or a list/tuple of them, nested) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer) -> dict:
        return self._per_optimizer.setdefault(id(optimizer),
                                              {"stage": _READY, "found_inf": False})

    def unscale_(self, optimizer) -> None:
        """Divide the gradients of ``optimizer``'s parameters by the scale, in place (for
        clipping them before ``step``), noting whether any is inf or NaN."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale, found_inf = 1.0 / self._scale, False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.array
                if g.dtype == dtypes.float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                g *= inv_scale
                xp = backend.array_module(g)
                found_inf = found_inf or not bool(xp.isfinite(g).all())
        state["found_inf"], state["stage"] = found_inf, _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step()`` on unscaled gradients, or nothing if any is inf or NaN."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None) -> None:
        """Adjust the scale for the next iteration (or set it to ``new_scale``)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
        else:
            if not self._per_optimizer:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(s["found_inf"] for s in self._per_optimizer.values()):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer = {}

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict:
        """The scale and its schedule ({} when disabled), for checkpoints."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
