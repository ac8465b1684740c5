"""Reverse-mode automatic differentiation: the engine (backward), grad (gradients returned,
not accumulated), grad mode (no_grad), the fast-paths switch and gradcheck (proof by finite
differences).

Two classes define an op. ``tinytorch.autograd.Function`` is PyTorch's: static
``forward(ctx, ...)``/``backward(ctx, ...)`` on Tensors, for your own ops
(custom_function.py). Every op of tinytorch itself subclasses the array-level
``tinytorch.autograd.function.Function`` (function.py), on which the first is built.
"""

from .custom_function import Function, FunctionCtx
from .function import once_differentiable
from .grad_mode import (
    enable_grad, fast_paths, fast_paths_enabled, is_grad_enabled, no_grad, set_fast_paths,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck
from .gradients import backward, grad


__all__ = ["Function", "FunctionCtx", "GradcheckError", "backward", "enable_grad", "fast_paths",
           "fast_paths_enabled", "grad", "gradcheck", "is_grad_enabled", "no_grad",
           "once_differentiable", "set_fast_paths", "set_grad_enabled"]
