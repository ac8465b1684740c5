"""``python -m exercises``: list, check, hint, solution.

    python -m exercises list                 every exercise and where you stand
    python -m exercises check 4              grade exercise 4 (or: check softmax_backward)
    python -m exercises check 4 --file my.py grade a copy of the file instead
    python -m exercises check all            grade them all
    python -m exercises hint 4               the exercise's hints
    python -m exercises solution 4           where the library does it (its code after a pass,
                                             or with --force)

``--lang es`` writes everything in Spanish (the default follows $LANG). Exit status: 0 when
the check passes, 1 when it does not, 2 for a mistake in the command (one line on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import sys
import textwrap

from . import progress, texts
from .registry import EXERCISES, UnknownExercise, find
from .runner import grade

STATUS = {"passed": ("passed", "superado"), "failing": ("failing", "falla"),
          "not started": ("not started", "sin empezar")}


def _say(lang: str, en: str, es: str) -> str:
    return es if lang == "es" else en


def _status(status: str, lang: str) -> str:
    return STATUS[status][lang == "es"]


def list_exercises(lang: str = "en") -> str:
    """The table ``python -m exercises list`` prints."""
    record = progress.load()
    lines = [_say(lang, "  #  exercise                                         status",
                  "  #  ejercicio                                        estado")]
    for ex in EXERCISES:
        lines.append(f"{ex.number:>3}  {ex.title(lang):<47}  "
                     f"{_status(progress.status(ex.number, record), lang)}")
    done = sum(progress.status(ex.number, record) == "passed" for ex in EXERCISES)
    lines.append(_say(lang, f"{done} of {len(EXERCISES)} passed.",
                      f"{done} de {len(EXERCISES)} superados."))
    todo = [ex for ex in EXERCISES if progress.status(ex.number, record) != "passed"]
    if todo:
        lines.append(_say(lang, "Next: ", "Siguiente: ") +
                     f"exercises/{todo[0].module}.py, python -m exercises check {todo[0].number}"
                     + (" --lang es" if lang == "es" else ""))
    return "\n".join(lines)


def _where(ex) -> str:
    return ", ".join(f"{file} ({name})" for file, name in ex.solution)


def cmd_list(a) -> int:
    print(list_exercises(a.lang))
    return 0


def cmd_check(a) -> int:
    if a.exercise.strip().lower() == "all":
        if a.file:
            raise UnknownExercise("--file grades one exercise; give its number, not 'all'")
        codes = [_check_one(ex.number, None, a.lang) for ex in EXERCISES]
        return max(codes)
    return _check_one(a.exercise, a.file, a.lang)


def _check_one(key, file, lang) -> int:
    ex = find(key)
    result = grade(ex.number, file=file)
    progress.save(ex.number, result.status)  # a copy graded with --file is your work too
    print(f"{_say(lang, 'Exercise', 'Ejercicio')} {ex.number}: {ex.title(lang)} ... "
          f"{_status(result.status, lang).upper()}")
    for line in result.message(lang).splitlines():  # long hints wrapped for the terminal
        print(textwrap.fill(line, width=100, subsequent_indent="  ",
                            break_long_words=False, break_on_hyphens=False)
              if len(line) > 100 else line)
    if result.passed:
        print(_say(lang, "The library's own solution: ", "La solución de la propia biblioteca: ")
              + _where(ex) + f"  (python -m exercises solution {ex.number})")
    elif result.status == "failing":
        print(_say(lang, "More help: ", "Más ayuda: ") + f"python -m exercises hint {ex.number}"
              + (" --lang es" if lang == "es" else ""))
    return 0 if result.passed else 1


def cmd_hint(a) -> int:
    ex = find(a.exercise)
    doc = texts.docstring(ex.path)
    print(texts.title(doc, a.lang))
    print(texts.hints(doc, a.lang))
    return 0


def _source(file: str, dotted: str) -> str:
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    obj = module
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return inspect.getsource(obj)


def cmd_solution(a) -> int:
    ex = find(a.exercise)
    passed = progress.status(ex.number) == "passed"
    print(_say(a.lang, "The library does this in: ", "La biblioteca lo hace en: ") + _where(ex))
    if not (passed or a.force):
        print(_say(a.lang,
                   f"Its code is shown once your answer passes (python -m exercises check "
                   f"{ex.number}), or now with --force.",
                   f"Su código se muestra cuando tu respuesta pase (python -m exercises check "
                   f"{ex.number} --lang es), o ya con --force."))
        return 0
    for file, name in ex.solution:
        print(f"\n# {file}: {name}")
        print(_source(file, name).rstrip())
    return 0


def build_parser() -> argparse.ArgumentParser:
    default_lang = "es" if os.environ.get("LANG", "").lower().startswith("es") else "en"
    parser = argparse.ArgumentParser(
        prog="python -m exercises",
        description="Graded exercises that follow the course: write a function, check it "
                    "against the real engine.")
    parser.add_argument("--lang", choices=("en", "es"), default=default_lang,
                        help="language of the messages (default: from $LANG)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="every exercise and its status")
    p.set_defaults(fn=cmd_list)
    p = sub.add_parser("check", help="grade an exercise")
    p.add_argument("exercise", help="a number (1-12), a name (softmax_backward) or 'all'")
    p.add_argument("--file", help="grade this copy of the exercise file instead")
    p.set_defaults(fn=cmd_check)
    p = sub.add_parser("hint", help="the hints of an exercise")
    p.add_argument("exercise")
    p.set_defaults(fn=cmd_hint)
    p = sub.add_parser("solution", help="where the library solves it (its code after a pass)")
    p.add_argument("exercise")
    p.add_argument("--force", action="store_true", help="show the code before passing")
    p.set_defaults(fn=cmd_solution)
    for p in sub.choices.values():  # --lang after the command too
        p.add_argument("--lang", choices=("en", "es"), default=argparse.SUPPRESS)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except UnknownExercise as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # piped into a program that stopped reading
        return 1
