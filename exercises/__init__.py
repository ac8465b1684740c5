"""Graded exercises that follow the course, from the backward of ``mul`` to beam search.

Each exercise is one file here, ``eNN_name.py``: the text (English and Spanish: the math,
the task, hints) in its docstring, and the functions to write, which raise
NotImplementedError until you do. ``python -m exercises check N`` plugs your functions into
the real engine and library (a tinytorch Function whose backward is yours, a
MultiHeadAttention that splits heads with yours, an optimizer that steps with yours...),
grades them on random cases (hypothesis when installed), with gradcheck in float64 and
against PyTorch when installed, and says what is wrong in your words. docs/exercises.md
has the list and the commands.

In Python::

    >>> from exercises import grade
    >>> grade(4).status                      # doctest: +SKIP
    'not started'

Layout: registry.py (the list), runner.py (``grade``), grading.py (cases, comparisons,
messages), checks/ (one grader per part of the course), solutions.py (the library's own
answers, in the exercises' signatures), progress.py, texts.py, cli.py.
"""

from .registry import EXERCISES, find
from .runner import grade

__all__ = ["EXERCISES", "find", "grade"]
