"""Issue 16's ops beyond the op table (tests/op_table_more.py holds their gradient rows):
the ones without a gradient (argsort, nonzero, where(cond), isclose, multinomial, the
indices of sort/topk with ties and NaN), dtypes, in-place forms, and errors, each
compared with PyTorch 2.13."""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch
from tinytorch.tensor import version_cell

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)


def _both(fn, *arrays):
    """fn run on tinytorch and on torch with the same arrays: two lists of NumPy arrays."""
    out = []
    for mod in (tinytorch, torch):
        res = fn(mod, *(mod.tensor(a) for a in arrays))
        res = res if isinstance(res, (tuple, list)) else (res,)
        out.append([np.asarray(r.numpy() if hasattr(r, "numpy") else r) for r in res])
    return out


def _same(fn, *arrays):
    ours, theirs = _both(fn, *arrays)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
        np.testing.assert_array_equal(a, b)


def _ties(shape, nan=False):
    x = RNG.integers(-2, 3, size=shape).astype(np.float64)
    if nan and x.size:
        x.flat[RNG.integers(0, x.size, size=max(1, x.size // 4))] = np.nan
    return x


SHAPES = [(), (5,), (3, 4), (2, 3, 4), (4, 0)]


# -- sort, argsort, topk: indices ------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("descending", [False, True])
def test_argsort_and_stable_sort_match_pytorch_with_ties_and_nan(shape, descending):
    x = _ties(shape, nan=True)
    for d in range(-max(len(shape), 1), max(len(shape), 1)):
        _same(lambda m, t: m.argsort(t, dim=d, descending=descending, stable=True), x)
        _same(lambda m, t: tuple(m.sort(t, dim=d, descending=descending, stable=True)), x)
        _same(lambda m, t: t.argsort(dim=d, descending=descending, stable=True), x)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float32"])
def test_sort_and_topk_keep_the_dtype(dtype):
    x = RNG.integers(0, 5, size=(3, 6)).astype(dtype)
    _same(lambda m, t: tuple(m.sort(t, descending=True, stable=True)), x)
    if dtype != "bool":  # PyTorch has no topk for bools
        distinct = RNG.permutation(18).reshape(3, 6).astype(dtype)
        _same(lambda m, t: tuple(m.topk(t, 4)), distinct)


def test_topk_with_nan_and_zero_d():
    x = np.array([3.0, np.nan, 1.0, 2.0])
    _same(lambda m, t: tuple(m.topk(t, 2)), x)
    _same(lambda m, t: tuple(m.topk(t, 2, largest=False)), x)
    for k in (0, 1):
        _same(lambda m, t: tuple(m.topk(t, k)), np.array(5.0))
    _same(lambda m, t: tuple(m.sort(t)), np.array(5.0))


def test_topk_unsorted_returns_the_same_set():
    x = RNG.permutation(20).astype(np.float64).reshape(4, 5)
    ours, theirs = _both(lambda m, t: tuple(m.topk(t, 3, dim=1, sorted=False)), x)
    np.testing.assert_array_equal(np.sort(ours[0], 1), np.sort(theirs[0], 1))
    np.testing.assert_array_equal(np.sort(ours[1], 1), np.sort(theirs[1], 1))


def test_sort_returns_named_results():
    x = tinytorch.tensor([3.0, 1.0, 2.0])
    values, indices = x.sort()
    assert x.sort().values is not None and x.topk(1).indices.tolist() == [0]
    assert indices.tolist() == [1, 2, 0] and values.tolist() == [1.0, 2.0, 3.0]
    assert not indices.requires_grad


# -- nonzero, where(cond), masked_select ------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_nonzero_and_where_condition(shape):
    x = _ties(shape, nan=True)
    _same(lambda m, t: m.nonzero(t), x)
    _same(lambda m, t: m.nonzero(t, as_tuple=True), x)
    _same(lambda m, t: t.nonzero(), x)
    _same(lambda m, t: m.where(t != 0), x)
    _same(lambda m, t: m.where(t), x)


def test_nonzero_of_a_zero_d_tensor():
    for v in (0.0, 3.0):
        _same(lambda m, t: m.nonzero(t), np.array(v))
        _same(lambda m, t: m.nonzero(t, as_tuple=True), np.array(v))


# -- isclose / allclose -----------------------------------------------------------------------

@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_allclose(equal_nan):
    a = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 0.0, 1e-9])
    b = np.array([1.0 + 1e-6, 2.1, np.nan, np.inf, np.inf, 1e-9, 0.0])
    for rtol, atol in [(1e-5, 1e-8), (0.1, 0.0), (0.0, 1e-8)]:
        _same(lambda m, s, t: m.isclose(s, t, rtol, atol, equal_nan), a, b)
        _same(lambda m, s, t: s.isclose(t, rtol=rtol, atol=atol, equal_nan=equal_nan), a, b)
        for n in (1, 7):
            assert tinytorch.allclose(tinytorch.tensor(a[:n]), tinytorch.tensor(b[:n]), rtol, atol,
                                      equal_nan) == torch.allclose(
                torch.tensor(a[:n]), torch.tensor(b[:n]), rtol, atol, equal_nan)
    _same(lambda m, s, t: m.isclose(s, t), a, b[:1])  # broadcasting
    _same(lambda m, s, t: m.isclose(s, t, atol=1.5), np.array([1, 2]), np.array([1, 4]))
    _same(lambda m, s, t: m.isclose(s, t), np.array([True, False]), np.array([True, True]))
    assert type(tinytorch.tensor([1.0]).allclose(tinytorch.tensor([1.0]))) is bool


# -- multinomial ---------------------------------------------------------------------------

def test_multinomial_shapes_dtype_and_seed():
    p = tinytorch.tensor([[0.1, 0.0, 0.5, 0.4], [1.0, 1.0, 0.0, 2.0]])
    tinytorch.manual_seed(3)
    a = tinytorch.multinomial(p, 3)
    tinytorch.manual_seed(3)
    b = p.multinomial(3)
    assert a.shape == (2, 3) and a.dtype == tinytorch.int64 and a.tolist() == b.tolist()
    assert tinytorch.multinomial(p[0], 5, replacement=True).shape == (5,)
    g1 = tinytorch.Generator().manual_seed(7)
    g2 = tinytorch.Generator().manual_seed(7)
    assert (tinytorch.multinomial(p, 9, True, generator=g1).tolist()
            == tinytorch.multinomial(p, 9, True, generator=g2).tolist())
    assert tinytorch.multinomial(tinytorch.zeros(0, 3), 2).shape == (0, 2)


def test_multinomial_without_replacement_never_repeats_and_exhausts_zeros_last():
    p = tinytorch.tensor([0.1, 0.0, 0.5, 0.4])
    for _ in range(20):
        draw = tinytorch.multinomial(p, 4).tolist()
        assert sorted(draw) == [0, 1, 2, 3] and draw[-1] == 1  # weight 0: only when forced
        assert 1 not in tinytorch.multinomial(p, 3).tolist()
    assert 1 not in tinytorch.multinomial(p, 1000, replacement=True).tolist()


def test_multinomial_frequencies():
    """With replacement each draw is p; without, the first draw is p and the second is
    p_j / (1 - p_i) given the first (checked on 40,000 rows at once)."""
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    n = 40_000
    draws = tinytorch.multinomial(tinytorch.tensor(probs * 7), n, replacement=True).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / n, probs, atol=0.01)
    rows = tinytorch.tensor(np.tile(probs, (n, 1)))
    pairs = tinytorch.multinomial(rows, 2).numpy()
    joint = np.zeros((4, 4))
    np.add.at(joint, (pairs[:, 0], pairs[:, 1]), 1 / n)
    expected = probs[:, None] * probs[None, :] / (1 - probs[:, None])
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(joint, expected, atol=0.01)


# -- cumsum / cumprod dtypes ---------------------------------------------------------------------

def test_cumsum_cumprod_dtypes():
    for dtype in ("int32", "int8", "bool", "float32", "float64"):
        x = RNG.integers(0, 3, size=(2, 3)).astype(dtype)
        _same(lambda m, t: m.cumsum(t, 1), x)
        _same(lambda m, t: t.cumprod(0), x)
        _same(lambda m, t: m.cumsum(t, 0, dtype=m.float64), x)
    _same(lambda m, t: m.cumsum(t, 0), np.array(3.0))
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = x.cumsum(0, dtype=tinytorch.float64)
    y.backward(tinytorch.tensor([1.0, 1.0], dtype=tinytorch.float64))
    assert y.dtype == tinytorch.float64 and x.grad.dtype == tinytorch.float32
    assert x.grad.tolist() == [2.0, 1.0]


def test_cumprod_gradient_with_zeros_matches_pytorch():
    for values in ([2.0, 0.0, 3.0, 0.0, 5.0], [2.0, 0.0, 3.0, 4.0, 5.0], [0.0, 0.0, 1.0],
                   [1.0, 2.0, 0.0]):
        grads = []
        for mod in (tinytorch, torch):
            x = mod.tensor(values, requires_grad=True)
            mod.cumprod(x, 0).backward(mod.tensor([1.0, 2.0, 3.0, 4.0, 5.0][:len(values)]))
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


# -- in place ------------------------------------------------------------------------------------

_INDEX = np.array([[0, 2], [1, 0]])
IN_PLACE = [
    lambda m, t: t.scatter_(1, m.tensor(_INDEX), m.tensor([[5.0, 6.0], [7.0, 8.0]])),
    lambda m, t: t.scatter_(1, m.tensor(_INDEX), value=-1.0),
    lambda m, t: t.scatter_add_(1, m.tensor(_INDEX), m.tensor([[5.0, 6.0], [7.0, 8.0]])),
    lambda m, t: t.index_fill_(1, m.tensor([0, 2]), 9.0),
    lambda m, t: t.lerp_(m.ones(2, 3), 0.25),
]


@pytest.mark.parametrize("change", IN_PLACE)
def test_in_place_forms_match_pytorch_and_bump_the_version(change):
    start = RNG.standard_normal((2, 3)).astype(np.float32)
    results = []
    for mod in (tinytorch, torch):
        t = mod.tensor(start)
        assert change(mod, t) is t
        results.append(t.numpy())
    np.testing.assert_allclose(results[0], results[1])
    t = tinytorch.tensor(start)
    before = version_cell(t)[0]
    change(tinytorch, t)
    assert version_cell(t)[0] == before + 1


def test_in_place_on_a_leaf_that_requires_grad_is_refused():
    x = tinytorch.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        x.index_fill_(1, tinytorch.tensor([0]), 1.0)
    with tinytorch.no_grad():
        x.scatter_(1, tinytorch.tensor([[0], [1]]), 5.0)
    assert x.tolist() == [[5.0, 1.0, 1.0], [1.0, 5.0, 1.0]]


# -- errors: the same exception class as PyTorch ------------------------------------------------

X = np.arange(12.0).reshape(3, 4)

ERRORS = {
    "topk k too large": lambda m: m.topk(m.tensor(X), 5),
    "topk negative k": lambda m: m.topk(m.tensor(X), -1),
    "sort bad dim": lambda m: m.sort(m.tensor(X), dim=2),
    "argsort bad dim": lambda m: m.argsort(m.tensor(X), dim=-3),
    "cumsum bad dim": lambda m: m.cumsum(m.tensor(X), 2),
    "einsum too few operands": lambda m: m.einsum("ij,jk->ik", m.tensor(X)),
    "einsum bad letter": lambda m: m.einsum("i1", m.tensor(X)),
    "einsum repeated output": lambda m: m.einsum("ij->ii", m.tensor(X)),
    "einsum unknown output": lambda m: m.einsum("ij->iz", m.tensor(X)),
    "einsum sizes": lambda m: m.einsum("ij,ij->ij", m.tensor(X), m.tensor(X[:2])),
    "einsum dtypes": lambda m: m.einsum("ij,ij", m.tensor(X), m.tensor(X).float()),
    "bmm 2-D": lambda m: m.bmm(m.tensor(X), m.tensor(X.T)),
    "bmm batch": lambda m: m.bmm(m.ones(2, 2, 3), m.ones(1, 3, 2)),
    "mm shapes": lambda m: m.mm(m.ones(2, 3), m.ones(4, 2)),
    "addmm input": lambda m: m.addmm(m.ones(3), m.ones(2, 3), m.ones(3, 2)),
    "scatter index float": lambda m: m.tensor(X).scatter(0, m.tensor([[0.0]]), 1.0),
    "scatter out of range": lambda m: m.tensor(X).scatter(0, m.tensor([[3]]), 1.0),
    "scatter negative": lambda m: m.tensor(X).scatter(0, m.tensor([[-1]]), 1.0),
    "scatter index dims": lambda m: m.tensor(X).scatter(0, m.tensor([0]), 1.0),
    "scatter src dtype": lambda m: m.tensor(X).scatter(0, m.tensor([[0]]), m.ones(1, 1).float()),
    "scatter index too big": lambda m: m.tensor(X).scatter(0, m.zeros(1, 5).long(), m.ones(1, 5)),
    "scatter reduce": lambda m: m.tensor(X).scatter(0, m.tensor([[0]]), 1.0, reduce="mean"),
    "index_fill int32": lambda m: m.tensor(X).index_fill(1, m.tensor([0]).int(), 1.0),
    "index_fill 2-D index": lambda m: m.tensor(X).index_fill(1, m.tensor([[0]]), 1.0),
    "index_fill out of range": lambda m: m.tensor(X).index_fill(1, m.tensor([4]), 1.0),
    "index_fill vector value": lambda m: m.tensor(X).index_fill(1, m.tensor([0]), m.ones(1)),
    "masked_select non-bool": lambda m: m.masked_select(m.tensor(X), m.tensor(X).long()),
    "roll misaligned": lambda m: m.roll(m.tensor(X), (1, 2), 1),
    "roll no dims": lambda m: m.roll(m.tensor(X), (1, 2)),
    "roll bad dim": lambda m: m.roll(m.tensor(X), 1, 5),
    "flip repeated": lambda m: m.flip(m.tensor(X), (1, 1)),
    "flip bad dim": lambda m: m.flip(m.tensor(X), (2,)),
    "lerp dtypes": lambda m: m.lerp(m.tensor(X), m.tensor(X).float(), 0.5),
    "isclose dtypes": lambda m: m.isclose(m.tensor(X), m.tensor(X).float()),
    "isclose rtol": lambda m: m.isclose(m.tensor(X), m.tensor(X), rtol=-1),
    "multinomial n=0": lambda m: m.multinomial(m.ones(3), 0),
    "multinomial too many": lambda m: m.multinomial(m.ones(3), 4),
    "multinomial ints": lambda m: m.multinomial(m.tensor([1, 2]), 1),
    "multinomial 3-D": lambda m: m.multinomial(m.ones(2, 2, 2), 1),
    "multinomial negative": lambda m: m.multinomial(m.tensor([-1.0, 2.0]), 1),
    "multinomial nan": lambda m: m.multinomial(m.tensor([float("nan"), 2.0]), 1),
    "multinomial zero sum": lambda m: m.multinomial(m.zeros(2), 1),
    "multinomial float n": lambda m: m.multinomial(m.ones(2), 1.0),
    "pad mode": lambda m: m.nn.functional.pad(m.tensor(X), (1, 1), mode="foo"),
    "pad odd": lambda m: m.nn.functional.pad(m.tensor(X), (1,)),
    "pad too long": lambda m: m.nn.functional.pad(m.tensor(X), (1,) * 6),
    "pad reflect value": lambda m: m.nn.functional.pad(m.tensor(X), (1, 1), "reflect", 2.0),
    "pad reflect too wide": lambda m: m.nn.functional.pad(m.tensor(X), (4, 0), "reflect"),
    "pad circular twice": lambda m: m.nn.functional.pad(m.tensor(X), (5, 0), "circular"),
    "pad reflect 1-D": lambda m: m.nn.functional.pad(m.tensor(X[0]), (1, 1), "reflect"),
    "pad replicate 3 dims": lambda m: m.nn.functional.pad(m.tensor(X), (1,) * 6, "replicate"),
    "vector_norm ints": lambda m: m.linalg.vector_norm(m.tensor(X).long()),
    "linalg.norm 3-D ord": lambda m: m.linalg.norm(m.ones(2, 2, 2), 1),
    "matrix_norm 1-D": lambda m: m.linalg.matrix_norm(m.ones(3)),
    "normalize dim": lambda m: m.nn.functional.normalize(m.ones(3)),
    # ops that existed before
    "one_hot too large": lambda m: m.nn.functional.one_hot(m.tensor([0, 5]), 3),
    "one_hot negative": lambda m: m.nn.functional.one_hot(m.tensor([-1, 1])),
    "one_hot int32": lambda m: m.nn.functional.one_hot(m.tensor([0, 1]).int()),
    "one_hot float": lambda m: m.nn.functional.one_hot(m.tensor([0.0, 1.0])),
    "tril 1-D": lambda m: m.tril(m.ones(3)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_have_pytorch_exception_classes(name):
    with pytest.raises(Exception) as theirs:
        ERRORS[name](torch)
    with pytest.raises(Exception) as ours:
        ERRORS[name](tinytorch)
    assert isinstance(ours.value, type(theirs.value)), (
        f"{name}: tinytorch raised {type(ours.value).__name__}: {ours.value}; PyTorch raised "
        f"{type(theirs.value).__name__}: {theirs.value}")
    assert len(str(ours.value)) > 20  # a sentence that names the problem


# -- linalg norms and F.normalize ---------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda m, t: m.linalg.vector_norm(t),
    lambda m, t: m.linalg.vector_norm(t, 0, dim=1),
    lambda m, t: m.linalg.vector_norm(t, float("inf"), dim=(0, 1), keepdim=True),
    lambda m, t: m.linalg.vector_norm(t, 3, dtype=m.float64),
    lambda m, t: m.linalg.norm(t),
    lambda m, t: m.linalg.norm(t, 1),
    lambda m, t: m.linalg.norm(t, -1),
    lambda m, t: m.linalg.norm(t, float("inf")),
    lambda m, t: m.linalg.norm(t, float("-inf"), keepdim=True),
    lambda m, t: m.linalg.norm(t, "fro"),
    lambda m, t: m.linalg.norm(t, 2, dim=1),
    lambda m, t: m.linalg.norm(t[0], 1),
    lambda m, t: m.linalg.matrix_norm(t, 1, dim=(1, 0)),
    lambda m, t: m.nn.functional.normalize(t),
    lambda m, t: m.nn.functional.normalize(t, p=1, dim=0),
])
def test_norms_match_pytorch(call):
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    x[1] = 0.0
    ours, theirs = (call(mod, mod.tensor(x)) for mod in (tinytorch, torch))
    assert ours.dtype == getattr(tinytorch, str(theirs.dtype).removeprefix("torch."))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_unsupported_matrix_norms_say_so():
    for ord in ("nuc", 2, -2):
        with pytest.raises(NotImplementedError, match="singular values"):
            tinytorch.linalg.matrix_norm(tinytorch.ones(2, 2), ord)
    with pytest.raises(NotImplementedError, match="ord"):
        tinytorch.linalg.vector_norm(tinytorch.ones(2), -1)


def test_unflatten_and_clamp_bounds():
    _same(lambda m, t: t.unflatten(1, (2, -1)), X)
    _same(lambda m, t: m.unflatten(t, 0, (3, 1)), X)
    _same(lambda m, t: t.clamp_min(2.5), X)
    _same(lambda m, t: m.clamp_max(t, m.tensor([1.0, 5.0, 7.0, 20.0])), X)
    _same(lambda m, t: m.clamp(t, min=m.tensor(3.0), max=m.tensor([4.0, 5.0, 6.0, 7.0])), X)
    _same(lambda m, t: m.clamp_min(t, m.tensor([[1.0], [2.0], [3.0]])), X[:, :1])
    _same(lambda m, t: m.clamp_min(t, m.tensor(np.nan)), X)


# -- ops that existed before: one_hot, tril/triu, norm ------------------------------------------

def test_one_hot_tril_triu_norm_match_pytorch():
    _same(lambda m, t: m.nn.functional.one_hot(t, 4), np.array([[0, 2], [1, 3]]))
    _same(lambda m, t: m.nn.functional.one_hot(t), np.array([0, 2, 1]))
    for diagonal in (-2, -1, 0, 1, 3):
        _same(lambda m, t: m.tril(t, diagonal), X)
        _same(lambda m, t: t.triu(diagonal), np.ones((2, 3, 4)))
    for p, dim, keepdim in [("fro", None, False), (2, (0, 1), False), (1, 1, True),
                            (float("inf"), 0, False), (3, -1, False)]:
        ours, theirs = _both(lambda m, t: m.norm(t, p, dim, keepdim), X)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
