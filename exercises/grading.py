"""How an answer is graded: random cases, comparisons that say what is wrong, the engine.

A check (exercises/checks/) calls the student's functions on random inputs and raises
``Mistake`` at the first thing that is wrong, in the student's words: which function,
which inputs (their shapes), what came back and what was expected, and, when the answer
equals a *typical wrong answer* that the check computed next to the right one, a hint
about that mistake ("your result equals grad_output * y: the subtraction term is
missing"). Mistakes are diagnosed by computing the wrong answers, never by reading code.

Cases come from ``hypothesis`` when it is installed (it shrinks a failing case to a small
one before reporting it) and from NumPy's random generator otherwise, so grading works
with NumPy alone. Both are seeded: the same answer always gets the same report.

Every message is written twice, English and Spanish (``Text``).
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field

import numpy as np

#: Random cases per check; ``TINYTORCH_EXERCISES_EXAMPLES`` or ``grade(examples=...)``.
DEFAULT_EXAMPLES = 20


class Text:
    """One message in English and in Spanish; ``text("es")`` picks one."""

    __slots__ = ("en", "es")

    def __init__(self, en: str, es: str):
        self.en, self.es = en, es

    def __call__(self, lang: str = "en") -> str:
        return self.es if lang == "es" else self.en

    def __add__(self, other: Text) -> Text:
        return Text(self.en + other.en, self.es + other.es)

    def __repr__(self) -> str:
        return f"Text({self.en!r}, {self.es!r})"


class Mistake(Exception):
    """What is wrong with an answer (``what``) and, for a known mistake, a ``hint``."""

    def __init__(self, what: Text, hint: Text | None = None):
        super().__init__(what.en)
        self.what, self.hint = what, hint


class NotStarted(Exception):
    """A student's function still raises NotImplementedError."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class Crash(Exception):
    """A student's function raised an exception: its type, message and line."""

    def __init__(self, name: str, error: BaseException, where: str):
        super().__init__(f"{name}: {type(error).__name__}: {error}")
        self.name, self.error, self.where = name, error, where


@dataclass
class Result:
    """The outcome of grading one exercise."""

    number: int
    status: str                       # "passed", "failing" or "not started"
    what: Text | None = None          # what is wrong (when not passed)
    hint: Text | None = None          # about a known mistake, when it was recognised
    checked: list = field(default_factory=list)  # Texts: what a pass verified

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def message(self, lang: str = "en") -> str:
        """What is wrong and the hint (or what was checked, on a pass), as lines."""
        if self.passed:
            return "\n".join("- " + t(lang) for t in self.checked)
        lines = [self.what(lang)] if self.what is not None else []
        if self.hint is not None:
            lines.append(("Pista: " if lang == "es" else "Hint: ") + self.hint(lang))
        return "\n".join(lines)


# -- the student's functions -------------------------------------------------------------

class Student:
    """The student's functions, called through wrappers that tell apart a blank exercise
    (NotImplementedError raised in the student's own code), a crash and an answer."""

    def __init__(self, functions: dict, where: str):
        self.functions = functions
        self.where = where          # the file, for messages
        self.answered = set()       # names of the functions that returned something

    def __getattr__(self, name: str):
        fn = self.functions.get(name)
        if fn is None:
            raise Mistake(Text(
                f"{self.where} has no function {name}: keep the name and the signature the "
                f"exercise gives.",
                f"{self.where} no tiene la función {name}: conserva el nombre y la firma que "
                f"da el ejercicio."))

        def call(*args, **kwargs):
            try:
                out = fn(*args, **kwargs)
            except (Mistake, NotStarted, Crash):
                raise
            except NotImplementedError as e:
                if _raised_in(e, fn):
                    raise NotStarted(name) from None
                raise Crash(name, e, _student_line(e, fn)) from None
            except Exception as e:  # noqa: BLE001 (any error of the student's code is reported)
                raise Crash(name, e, _student_line(e, fn)) from None
            self.answered.add(name)
            return out

        call.__name__ = name
        return call


def _raised_in(error: BaseException, fn) -> bool:
    """Was ``error`` raised by a line of the file that defines ``fn``?"""
    code = getattr(fn, "__code__", None)
    frames = traceback.extract_tb(error.__traceback__)
    return code is None or (bool(frames) and frames[-1].filename == code.co_filename)


def _student_line(error: BaseException, fn) -> str:
    """'e04_softmax_backward.py, line 52: return g - y' for the last line of the student's
    file that the error went through ('' when none did)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    mine = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == code.co_filename]
    if not mine:
        return ""
    f = mine[-1]
    return f"{os.path.basename(f.filename)}, line {f.lineno}: {(f.line or '').strip()}"


# -- drawing cases -----------------------------------------------------------------------

class _Draw:
    """What a check draws a case from; the two subclasses differ only in ``integer``."""

    def integer(self, low: int, high: int) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def boolean(self) -> bool:
        return bool(self.integer(0, 1))

    def choice(self, options):
        options = list(options)
        return options[self.integer(0, len(options) - 1)]

    def rng(self) -> np.random.Generator:
        """A generator seeded by one drawn number (which shrinks to 0, not to odd floats)
        and by how many were made before in this case, so that arrays drawn with the same
        number still differ."""
        self.made = getattr(self, "made", 0) + 1
        return np.random.default_rng([self.integer(0, 2**32 - 1), self.made])

    def array(self, shape, low: float = -2.0, high: float = 2.0) -> np.ndarray:
        """float64 values in [low, high), at least 0.05 away from 0 (no kinks, no ties)."""
        x = self.rng().uniform(low, high, size=tuple(shape))
        return np.where(np.abs(x) < 0.05, np.copysign(0.05, x) + x, x)

    def shape(self, min_dims: int = 1, max_dims: int = 3, max_side: int = 4) -> tuple:
        return tuple(self.integer(1, max_side) for _ in range(self.integer(min_dims, max_dims)))

    def broadcasts_to(self, shape) -> tuple:
        """A shape that broadcasts to ``shape``: leading dims dropped, some sizes set to 1."""
        kept = tuple(shape)[self.integer(0, len(shape)):]
        return tuple(1 if self.boolean() else n for n in kept)


class _HypothesisDraw(_Draw):
    def __init__(self, data):
        self.data = data

    def integer(self, low, high):
        from hypothesis import strategies as st  # noqa: PLC0415
        return self.data.draw(st.integers(low, high))


class _RandomDraw(_Draw):
    def __init__(self, seed: int):
        self.generator = np.random.default_rng(seed)

    def integer(self, low, high):
        return int(self.generator.integers(low, high + 1))


def hypothesis_installed() -> bool:
    try:
        import hypothesis  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def for_cases(check_one, examples: int) -> None:
    """Run ``check_one(draw)`` on ``examples`` random cases; the first failure propagates
    (with hypothesis, after shrinking it to a small case)."""
    if examples < 1:
        return
    if not hypothesis_installed():
        for seed in range(examples):
            check_one(_RandomDraw(seed))
        return
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: PLC0415
    from hypothesis import strategies as st  # noqa: PLC0415

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              verbosity=Verbosity.quiet, phases=(Phase.explicit, Phase.generate, Phase.shrink))
    @given(st.data())
    def run(data):
        check_one(_HypothesisDraw(data))

    try:
        run()
    except BaseExceptionGroup as group:  # hypothesis' "flaky" report: the first inner error
        raise _first(group) from None


def _first(group):
    while isinstance(group, BaseExceptionGroup):
        group = group.exceptions[0]
    return group


if sys.version_info < (3, 11):  # pragma: no cover - Python 3.10 has no exception groups
    class BaseExceptionGroup(Exception):  # noqa: A001
        exceptions = ()


# -- describing and comparing ------------------------------------------------------------

def shape_of(x) -> tuple:
    return tuple(np.shape(x))


def describe(**inputs) -> Text:
    """'a of shape (2, 3), dim=-1' / 'a de forma (2, 3), dim=-1' for the inputs of a case."""
    en, es = [], []
    for name, value in inputs.items():
        if isinstance(value, np.ndarray):
            en.append(f"{name} of shape {value.shape}")
            es.append(f"{name} de forma {value.shape}")
        elif isinstance(value, (float, np.floating)):
            en.append(f"{name}={float(value):.4g}")
            es.append(f"{name}={float(value):.4g}")
        else:
            en.append(f"{name}={value!r}")
            es.append(f"{name}={value!r}")
    return Text(", ".join(en), ", ".join(es))


def as_array(value, name, case: Text) -> np.ndarray:
    """The student's result as a float64 NumPy array (a tinytorch Tensor is accepted)."""
    name = _text(name)
    if value is None:
        raise Mistake(Text(
            f"{name.en} is None (for {case.en}): did you forget a return statement?",
            f"{name.es} es None (con {case.es}): ¿olvidaste un return?"))
    array = getattr(value, "array", value)  # a tinytorch Tensor holds its array here
    try:
        return np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mistake(Text(
            f"{name.en} is a {type(value).__name__} (for {case.en}); expected an array.",
            f"{name.es} es un {type(value).__name__} (con {case.es}); se esperaba un "
            f"array.")) from None


def close(a, b, atol: float = 1e-6, rtol: float = 1e-5) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.allclose(a, b, atol=atol, rtol=rtol, equal_nan=False))


def compare(name, got, expected, case: Text, variants=(), atol: float = 1e-6,
            rtol: float = 1e-5) -> np.ndarray:
    """Raise a Mistake unless ``got`` equals ``expected`` (shape, then values).

    ``name``: what is compared (a str, or a Text when it needs translating).
    ``variants``: (array, hint) pairs, typical wrong answers computed for this case; when
    ``got`` equals one of them, the Mistake carries its hint. Returns ``got`` as an array.
    """
    name = _text(name)
    got = as_array(got, name, case)
    expected = np.asarray(expected, dtype=np.float64)
    hint = _joined([h for wrong, h in variants
                    if not close(expected, wrong, atol, rtol) and close(got, wrong, atol, rtol)])
    if hint is not None:
        raise Mistake(_values_text(name, got, expected, case), hint)
    if got.shape != expected.shape:
        raise Mistake(*_shape_text(name, got.shape, expected.shape, case))
    if not close(got, expected, atol, rtol):
        raise Mistake(_values_text(name, got, expected, case))
    return got


def _text(name) -> Text:
    return name if isinstance(name, Text) else Text(name, name)


def _joined(hints: list) -> Text | None:
    """One hint, or several joined by "Or:" when the case cannot tell the mistakes apart."""
    unique = []
    for h in hints:
        if all(h is not u for u in unique):
            unique.append(h)
    if not unique:
        return None
    joined = unique[0]
    for h in unique[1:]:
        joined = joined + Text(" Or: ", " O bien: ") + h
    return joined


def _values_text(name, got, expected, case) -> Text:
    if got.shape != expected.shape:
        return _shape_text(name, got.shape, expected.shape, case)[0]
    if not np.all(np.isfinite(got)):
        return Text(f"{name.en} gives NaN or inf for {case.en}.",
                    f"{name.es} da NaN o inf con {case.es}.")
    diff = np.abs(got - expected)
    k = np.unravel_index(int(np.argmax(diff)), got.shape) if got.ndim else ()
    at = f" at {list(int(i) for i in k)}" if got.ndim else ""
    en_at = at
    es_at = at.replace(" at ", " en ")
    return Text(
        f"{name.en} gives wrong values for {case.en}: the largest difference is "
        f"{float(diff[k]):.4g}{en_at} (yours {float(got[k]):.6g}, expected "
        f"{float(expected[k]):.6g}).",
        f"{name.es} da valores incorrectos con {case.es}: la mayor diferencia es "
        f"{float(diff[k]):.4g}{es_at} (el tuyo {float(got[k]):.6g}, el esperado "
        f"{float(expected[k]):.6g}).")


def _broadcasts(small: tuple, big: tuple) -> bool:
    try:
        return np.broadcast_shapes(small, big) == big
    except ValueError:
        return False


def _shape_text(name, got: tuple, expected: tuple, case: Text):
    """(what, hint) for a result of the wrong shape, with the broadcast diagnosis."""
    what = Text(f"{name.en} has shape {got}; expected {expected} (for {case.en}).",
                f"{name.es} tiene forma {got}; se esperaba {expected} (con {case.es}).")
    if _broadcasts(expected, got):
        return what, Text(
            "your result has the broadcast shape. Did you sum over the broadcast dimension? "
            "An input that broadcasting copied along a dimension gets the sum of the "
            "gradients of all its copies: sum over the leading dimensions it lacks and, with "
            "keepdims=True, over those where it has size 1.",
            "tu resultado tiene la forma difundida (broadcast). ¿Sumaste sobre la dimensión "
            "difundida? Una entrada que el broadcasting copió a lo largo de una dimensión "
            "recibe la suma de los gradientes de todas sus copias: suma sobre las dimensiones "
            "iniciales que le faltan y, con keepdims=True, sobre aquellas donde tiene "
            "tamaño 1.")
    if _broadcasts(got, expected):
        return what, Text(
            "you summed over a dimension the input really has. Sum only over the dimensions "
            "that broadcasting added or stretched from size 1 (and keep those with "
            "keepdims=True).",
            "sumaste sobre una dimensión que la entrada sí tiene. Suma solo sobre las "
            "dimensiones que el broadcasting añadió o estiró desde tamaño 1 (y consérvalas "
            "con keepdims=True).")
    return what, None


def equal(name, got, expected, case: Text, variants=()) -> None:
    """Like ``compare`` for exact Python values (token lists, pairs, dicts)."""
    name = _text(name)
    hint = _joined([h for wrong, h in variants if wrong != expected and got == wrong])
    if hint is not None or got != expected:
        raise Mistake(Text(f"{name.en}: {got!r} for {case.en}; expected {expected!r}.",
                           f"{name.es}: {got!r} con {case.es}; se esperaba {expected!r}."),
                      hint)


# -- the engine and PyTorch -----------------------------------------------------------------

def engine_gradcheck(fn, inputs: tuple, names: tuple, what: Text) -> None:
    """tinytorch's own gradcheck (float64 central differences, a random upstream gradient)
    of ``fn`` at ``inputs``; a disagreement becomes a Mistake naming the input."""
    from tinytorch.autograd.gradcheck import GradcheckError, gradcheck  # noqa: PLC0415

    try:
        gradcheck(fn, inputs)
    except GradcheckError as e:
        lines = str(e).splitlines()
        i = int(lines[0].split("input ")[1].split()[0])
        detail = "\n".join("  " + line.strip() for line in lines[1:3])
        raise Mistake(Text(
            f"gradcheck in the engine ({what.en}): the gradient for {names[i]} (shape "
            f"{tuple(inputs[i].shape)}) disagrees with finite differences:\n{detail}",
            f"gradcheck en el motor ({what.es}): el gradiente de {names[i]} (forma "
            f"{tuple(inputs[i].shape)}) no coincide con las diferencias finitas:\n"
            f"{detail}")) from None


_TORCH = []


def torch_or_none():
    """PyTorch when it is installed (imported once), else None: its checks are skipped."""
    if not _TORCH:
        try:
            import torch  # noqa: PLC0415
        except ImportError:
            torch = None
        _TORCH.append(torch)
    return _TORCH[0]


def examples_from_env() -> int:
    value = os.environ.get("TINYTORCH_EXERCISES_EXAMPLES", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_EXAMPLES


def student_op(name: str, forward, backward, broadcasts: bool = False):
    """A tinytorch Function (an array-level op, like every op of the library) whose
    forward is ``forward(*arrays) -> (output, saved)`` and whose backward is the student's
    ``backward(grad_output, *saved)``: the student's answer plugged into the engine."""
    from tinytorch.autograd.function import Function  # noqa: PLC0415

    def fwd(self, *arrays):
        out, saved = forward(*arrays)
        self.save(*saved)
        return out

    def bwd(self, grad):
        out = backward(grad, *self.saved)
        return tuple(out) if isinstance(out, list) else out  # [ga, gb] is accepted too

    return type(name, (Function,), {"forward": fwd, "backward": bwd, "broadcasts": broadcasts})


def ignored_upstream(reference, grad_output, *args):
    """The typical answer that forgets the upstream gradient: the reference for ones."""
    return reference(np.ones_like(grad_output), *args)


#: The hint for an answer that equals the gradient for an upstream gradient of ones.
IGNORED_UPSTREAM = Text(
    "your result is the gradient for grad_output = 1 everywhere: you ignored grad_output. "
    "The chain rule multiplies the local derivative by the gradient that arrives from "
    "above: dL/dx = dL/dy * dy/dx.",
    "tu resultado es el gradiente para grad_output = 1 en todas partes: ignoraste "
    "grad_output. La regla de la cadena multiplica la derivada local por el gradiente que "
    "llega de arriba: dL/dx = dL/dy * dy/dx.")
