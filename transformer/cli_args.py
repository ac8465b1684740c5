"""What each command-line option accepts, written once, and the one-line errors.

Every option that takes a number or a path is declared with a *rule*:

    positive_int      an int >= 1              --heads, --steps, --beam, --top-k ...
    non_negative_int  an int >= 0              --seed, --examples
    probability       a float in [0, 1]        --dropout (PyTorch accepts p = 1 too)
    top_p             a float in (0, 1]        --top-p
    positive_float    a finite float > 0       --lr, --minutes, --temperature
    existing_path     a file or directory that exists           --data
    directory         a directory (made if missing), not a file  --out, --plot
    ...

A rule is two things at once:

- an argparse ``type=``: it turns the text typed by the user into the value, or raises
  ``argparse.ArgumentTypeError`` saying what it expected;
- a check of a value (``rule.problem(value)``), which ``TrainArgs.validate`` uses on the
  values a Python caller passes, so a ``Trainer`` refuses what the CLI refuses.

Either way a mistake ends as one line on stderr, naming the option and what it accepts,
and exit status 2, before anything is written::

    error: --heads: expected an int >= 1, got '0'
"""

from __future__ import annotations

import argparse
import math
import numbers
import os
from collections.abc import Callable
from dataclasses import dataclass


class UsageError(Exception):
    """A mistake in how the program was called: the CLI prints it as one line, exits 2."""


@dataclass(frozen=True)
class Number:
    """A number of type ``kind`` (int or float) in an interval; NaN is never allowed."""

    kind: type
    low: float | None = None
    high: float | None = None
    low_open: bool = False   # True: ``low`` itself is excluded
    high_open: bool = False
    finite: bool = True      # floats: refuse inf and -inf too
    note: str = ""           # why, shown after the interval, e.g. "(1 would ignore the labels)"

    def describe(self) -> str:
        """The allowed values in words: 'an int >= 1', 'a float in [0, 1]'."""
        bounded = self.low is not None and self.high is not None  # ("finite" goes without saying)
        finite = self.finite and not bounded
        name = "an int" if self.kind is int else "a finite float" if finite else "a float"
        if self.low is not None and self.high is not None:
            text = (f"{name} in {'(' if self.low_open else '['}{self.low:g}, "
                    f"{self.high:g}{')' if self.high_open else ']'}")
        elif self.low is not None:
            text = f"{name} {'>' if self.low_open else '>='} {self.low:g}"
        elif self.high is not None:
            text = f"{name} {'<' if self.high_open else '<='} {self.high:g}"
        else:
            text = name
        return f"{text} {self.note}" if self.note else text

    def problem(self, value) -> str | None:
        """None if ``value`` is allowed, else 'expected ..., got ...'."""
        wrong = f"expected {self.describe()}, got {value!r}"
        if isinstance(value, bool):  # True is an int in Python, but not a number here
            return wrong
        if self.kind is int and not isinstance(value, numbers.Integral):
            return wrong
        if not isinstance(value, numbers.Real) or math.isnan(value):
            return wrong
        if self.finite and math.isinf(value):
            return wrong
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return wrong
        if self.high is not None and (value >= self.high if self.high_open else value > self.high):
            return wrong
        return None

    def __call__(self, text: str):
        """argparse's ``type=``: the option's text -> the number, or what was expected."""
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {self.describe()}, got {text!r}") from None
        wrong = self.problem(value)
        if wrong:
            raise argparse.ArgumentTypeError(f"expected {self.describe()}, got {text!r}")
        return value


@dataclass(frozen=True)
class Path:
    """A path that must pass ``test`` (a function of the path: True if it is fine)."""

    name: str    # what the user must give, e.g. "a file that exists"
    test: Callable[[str], bool]
    says_what_is_there: bool = True  # add "(it is a directory)" and the like to the error

    def describe(self) -> str:
        return self.name

    def problem(self, value) -> str | None:
        if not isinstance(value, str) or not value or not self.test(value):
            there = _what_is_there(value) if self.says_what_is_there else ""
            return f"expected {self.name}, got {value!r}{there}"
        return None

    def __call__(self, text: str) -> str:
        wrong = self.problem(text)
        if wrong:
            raise argparse.ArgumentTypeError(wrong)
        return text


def _what_is_there(path) -> str:
    """' (it is a directory)' and the like: what the user gave instead."""
    if not isinstance(path, str) or not path:
        return ""
    if os.path.isdir(path):
        return " (it is a directory)"
    if os.path.exists(path):
        return " (it is a file)"
    return " (no such file or directory)"


def _new_or_directory(path: str) -> bool:
    """A directory, or a path where one can be made: nothing there yet, and the nearest
    part of it that exists is a directory (not a file, as in 'notes.txt/run')."""
    path = os.path.abspath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    return os.path.isdir(path)


def _png_path(path: str) -> bool:
    return path.lower().endswith(".png") and not os.path.isdir(path)


# The rules, one per kind of option (the options name them in __main__.py and train_args.py).
positive_int = Number(int, low=1)
non_negative_int = Number(int, low=0)
positive_float = Number(float, low=0, low_open=True)
probability = Number(float, low=0, high=1)
top_p = Number(float, low=0, high=1, low_open=True)
existing_path = Path("a file or directory that exists", os.path.exists)
existing_file = Path("a file that exists (not a directory)", os.path.isfile)
directory = Path("a directory (made if missing), not a file", _new_or_directory)
png_file = Path("a file name ending in .png (not a directory)", _png_path,
               says_what_is_there=False)


def read_lines(path: str, what: str) -> list[str]:
    """The non-empty lines of a UTF-8 text file given with --file (a BOM is skipped), each
    stripped; ``what`` names them in the errors ("sentences", "prompts"). A file that is
    not UTF-8 or holds no text is a UsageError."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            lines = [line.strip() for line in f if line.strip()]
    except UnicodeDecodeError as e:
        raise UsageError(f"--file {path}: not UTF-8 text ({e.reason} at byte {e.start}); "
                         f"convert it to UTF-8") from None
    if not lines:
        raise UsageError(f"--file {path}: no {what} in it (every line is empty)")
    return lines


def check_device(device: str) -> str:
    """``--device``, after checking that a GPU is there for ``cuda``."""
    import tinytorch as tt  # noqa: PLC0415 (only this check needs it)

    if device == "cuda" and not tt.cuda.is_available():
        raise UsageError("--device cuda needs CuPy and a GPU: pip install -e '.[gpu]' "
                         "(cupy-cuda12x), or use --device cpu")
    return device


class Parser(argparse.ArgumentParser):
    """argparse, with its errors turned into ``UsageError`` (one line, exit status 2)
    instead of the usage text and ``SystemExit``. ``--help`` still exits with 0."""

    def __init__(self, *args, **kwargs):
        self.allowed = {}  # option string -> what it accepts, in words (set before argparse's
        super().__init__(*args, **kwargs)  # __init__, which adds --help already)

    def add_argument(self, *args, **kwargs):
        action = super().add_argument(*args, **kwargs)
        rule, choices = kwargs.get("type"), kwargs.get("choices")
        for flag in action.option_strings:
            if choices is not None:
                self.allowed[flag] = "one of " + ", ".join(map(str, choices))
            elif hasattr(rule, "describe"):
                self.allowed[flag] = rule.describe()
        return action

    def error(self, message: str):
        # argparse says "argument --heads: expected ..."; the option is enough.
        message = message.removeprefix("argument ")
        flag, _, rest = message.partition(": ")
        if rest == "expected one argument" and flag in self.allowed:
            # "--lr -1e-5": a value starting with "-" reads as another option
            message = (f"{flag}: expected {self.allowed[flag]} after it (a value starting "
                       f"with '-' must be written {flag}=VALUE)")
        raise UsageError(message)
