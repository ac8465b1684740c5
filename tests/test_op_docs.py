"""Chapter 2's op tables (docs/02-derivatives.md and its Spanish twin) are generated from
the ops' source by docs/make_op_table.py. They must be up to date, list exactly the op
classes that tests/test_op_listing.py enumerates, and show a forward and a derivation for
every differentiable op."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from test_op_listing import NOT_DIFFERENTIABLE, op_classes

ROOT = Path(__file__).resolve().parent.parent


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_op_table", ROOT / "docs" / "make_op_table.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def ops():
    return gen.collect()


def test_tables_are_up_to_date(ops):
    stale = [chapter for chapter, (now, want) in gen.expected(ops).items() if now != want]
    assert not stale, (f"op tables out of date in {stale}: run `python docs/make_op_table.py` "
                       f"(it rewrites only the part between the op-table markers)")


def test_tables_list_every_op(ops):
    documented = {op.name for op in ops if op.module.startswith("tinytorch.ops.")}
    assert documented == set(op_classes())
    assert {op.name for op in ops if not op.differentiable} == NOT_DIFFERENTIABLE


def test_every_differentiable_op_has_forward_and_derivation(ops):
    missing = [f"{op.name} ({op.path}): " + ", ".join(
        what for what, ok in (("class docstring", op.forward),
                              ("derivation comment at the top of backward", op.backward)) if not ok)
               for op in ops if op.differentiable and not (op.forward and op.backward)]
    assert not missing, "ops without a table entry: " + "; ".join(missing)


def test_check_mode_reports_a_stale_table(ops, tmp_path, monkeypatch):
    """``--check`` exits 1 on an edited table and rewrites nothing; a rewrite fixes it."""
    chapter = "docs/02-derivatives.md"
    text = (ROOT / chapter).read_text(encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / chapter).write_text(text.replace("| `dy/da = b, dy/db = a` |", "| `?` |"),
                                    encoding="utf-8")
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    monkeypatch.setattr(gen, "CHAPTERS", {chapter: "en"})
    monkeypatch.setattr(gen, "collect", lambda: ops)  # read from the real checkout
    assert gen.main(["--check"]) == 1
    assert "`?`" in (tmp_path / chapter).read_text(encoding="utf-8")
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    assert (tmp_path / chapter).read_text(encoding="utf-8") == text

