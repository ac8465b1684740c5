"""The docs under docs/ stay true: their examples run, both languages have the same
chapters, and their links to the code point at files and names that exist.

- **Examples.** In each Markdown file, every ```python block whose content starts with
  ``>>>`` is a doctest. A file's blocks run in order in one shared namespace, like the
  cells of a notebook. Chapters need at least one; the index README.md files may have none.
- **Languages.** docs/ (English) and docs/es/ (Spanish) hold the same file names, and
  each pair has the same heading levels, the same kinds of code blocks and the same
  doctest code (comments and the text inside strings may be translated).
- **Exercises.** Each exercise file (exercises/eNN_*.py) holds its text in English and in
  Spanish: both parts have the same sections, the same indented blocks (formulas and
  code, not translated) and the same number of hints.
- **Links.** A relative link ``[text](path)`` must reach an existing file (relative to the
  .md file). When the text is a backticked Python name, ``[`Function.apply`](...py)``,
  the linked .py file must define it: each dotted part a ``def``, ``class`` or assignment,
  the next part inside the class before it.

docs/README.md ("For writers") states these rules for the people who write chapters.
"""

from __future__ import annotations

import ast
import doctest
import functools
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ES = DOCS / "es"
INDEX = "README.md"

# Fenced blocks start at column 0: ```python ... ```
FENCE = re.compile(r"^```([^\n]*)\n.*?^```[ \t]*$", re.DOTALL | re.MULTILINE)
HEADING = re.compile(r"^(#{1,6})[ \t]", re.MULTILINE)
PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
# [text](target) or [text](target "title"); the text may hold `code` but no brackets.
LINK = re.compile(r"\[([^\[\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
# `code` spans: a link written inside one is an example, not a link.
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
PY_NAME = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`")
OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _md_files() -> list[Path]:
    """Every Markdown file under docs/ that exists now (chapters may still be on the way)."""
    return sorted(DOCS.rglob("*.md")) if DOCS.is_dir() else []


def _id(path: Path) -> str:
    return path.relative_to(DOCS).as_posix()


def doctest_blocks(text: str) -> list[tuple[int, str]]:
    """(0-based line of the first code line, code) of each ```python block starting with >>>."""
    return [(text.count("\n", 0, m.start(1)), m.group(1))
            for m in PYTHON_BLOCK.finditer(text) if m.group(1).lstrip().startswith(">>>")]


# A chapter whose examples need an optional extra says so in one line of its own:
# <!-- doctest requires: safetensors -->   (its examples are skipped when one is missing)
REQUIRES = re.compile(r"^<!-- doctest requires: ([\w., -]+) -->[ \t]*$", re.MULTILINE)


def required_modules(text: str) -> list[str]:
    return [name.strip() for m in REQUIRES.finditer(text) for name in m.group(1).split(",")
            if name.strip()]


@pytest.mark.parametrize("path", _md_files(), ids=_id)
def test_examples_run(path):
    text = path.read_text(encoding="utf-8")
    for module in required_modules(text):
        pytest.importorskip(module, reason=f"{_id(path)}'s examples need {module} (an extra)")
    blocks = doctest_blocks(text)
    if not blocks:
        assert path.name == INDEX, (
            f"{_id(path)} has no ```python block starting with >>>: every chapter shows "
            f"runnable examples (only the index README.md files may have none)")
        return
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    namespace: dict = {"__name__": f"docs.{path.stem}"}
    out: list[str] = []
    for lineno, code in blocks:
        test = parser.get_doctest(code, namespace, _id(path), str(path), lineno)
        test.globs = namespace  # get_doctest copies it; the blocks share one namespace
        runner.run(test, out=out.append, clear_globs=False)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(out)


def test_both_languages_have_the_same_chapters():
    english = {p.name for p in DOCS.glob("*.md")} if DOCS.is_dir() else set()
    spanish = {p.name for p in ES.glob("*.md")} if ES.is_dir() else set()
    assert english == spanish, (
        f"only in docs/: {sorted(english - spanish)}; only in docs/es/: "
        f"{sorted(spanish - english)}. Each chapter is written in both languages.")


def _code(source: str) -> str:
    """Python source as its tokens, without comments and with every string as STR."""
    strings = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    return " ".join("STR" if t.type in strings else t.string for t in tokens if t.type not in skip)


def _structure(text: str) -> dict:
    """What the two languages of a chapter share: the heading levels, the languages of the
    fenced blocks, and the code of every doctest example (comments and string contents,
    which may be translated, left out)."""
    parser = doctest.DocTestParser()
    return {
        "heading levels": [len(m.group(1)) for m in HEADING.finditer(FENCE.sub("", text))],
        "code blocks": [m.group(1).strip() for m in FENCE.finditer(text)],
        "doctest examples": [_code(ex.source) for _, block in doctest_blocks(text)
                             for ex in parser.get_examples(block)],
    }


def _pairs() -> list[str]:
    return sorted(p.name for p in DOCS.glob("*.md") if (ES / p.name).exists()) if ES.is_dir() else []


@pytest.mark.parametrize("name", _pairs())
def test_both_languages_have_the_same_structure(name):
    english = _structure((DOCS / name).read_text(encoding="utf-8"))
    spanish = _structure((ES / name).read_text(encoding="utf-8"))
    for what in english:
        en, es = english[what], spanish[what]
        if en != es:
            i = next((i for i, (a, b) in enumerate(zip(en, es)) if a != b), min(len(en), len(es)))
            pytest.fail(
                f"{name}: the {what} differ between docs/ ({len(en)}) and docs/es/ ({len(es)}); "
                f"first difference at #{i + 1}:\n  en: {en[i] if i < len(en) else '(none)'}\n"
                f"  es: {es[i] if i < len(es) else '(none)'}")


def _links(text: str):
    """(line, text, target) of each Markdown link outside code blocks and code spans."""
    prose = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)  # keep line numbers
    prose = CODE_SPAN.sub(lambda m: " " * len(m.group(0)) if "](" in m.group(0) else m.group(0),
                          prose)
    for m in LINK.finditer(prose):
        yield prose.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)


def _definitions(body: list[ast.stmt]):
    """(name, statement) for each def, class and assigned name in ``body`` (inside
    if/try blocks too, e.g. an optional import fallback)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield node.name, node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):  # a, b = ... assigns both
                    if isinstance(name, ast.Name):
                        yield name.id, node
        elif isinstance(node, (ast.If, ast.Try)):
            for part in (node.body, node.orelse, getattr(node, "finalbody", []),
                         *[h.body for h in getattr(node, "handlers", [])]):
                yield from _definitions(part)


def _module_parts(file: Path) -> list[str]:
    """``tinytorch/autograd/engine.py`` -> ['tinytorch', 'autograd', 'engine']."""
    parts = list(file.relative_to(ROOT).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


@functools.cache
def _parse(file: Path) -> ast.Module:
    return ast.parse(file.read_text(encoding="utf-8"))


def _missing_part(file: Path, dotted: str) -> str | None:
    """What ``file`` lacks of the dotted name (``'apply' in Function``), or None.

    The name may start with (the end of) the file's module path: ``tinytorch.viz``,
    ``viz.to_dot`` and ``to_dot`` all name things in tinytorch/viz.py.
    """
    body = _parse(file).body
    parts = dotted.split(".")
    module = _module_parts(file)
    for k in range(len(module)):  # the longest tail of the module path that prefixes it
        if parts[:len(module) - k] == module[k:]:
            parts = parts[len(module) - k:]
            break
    for i, part in enumerate(parts):
        found = dict(_definitions(body)).get(part)
        if found is None:
            return repr(part) + (f" in {'.'.join(parts[:i])}" if i else "")
        body = found.body if isinstance(found, ast.ClassDef) else []
    return None


@pytest.mark.parametrize("path", _md_files(), ids=_id)
def test_links_reach_the_code(path):
    problems = []
    for line, text, target in _links(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http(s), mailto: the web is not checked; #anchor: same page
        file = (path.parent / target.split("#")[0]).resolve()
        where = f"docs/{_id(path)}:{line}: [{text}]({target})"
        if ROOT not in file.parents:
            problems.append(f"{where}: points outside the repository")
        elif not file.exists():
            problems.append(f"{where}: {file.relative_to(ROOT)} does not exist")
        elif (name := PY_NAME.fullmatch(text.strip())) and file.suffix == ".py" and (
                name.group(1) != file.name):
            missing = _missing_part(file, name.group(1))
            if missing is not None:
                problems.append(f"{where}: {file.relative_to(ROOT)} defines no {missing} "
                                f"(as def, class or assignment)")
    assert not problems, "\n".join(problems)


def test_the_checks_themselves():
    """The name check and the parity check catch what they should (and only that)."""
    function_py = ROOT / "tinytorch" / "autograd" / "function.py"
    viz_py = ROOT / "tinytorch" / "viz.py"
    assert _missing_part(function_py, "Function.apply") is None
    assert _missing_part(function_py, "Function.aply") == "'aply' in Function"
    assert _missing_part(function_py, "apply") == "'apply'"  # a method, not module level
    assert _missing_part(viz_py, "tinytorch.viz.to_dot") is None
    assert _missing_part(viz_py, "viz") is None
    assert _missing_part(ROOT / "tinytorch" / "__init__.py", "Tensor") == "'Tensor'"  # imported
    text = "# T\n\n```python\n>>> x = f('a')  # c\n1\n\n```\n\n[`n`](p.py) `[a](b)`\n"
    same = "# T es\n\n```python\n>>> x = f('otro') # otro\n1\n\n```\n"
    assert _structure(text) == _structure(same)
    assert _structure(text) != _structure(same.replace("f(", "g("))
    assert _structure(text) != _structure("## T\n" + same[4:])
    assert [(text, target) for _, text, target in _links(text)] == [("`n`", "p.py")]


# -- the exercises' texts (exercises/eNN_*.py, exercises/texts.py describes the layout) -------

def _exercise_parts(text: str) -> dict:
    """What both languages of an exercise's text share: its sections, its indented blocks
    (formulas and code, which are not translated) and its number of hints."""
    heading = re.compile(r"^\S.*\n-{3,}[ \t]*$", re.MULTILINE)
    return {"sections": len(heading.findall(text)),
            "indented blocks": [b.rstrip() for b in
                                re.findall(r"(?:^    .*\n)+", text + "\n", re.MULTILINE)],
            "hints": len(re.findall(r"^\d+\. ", heading.split(text)[-1], re.MULTILINE))}


def _exercises():
    from exercises import EXERCISES

    return list(EXERCISES)


@pytest.mark.parametrize("ex", _exercises(), ids=lambda ex: ex.module)
def test_each_exercise_is_written_in_both_languages(ex):
    from exercises import texts

    doc = texts.docstring(ex.path)
    assert texts.title(doc, "en").startswith(f"Exercise {ex.number}: ")
    assert texts.title(doc, "es").startswith(f"Ejercicio {ex.number}: ")
    english, spanish = texts.language(doc, "en"), texts.language(doc, "es")
    assert english and spanish and english != spanish, f"{ex.module}: a part is missing"
    en, es = _exercise_parts(english), _exercise_parts(spanish)
    for what in en:
        assert en[what] == es[what], (
            f"{ex.module}: the {what} differ between the English and the Spanish text:\n"
            f"  en: {en[what]}\n  es: {es[what]}")
    assert f"    python -m exercises check {ex.number}" in en["indented blocks"]
    assert en["hints"] >= 3 and texts.hints(doc, "en") and texts.hints(doc, "es")


def test_the_exercise_parity_check_itself():
    text = "Intro\n\n    y = a * b\n\nHints\n-----\n1. one\n2. two\n"
    spanish = "Intro es\n\n    y = a * b\n\nPistas\n------\n1. uno\n2. dos\n"
    assert _exercise_parts(text) == _exercise_parts(spanish)
    assert _exercise_parts(text) != _exercise_parts(spanish.replace("a * b", "a + b"))
    assert _exercise_parts(text) != _exercise_parts(spanish.replace("2. dos\n", ""))
    assert _exercise_parts(text)["indented blocks"] == ["    y = a * b"]
