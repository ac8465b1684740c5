"""The README's examples run: every ```python block that starts with ``>>>`` is a doctest."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks():
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^```python[ \t]*\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    return [b for b in blocks if b.lstrip().startswith(">>>")]


def test_readme_has_doctests():
    assert _blocks(), "README.md has no ```python block starting with >>>"


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_block(index):
    source = _blocks()[index]
    parser = doctest.DocTestParser()
    test = parser.get_doctest(source, {}, f"README.md block {index}", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    out = []
    runner.run(test, out=out.append)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, "".join(out)
