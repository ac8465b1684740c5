"""``grade``: load a student's answer (the exercise file, a copy of it, or functions
passed in), run its grader and say how it went, as a ``Result``."""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from pathlib import Path

import numpy as np

import tinytorch as tt

from .grading import Crash, Mistake, NotStarted, Result, Student, Text, examples_from_env
from .registry import Exercise, UnknownExercise, find

_loads = itertools.count()


class MissingFile(UnknownExercise):
    """--file names no file (a user mistake: one line, exit status 2)."""


def load_functions(ex: Exercise, file: str | Path | None = None) -> dict:
    """{name: function} from the exercise's file (or ``file``), executed afresh each time,
    so that an edit is seen at once. A file that does not run raises ``Mistake``."""
    path = Path(file) if file is not None else ex.path
    if not path.is_file():
        raise MissingFile(f"{path}: no such file (--file takes a copy of "
                          f"exercises/{ex.module}.py with your answer)")
    spec = importlib.util.spec_from_file_location(f"_answer_{ex.module}_{next(_loads)}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise Mistake(Text(
            f"{path.name} does not parse: {e.msg} at line {e.lineno}:\n  {(e.text or '').strip()}",
            f"{path.name} no se puede leer: {e.msg} en la línea {e.lineno}:\n  "
            f"{(e.text or '').strip()}")) from None
    except Exception as e:  # noqa: BLE001 (any error at import is the student's to see)
        raise Mistake(Text(f"{path.name} fails when imported: {type(e).__name__}: {e}",
                           f"{path.name} falla al importarse: {type(e).__name__}: {e}")) from None
    return {name: getattr(module, name) for name in ex.functions if hasattr(module, name)}


def grade(key, functions: dict | None = None, file: str | Path | None = None,
          examples: int | None = None) -> Result:
    """Grade exercise ``key`` (a number or a name; see ``registry.find``).

    The answer is ``functions`` ({name: function}) when given, else the functions of
    ``file``, else those of the exercise's own file. ``examples``: random cases per check
    (default 20, or ``TINYTORCH_EXERCISES_EXAMPLES``).
    """
    ex = find(key)
    examples = examples_from_env() if examples is None else examples
    where = Path(file).name if file is not None else (f"{ex.module}.py" if functions is None
                                                       else "your functions")
    module_name, check_name = ex.check.split(":")
    check = getattr(importlib.import_module(f".checks.{module_name}", __package__), check_name)
    tt.manual_seed(0)  # the same answer always gets the same report
    student = None
    try:
        if functions is None:
            functions = load_functions(ex, file)
        student = Student(functions, where)
        with np.errstate(all="ignore"):  # a wrong answer may overflow: compared, not raised
            checked = check(student, examples)
    except NotStarted as e:
        if student is not None and student.answered:
            return Result(ex.number, "failing", Text(
                f"{e.name} is not written yet: it still raises NotImplementedError.",
                f"{e.name} aún no está escrita: sigue lanzando NotImplementedError."))
        return Result(ex.number, "not started", Text(
            f"Write {', '.join(ex.functions)} in exercises/{ex.module}.py (it still raises "
            f"NotImplementedError), then check again.",
            f"Escribe {', '.join(ex.functions)} en exercises/{ex.module}.py (aún lanza "
            f"NotImplementedError) y vuelve a comprobarlo."))
    except Mistake as e:
        return Result(ex.number, "failing", e.what, e.hint)
    except Crash as e:
        at = f"\n  {e.where}" if e.where else ""
        return Result(ex.number, "failing", Text(
            f"{e.name} raised {type(e.error).__name__}: {e.error}{at}",
            f"{e.name} lanzó {type(e.error).__name__}: {e.error}{at}"))
    except (UnknownExercise, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001 (an answer can break the engine in many ways)
        return Result(ex.number, "failing", Text(
            f"with your answer plugged in, the engine stopped: {type(e).__name__}: {e}",
            f"con tu respuesta conectada, el motor se detuvo: {type(e).__name__}: {e}"))
    return Result(ex.number, "passed", checked=checked)
