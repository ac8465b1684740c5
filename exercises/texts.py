"""The exercise texts: each exercise file's docstring holds the English and the Spanish
text, in this layout (what ``hint`` prints and the docs' parity test read)::

    Exercise N: title
    Ejercicio N: título

    English
    =======
    ... the math, the task ...

    Hints
    -----
    1. ...

    Español
    =======
    ... las mismas secciones ...

    Pistas
    ------
    1. ...

Each language has the same sections, the same indented blocks (formulas and code, which
are not translated) and the same number of hints.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

HEADINGS = {"en": ("English", "Hints"), "es": ("Español", "Pistas")}


def docstring(path: Path) -> str:
    """The module docstring of an exercise file, even one whose code does not parse."""
    source = Path(path).read_text(encoding="utf-8")
    try:
        return ast.get_docstring(ast.parse(source), clean=True) or ""
    except SyntaxError:
        m = re.match(r'\s*(?:[rR]?)"""(.*?)"""', source, re.DOTALL)
        return m.group(1) if m else ""


def _underlined(title: str, mark: str) -> re.Pattern:
    return re.compile(rf"^{re.escape(title)}\n{re.escape(mark)}{{3,}}[ \t]*$", re.MULTILINE)


def language(text: str, lang: str) -> str:
    """The part of the docstring in ``lang`` ("en" or "es"), without its heading."""
    start = _underlined(HEADINGS[lang][0], "=").search(text)
    if start is None:
        return ""
    other = _underlined(HEADINGS["es" if lang == "en" else "en"][0], "=").search(text,
                                                                                  start.end())
    return text[start.end(): other.start() if other else len(text)].strip("\n")


def hints(text: str, lang: str) -> str:
    """The hints section of ``lang``'s part."""
    part = language(text, lang)
    m = _underlined(HEADINGS[lang][1], "-").search(part)
    return part[m.end():].strip("\n") if m else ""


def title(text: str, lang: str) -> str:
    """'Exercise 4: ...' (first line) or 'Ejercicio 4: ...' (second line)."""
    lines = text.splitlines() + ["", ""]
    return lines[1] if lang == "es" else lines[0]
