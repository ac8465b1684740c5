"""Reverse-mode automatic differentiation: Function (one op), the engine (backward),
grad mode (no_grad), the fast-paths switch and gradcheck (proof by finite differences)."""

from .function import Function
from .grad_mode import (
    enable_grad, fast_paths, fast_paths_enabled, is_grad_enabled, no_grad, set_fast_paths,
    set_grad_enabled,
)
from .gradcheck import GradcheckError, gradcheck


__all__ = ["Function", "GradcheckError", "enable_grad", "fast_paths", "fast_paths_enabled",
           "gradcheck", "is_grad_enabled", "no_grad", "set_fast_paths", "set_grad_enabled"]
