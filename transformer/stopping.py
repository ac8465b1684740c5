"""Stopping a training run without losing it: Ctrl-C (SIGINT) and SIGTERM.

A terminal sends SIGINT on Ctrl-C; schedulers and containers (Slurm, Kubernetes, docker
stop) send SIGTERM, then SIGKILL a while later. Both are handled the same way, and what
a signal does depends on what the run is doing when it arrives:

- a training step, or saving a checkpoint: the signal is only *noted*. The step is
  finished (a step cut in half, say between the optimizer update and the step counter,
  would leave a state that no run ever had, and a resumed run would drift), the
  checkpoint is saved, and the run exits with status 128 + the signal's number (130 for
  SIGINT, 143 for SIGTERM) and says how to resume. A second signal does not cut this
  short: it is answered with a note, because quitting mid-step or mid-save is what would
  lose the run (saves are atomic anyway: see tinytorch/serialization.py). SIGKILL
  (``kill -9``) still stops the process at once, leaving the previous checkpoint.
- an evaluation (validation BLEU, the test report, the loss plot): these only read the
  model, whose state is saved or about to be, so the signal abandons them at once
  (``Interrupted`` is raised inside ``stop.interruptible()``) and the run saves, if it has
  not, and exits.

Python runs a signal handler in the main thread between two bytecodes, so the handler
below only sets a flag or raises; it writes its note with ``os.write`` on the stderr file
descriptor, because ``print`` from a handler can collide with a ``print`` it interrupted.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def signal_name(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


class Interrupted(KeyboardInterrupt):
    """A stop signal that abandoned an evaluation (raised inside ``interruptible()``).

    A KeyboardInterrupt, not an Exception, so that no ``except Exception`` on the way
    swallows it."""

    def __init__(self, signum: int):
        super().__init__(signal_name(signum))
        self.signum = signum


def _notice(text: str) -> None:
    try:
        os.write(2, f"\n{text}\n".encode())
    except OSError:  # stderr closed: the note is lost, the run still stops cleanly
        pass


class StopSignals:
    """``with stop:`` handles SIGINT and SIGTERM (see the module's docstring) until the
    block ends, then puts the previous handlers back; blocks may nest. ``stop.received``
    is the first signal's number, or None."""

    def __init__(self, notice=_notice):
        self.received: int | None = None
        self.notice = notice
        self._depth = 0
        self._previous: dict = {}
        self._interruptible = False

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process stopped by a signal: 128 + its number."""
        return 128 + self.received

    def __enter__(self):
        if self._depth == 0 and threading.current_thread() is threading.main_thread():
            for s in STOP_SIGNALS:  # (signals can only be handled in the main thread)
                self._previous[s] = signal.signal(s, self._handle)
        self._depth += 1
        return self

    def __exit__(self, *exc):
        self._depth -= 1
        if self._depth == 0:
            for s, handler in self._previous.items():
                signal.signal(s, handler)
            self._previous.clear()
        return False

    @contextmanager
    def interruptible(self):
        """A block that a stop signal abandons at once, by raising ``Interrupted``; a signal
        that arrived before the block raises as the block starts."""
        self._interruptible = True   # set first, then look: no signal can slip between
        try:
            if self.received is not None:
                raise Interrupted(self.received)
            yield
        finally:
            self._interruptible = False

    def _handle(self, signum, frame):
        name = signal_name(signum)
        if self.received is None:
            self.received = signum
            if self._interruptible:
                raise Interrupted(signum)
            self.notice(f"{name}: finishing this step, then saving a checkpoint and stopping")
        else:
            self.notice(f"{name} again: still stopping; the checkpoint is being saved first, "
                        f"so that no step is lost (kill -9 {os.getpid()} quits at once and "
                        f"keeps the previous checkpoint)")
