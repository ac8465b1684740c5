"""The two thread-local switches: grad mode and fast paths.

**Grad mode**: whether ops record a graph. ``no_grad()``, ``enable_grad()`` and
``set_grad_enabled(mode)`` work as context managers and as decorators, exactly like
PyTorch's.

**Fast paths**: whether the functions that have a fused implementation use it.
Each such function (``F.cross_entropy``, ``F.linear_cross_entropy``, ``F.layer_norm``,
``F.linear``, the transformer's attention and its loss) is first written as the
textbook formula out of the library's primitives, and its fused version (one node,
a backward derived by hand) sits right below it in the same file, tested equal to
it. ``fast_paths(False)`` picks the textbook path everywhere, so that a debugger
stops in ``Softmax.backward`` and ``Matmul.backward``; ``fast_paths(True)`` (the
default) picks the fused one::

    with tinytorch.fast_paths(False):      # or tinytorch.set_fast_paths(False)
        loss = model.loss(src, tgt_in, tgt_out)
        loss.backward()

Both switches live in one ``threading.local``, so a data-loading thread under
``no_grad`` does not turn recording off elsewhere.
"""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True       # grad mode
    fast_paths = True    # fused ops where a function has them


_state = _State()


def is_grad_enabled() -> bool:
    """True when ops on tensors that require grad record the graph."""
    return _state.enabled


def fast_paths_enabled() -> bool:
    """True when functions with a fused implementation use it (the default)."""
    return _state.fast_paths


class _Switch:
    """Base of the context managers: sets one switch of ``_state`` (named by ``field``)
    to ``_mode`` on enter and restores the previous value on exit; as a decorator, the
    same around each call."""

    field = "enabled"
    _mode = True

    def __enter__(self):
        self._prev = getattr(_state, self.field)
        setattr(_state, self.field, self._mode)
        return self

    def __exit__(self, *exc):
        setattr(_state, self.field, self._prev)
        return False

    def __call__(self, fn):
        mode, cls = self._mode, type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            switch = object.__new__(cls)  # a fresh one per call: calls may nest
            switch._mode = mode
            with switch:
                return fn(*args, **kwargs)

        return wrapper


class _Fixed(_Switch):
    """A switch with a fixed mode, usable as ``@no_grad`` without parentheses too."""

    def __new__(cls, func=None):
        self = super().__new__(cls)
        return self(func) if callable(func) else self


class no_grad(_Fixed):  # noqa: N801 (PyTorch's name)
    """Turn graph recording off: ``with no_grad(): ...`` or ``@no_grad()``."""

    _mode = False


class enable_grad(_Fixed):  # noqa: N801
    """Turn graph recording back on inside a ``no_grad`` block."""

    _mode = True


class fast_paths(_Switch):  # noqa: N801
    """``with fast_paths(False):`` runs the block on the textbook paths (composed of
    primitives); ``with fast_paths(True):`` on the fused ones. Also a decorator:
    ``@fast_paths(False)``."""

    field = "fast_paths"

    def __init__(self, mode: bool = True):
        if callable(mode):
            raise TypeError("fast_paths: give the mode, e.g. @fast_paths(False)")
        self._mode = bool(mode)


class _SetNow(_Switch):
    """Sets the switch at once (a function call); also a context manager that restores
    the previous value on exit, or a decorator (which then does not switch at once)."""

    def __init__(self, mode: bool):
        self._prev = getattr(_state, self.field)
        self._mode = bool(mode)
        setattr(_state, self.field, self._mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        setattr(_state, self.field, self._prev)  # used as a decorator: undo the switch
        mode, cls = self._mode, type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with cls(mode):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(_SetNow):  # noqa: N801
    """``set_grad_enabled(False)`` switches at once (a function call) and also
    works as a context manager that restores the previous mode on exit."""


class set_fast_paths(_SetNow):  # noqa: N801
    """``set_fast_paths(False)``: every function with a fused implementation takes its
    textbook path from now on (in this thread); as a context manager, only inside the
    block."""

    field = "fast_paths"
