"""The graded exercises (exercises/): every grader fails the blank file and passes the
library's own solution, recognises the typical wrong answers with their hints, and the
command ``python -m exercises`` lists, checks, hints and records progress.

- **Both ways.** Each exercise file as shipped is "not started" (its functions raise
  NotImplementedError); with the library's answers plugged in (exercises/solutions.py)
  it passes, with hypothesis and without it (NumPy's generator then draws the cases), and
  so do answers written from the exercise's text alone (tests/exercise_answers.py).
- **Typical wrong answers** (tests/exercise_mistakes.py): softmax's backward without the
  subtraction, layer norm without the mean terms, attention without the scale and many
  more fail, each with the hint written for it.
- **The command**: list, check (exit 0 / 1), hint, solution (its code only after a pass),
  --file, --lang es, unknown exercises (exit 2, one line), the progress file.
- **The files**: each defines exactly the functions to write, blank, with a docstring in
  both languages (tests/test_docs.py checks that the two languages of each exercise's text
  match, as it does for the chapters).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from exercise_mistakes import MISTAKES, hint_matches

from exercises import EXERCISES, grade, grading, progress
from exercises.cli import list_exercises, main
from exercises.solutions import solution_functions

ROOT = Path(__file__).resolve().parent.parent
NUMBERS = [ex.number for ex in EXERCISES]
FEW = 4  # random cases per check: enough to catch every typical mistake below


@pytest.fixture(autouse=True)
def _progress_in_tmp(tmp_path, monkeypatch):
    """Every test records its progress in its own folder, never in ~/.cache."""
    monkeypatch.setenv("TINYTORCH_EXERCISES_DIR", str(tmp_path / "state"))


# -- both ways ----------------------------------------------------------------------------

@pytest.mark.parametrize("number", NUMBERS)
def test_the_blank_exercise_fails(number):
    result = grade(number, examples=FEW)
    assert result.status == "not started", result.message()
    assert "NotImplementedError" in result.message()
    assert not result.passed


@pytest.mark.parametrize("number", NUMBERS)
def test_the_library_solution_passes(number):
    result = grade(number, functions=solution_functions(number), examples=FEW)
    assert result.passed, result.message()
    assert result.checked and all(t.en and t.es for t in result.checked)


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.module)
def test_answers_written_from_the_texts_alone_pass(ex):
    """tests/exercise_answers.py solves each exercise from its text, without the library."""
    import exercise_answers

    answers = {name: getattr(exercise_answers, name) for name in ex.functions}
    result = grade(ex.number, functions=answers, examples=2 * FEW)
    assert result.passed, result.message()


@pytest.mark.parametrize("number", NUMBERS)
def test_without_hypothesis_the_cases_come_from_numpy(number, monkeypatch):
    monkeypatch.setattr(grading, "hypothesis_installed", lambda: False)
    assert grade(number, functions=solution_functions(number), examples=FEW).passed
    assert grade(number, examples=FEW).status == "not started"


def test_a_typical_mistake_is_caught_without_hypothesis_too(monkeypatch):
    monkeypatch.setattr(grading, "hypothesis_installed", lambda: False)
    number, wrong, hint = next(m for m in MISTAKES if "softmax_backward" in m[1])
    result = grade(number, functions={**solution_functions(number), **wrong}, examples=FEW)
    assert result.status == "failing" and hint_matches(result.hint, hint)


# -- typical wrong answers ------------------------------------------------------------------

def _mistake_id(mistake):
    number, wrong, _ = mistake
    return f"{number}-{next(iter(wrong.values())).__name__}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=_mistake_id)
def test_a_typical_mistake_fails_with_its_hint(mistake):
    number, wrong, hint = mistake
    result = grade(number, functions={**solution_functions(number), **wrong}, examples=FEW)
    assert result.status == "failing"
    assert hint_matches(result.hint, hint), result.message()
    assert result.what.en and result.what.es
    assert result.hint.es != result.hint.en  # the Spanish text is written, not copied


def test_the_three_mistakes_the_issue_names():
    """Softmax without the subtraction, layer norm without the mean terms, attention
    without the scale: each says what is missing."""
    expected = {"softmax_without_subtraction": "the subtraction term is missing",
                "layer_norm_without_means": "the two mean terms are missing",
                "attention_unscaled": "without the scale"}
    for number, wrong, _ in MISTAKES:
        name = next(iter(wrong.values())).__name__
        if name in expected:
            result = grade(number, functions={**solution_functions(number), **wrong},
                           examples=FEW)
            assert expected.pop(name) in result.hint.en, result.message()
    assert not expected


def test_a_gradient_in_the_broadcast_shape_asks_about_the_sum():
    wrong = {"broadcast_mul_backward": lambda g, a, b: (g * b, g * a)}
    result = grade(2, functions={**solution_functions(2), **wrong}, examples=FEW)
    what = result.message()
    assert "the gradient for" in what and "has shape" in what
    assert "Did you sum over the broadcast dimension?" in what
    assert "¿Sumaste sobre la dimensión difundida?" in result.message("es")


def test_half_written_crashing_and_missing_functions():
    answers = solution_functions(1)

    def blank(grad_output, a, b, y):
        raise NotImplementedError

    result = grade(1, functions={**answers, "pow_backward": blank}, examples=FEW)
    assert result.status == "failing"
    assert "pow_backward is not written yet" in result.message()

    def crashes(grad_output, y):
        return grad_output @ y.reshape(7, 7)

    result = grade(1, functions={**answers, "exp_backward": crashes}, examples=FEW)
    assert result.status == "failing"
    assert "exp_backward raised ValueError" in result.message()
    assert "test_exercises.py, line" in result.message()  # the student's line

    result = grade(1, functions={"mul_backward": answers["mul_backward"]}, examples=FEW)
    assert "has no function pow_backward" in result.message()


def test_a_function_that_returns_nothing():
    result = grade(4, functions={"softmax_backward": lambda g, y, dim: None}, examples=FEW)
    assert "forget a return statement" in result.message()


def test_gradcheck_in_the_engine_names_the_input():
    """tinytorch's gradcheck of a student's op: a disagreement names the input."""
    import numpy as np

    import tinytorch as tt

    op = grading.student_op("MulByStudent", lambda a, b: (a * b, (a, b)),
                            lambda g, a, b: (g * a, g * b))  # swapped
    a = tt.tensor(np.array([0.5, 1.5]), requires_grad=True)
    b = tt.tensor(np.array([-1.0, 2.0]), requires_grad=True)
    with pytest.raises(grading.Mistake) as caught:
        grading.engine_gradcheck(lambda a, b: op.apply(a, b), (a, b), ("a", "b"),
                                 grading.Text("your mul", "tu mul"))
    assert "gradcheck in the engine (your mul): the gradient for a" in caught.value.what.en
    assert "numeric" in caught.value.what.en and "el gradiente de a" in caught.value.what.es


def test_gradients_as_a_list_are_accepted():
    answers = solution_functions(1)
    as_list = {name: (lambda f: lambda *args: list(f(*args)))(f) for name, f in answers.items()
               if name != "exp_backward"}
    assert grade(1, functions={**answers, **as_list}, examples=FEW).passed


def test_grading_a_copy_of_the_file(tmp_path):
    good = tmp_path / "my_e04.py"
    good.write_text("from exercises.solutions import softmax_backward  # noqa: F401\n")
    assert grade(4, file=good, examples=FEW).passed
    broken = tmp_path / "broken.py"
    broken.write_text("def softmax_backward(grad_output, y, dim)\n    return y\n")
    result = grade(4, file=broken, examples=FEW)
    assert result.status == "failing" and "does not parse" in result.message()
    assert "line 1" in result.message()


def test_the_same_answer_gets_the_same_report():
    wrong = {"softmax_backward": lambda g, y, dim: g * y}
    first, second = (grade(4, functions=wrong, examples=FEW).message() for _ in range(2))
    assert first == second


# -- the command -------------------------------------------------------------------------------

def test_list_shows_every_exercise_and_the_progress(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for ex in EXERCISES:
        assert ex.title.en in out
    assert "0 of 12 passed" in out and "python -m exercises check 1" in out
    progress.save(1, "passed")
    progress.save(2, "failing")
    table = list_exercises("es")
    assert "1 de 12 superados" in table and "falla" in table and "sin empezar" in table
    assert "check 2" in table  # the next one: the first not passed


def test_check_exit_status_and_progress(tmp_path, capsys):
    assert main(["check", "4"]) == 1
    out = capsys.readouterr().out
    assert "NOT STARTED" in out
    assert progress.status(4) == "not started"
    good = tmp_path / "mine.py"
    good.write_text("from exercises.solutions import softmax_backward  # noqa: F401\n")
    assert main(["check", "softmax_backward", "--file", str(good)]) == 0
    out = capsys.readouterr().out
    assert "PASSED" in out and "tinytorch/ops/softmax.py (Softmax.backward)" in out
    record = json.loads((tmp_path / "state" / "progress.json").read_text())
    assert record["4"]["status"] == "passed"
    wrong = tmp_path / "wrong.py"
    wrong.write_text("def softmax_backward(grad_output, y, dim):\n    return grad_output * y\n")
    assert main(["--lang", "es", "check", "4", "--file", str(wrong)]) == 1
    out = capsys.readouterr().out
    assert "FALLA" in out and "Pista: tu resultado es grad_output * y" in out
    assert progress.status(4) == "failing"


def test_user_mistakes_are_one_line_and_exit_2(capsys):
    for argv in (["check", "13"], ["hint", "softmax"], ["solution", "0"],
                 ["check", "4", "--file", "no/such/file.py"], ["check", "all", "--file", "x"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_hint_prints_the_exercise_hints(capsys):
    assert main(["hint", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Exercise 4: softmax's backward") and "1. grad_output * y" in out
    assert main(["hint", "4", "--lang", "es"]) == 0
    assert "Ejercicio 4" in capsys.readouterr().out


def test_solution_shows_the_code_only_after_a_pass(capsys):
    assert main(["solution", "4"]) == 0
    out = capsys.readouterr().out
    assert "tinytorch/ops/softmax.py (Softmax.backward)" in out and "def backward" not in out
    assert main(["solution", "4", "--force"]) == 0
    assert "def backward(self, g):" in capsys.readouterr().out
    progress.save(6, "passed")
    assert main(["solution", "6"]) == 0
    assert "mean_h" in capsys.readouterr().out  # LayerNorm.backward's code


def test_every_solution_location_names_real_code():
    from exercises.cli import _source

    for ex in EXERCISES:
        for file, name in ex.solution:
            assert (ROOT / file).is_file(), file
            assert "def " in _source(file, name), (file, name)


def test_an_unreadable_progress_file_counts_as_empty(tmp_path):
    path = progress.progress_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert progress.load() == {}
    progress.save(3, "passed")
    assert progress.status(3) == "passed"


def test_the_progress_file_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYTORCH_EXERCISES_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert progress.progress_file() == tmp_path / "cache" / "tinytorch-exercises" / \
        "progress.json"


def test_python_dash_m_exercises(tmp_path):
    env = {"TINYTORCH_EXERCISES_DIR": str(tmp_path), "PATH": "", "LANG": "es_ES.UTF-8",
           "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "exercises", "list"], capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "sin empezar" in run.stdout  # the language follows $LANG
    run = subprocess.run([sys.executable, "-m", "exercises", "check", "99"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert run.returncode == 2 and run.stderr.startswith("error: no exercise '99'")
    assert "Traceback" not in run.stderr


# -- the texts -------------------------------------------------------------------------------

@pytest.mark.parametrize("ex", EXERCISES, ids=lambda ex: ex.module)
def test_each_function_to_write_is_blank_and_bilingual(ex):
    import ast

    tree = ast.parse(ex.path.read_text(encoding="utf-8"))
    defined = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert set(defined) == set(ex.functions)
    for node in defined.values():
        doc = ast.get_docstring(node)
        assert doc and "\nES: " in f"\n{doc}", f"{node.name}: an English line and an ES: line"
        assert isinstance(node.body[-1], ast.Raise)  # raise NotImplementedError
