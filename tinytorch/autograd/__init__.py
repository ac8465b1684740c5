"""Reverse-mode automatic differentiation: Function (one op), the engine (backward),
grad mode (no_grad) and gradcheck (proof by finite differences)."""

from .function import Function
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck


__all__ = ["Function", "GradcheckError", "enable_grad", "gradcheck", "is_grad_enabled",
           "no_grad", "set_grad_enabled"]
