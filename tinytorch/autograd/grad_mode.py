"""Whether ops record a graph: one thread-local switch.

``no_grad()``, ``enable_grad()`` and ``set_grad_enabled(mode)`` work as context
managers and as decorators, exactly like PyTorch's. The switch is per thread, so
a data-loading thread under ``no_grad`` does not turn off recording elsewhere.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record the graph."""
    return _state.enabled


class _GradMode:
    """Base of the context managers: sets the switch on enter, restores it on exit."""

    _mode = True

    def __new__(cls, func=None, *args):
        self = super().__new__(cls)
        # @no_grad without parentheses, as PyTorch allows: decorate at once
        return self.__call__(func) if callable(func) else self

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 (PyTorch's name)
    """Turn graph recording off: ``with no_grad(): ...`` or ``@no_grad()``."""

    _mode = False


class enable_grad(_GradMode):  # noqa: N801
    """Turn graph recording back on inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradMode):  # noqa: N801
    """``set_grad_enabled(False)`` switches at once (a function call) and also
    works as a context manager that restores the previous mode on exit."""

    def __init__(self, mode: bool):
        self._prev = _state.enabled
        self._mode = bool(mode)
        _state.enabled = self._mode

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self._mode
        _state.enabled = self._prev  # used as a decorator: do not switch now

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
