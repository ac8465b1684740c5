"""Making tensors from Python numbers converts each number once, as PyTorch does.

The bug this guards: ``tensor([0.3], dtype=float64)`` used to go through float32 first
(0.30000001192092896) and ``[3.4e39]`` became inf. Now, with a dtype, a Python number is
converted straight to it: float64 keeps every digit; float32 (the default) rounds exactly as
``torch.tensor`` does. Without a dtype, PyTorch's inference: float -> the default float
dtype, int -> int64, bool -> bool, a mix -> the widest kind, NumPy scalars keep theirs.
Properties over random doubles (subnormals and values past float32's range included),
through tensor, nested lists, full, as_tensor and Tensor.new_tensor.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch

doubles = st.floats(allow_nan=False, width=64)  # subnormals, 1e308, inf included
beyond_float32 = st.floats(min_value=3.5e38, max_value=1.7e308) | st.floats(
    min_value=-1.7e308, max_value=-3.5e38)
subnormals = st.floats(min_value=-2.2e-308, max_value=2.2e-308, allow_subnormal=True)
any_double = doubles | beyond_float32 | subnormals


def _torch():
    return pytest.importorskip("torch")


def _bits(x) -> bytes:
    """The exact bytes of a float (so -0.0 != 0.0 and every digit counts)."""
    return struct.pack("<d", float(x))


def _names(lib) -> dict:
    """What the expressions below may use from ``lib`` (Python's float and range stay)."""
    names = ("tensor", "full", "uint8", "int8", "int32", "int64", "bool", "float32")
    return {n: getattr(lib, n) for n in names}


def _same(arr, expected):
    arr, expected = np.asarray(arr), np.asarray(expected)
    assert arr.dtype == expected.dtype, (arr.dtype, expected.dtype)
    assert arr.shape == expected.shape
    assert arr.tobytes() == expected.tobytes(), (arr, expected)


# -- the reported bug --------------------------------------------------------------------------
def test_float64_keeps_every_digit_of_a_python_float():
    assert tinytorch.tensor([0.3], dtype=tinytorch.float64).item() == 0.3
    assert tinytorch.tensor(0.1, dtype=tinytorch.float64).item() == 0.1
    assert tinytorch.tensor([3.4e39], dtype=tinytorch.float64).item() == 3.4e39
    assert tinytorch.tensor([3.4e39]).item() == math.inf  # float32, as torch.tensor


@given(any_double)
def test_float64_round_trips_every_double(v):
    for made in (tinytorch.tensor(v, dtype=tinytorch.float64),
                 tinytorch.tensor([v], dtype=tinytorch.float64),
                 tinytorch.tensor([[v, v]], dtype=tinytorch.float64),
                 tinytorch.tensor(np.float64(v)),            # NumPy scalars keep their dtype
                 tinytorch.tensor([np.float64(v)]),
                 tinytorch.as_tensor([v], dtype=tinytorch.float64),
                 tinytorch.as_tensor(np.float64(v)),
                 tinytorch.full((2,), v, dtype=tinytorch.float64),
                 tinytorch.zeros(1, dtype=tinytorch.float64).new_tensor([v])):
        assert made.dtype == tinytorch.float64
        for x in np.ravel(made.array):
            assert _bits(x) == _bits(v)


@given(any_double)
def test_float32_rounds_once_to_nearest(v):
    """The default float32 is the double rounded once (IEEE round to nearest even)."""
    with np.errstate(over="ignore"):
        expected = np.float32(v)
    _same(tinytorch.tensor(v).array, np.array(expected))
    _same(tinytorch.tensor([v, -v]).array, np.array([expected, -expected]))
    _same(tinytorch.tensor([[v], [v]], dtype=tinytorch.float32).array,
          np.full((2, 1), expected))
    _same(tinytorch.tensor(np.float64(v), dtype=tinytorch.float32).array, np.array(expected))


@given(any_double, st.sampled_from(["float32", "float64", "float16"]))
def test_same_bits_as_torch_tensor(v, name):
    torch = _torch()
    ours = tinytorch.tensor([v, 1.0, v / 3], dtype=getattr(tinytorch, name))
    theirs = torch.tensor([v, 1.0, v / 3], dtype=getattr(torch, name))
    _same(ours.array, theirs.numpy())
    _same(tinytorch.tensor([[v]]).array, torch.tensor([[v]]).numpy())  # default dtype


def test_float16_rounds_through_float32_as_torch():
    """PyTorch turns a double into half through float, so a double just above a halfway
    point between two halves can round down (two roundings); so does tinytorch."""
    v = 1 + 2**-11 + 2**-40  # rounds up straight to half, to 1.0 through float32
    assert tinytorch.tensor(v, dtype=tinytorch.float16).item() == 1.0


@given(any_double)
def test_full_matches_torch(v):
    torch = _torch()
    for ours_kw, theirs_kw in (({}, {}), ({"dtype": tinytorch.float64},
                                          {"dtype": torch.float64})):
        try:
            theirs = torch.full((2, 3), v, **theirs_kw).numpy()
        except RuntimeError:  # 3.4e39 in float32: "cannot be converted ... without overflow"
            with pytest.raises(RuntimeError, match="without overflow"):
                tinytorch.full((2, 3), v, **ours_kw)
            continue
        _same(tinytorch.full((2, 3), v, **ours_kw).array, theirs)


@given(st.integers(min_value=-2**63, max_value=2**63 - 1))
def test_python_ints(n):
    _same(tinytorch.tensor([n]).array, np.array([n], dtype=np.int64))
    # a Python int read as a double, then rounded, as in PyTorch
    _same(tinytorch.tensor(n, dtype=tinytorch.float32).array, np.array(np.float32(float(n))))
    _same(tinytorch.tensor(n, dtype=tinytorch.float64).array, np.array(float(n)))


def test_ints_past_int64():
    with pytest.raises(ValueError, match="overflow"):
        tinytorch.tensor(2**63)
    with pytest.raises(ValueError, match="overflow"):
        tinytorch.tensor([1, 2**63])
    with pytest.raises(ValueError, match="overflow"):
        tinytorch.tensor([-2**63 - 1])
    assert tinytorch.tensor(2**64, dtype=tinytorch.float64).item() == 2.0**64
    with pytest.raises(OverflowError, match="too large"):
        tinytorch.tensor(10**400, dtype=tinytorch.float64)


@pytest.mark.parametrize("expr", [
    "tensor(300, dtype=uint8)", "tensor([-256], dtype=uint8)", "tensor(-129, dtype=int8)",
    "tensor(2**31, dtype=int32)", "tensor(float('nan'), dtype=int64)",
    "tensor(float('inf'), dtype=int32)", "tensor(-1.5, dtype=uint8)",
    "tensor(255.9, dtype=uint8)", "full((2,), 300, dtype=uint8)",
    "full((2,), float('nan'), dtype=int64)",
])
def test_integer_overflow_is_refused_as_in_torch(expr):
    torch = _torch()
    with pytest.raises(RuntimeError):
        eval(expr, _names(torch))
    with pytest.raises(RuntimeError, match="without overflow"):
        eval(expr, _names(tinytorch))


@pytest.mark.parametrize("expr", [
    "tensor(-1, dtype=uint8)", "tensor(-255, dtype=uint8)", "tensor(1.9, dtype=int64)",
    "tensor(-1.9, dtype=int64)", "tensor([0.5, 0.0, float('nan')], dtype=bool)",
    "tensor(2, dtype=bool)", "tensor([True, 2])", "tensor([True, 2.5])", "tensor([1, 2.5])",
    "tensor([[1], [2.5]])", "tensor([])", "tensor([[]])", "tensor(())", "tensor(range(3))",
    "tensor((1, 2))", "tensor(True)", "tensor([False])", "tensor([], dtype=int64)",
    "full((2,), 1.5, dtype=int64)", "full((2,), True)", "full((2,), 3)",
    "full((2,), True, dtype=float32)",
])
def test_conversions_match_torch(expr):
    torch = _torch()
    theirs = eval(expr, _names(torch))
    ours = eval(expr, _names(tinytorch))
    assert str(ours.dtype) == str(theirs.dtype)
    _same(ours.array, theirs.numpy())


# -- dtype inference: PyTorch's, for Python numbers, NumPy scalars and tensors mixed ----------
_LEAVES = [
    lambda v: float(v), lambda v: int(v), lambda v: bool(v), np.float16, np.float32, np.float64,
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.bool_,
]


@given(st.lists(st.tuples(st.sampled_from(range(len(_LEAVES))), st.integers(0, 100)),
                min_size=1, max_size=5))
def test_inferred_dtype_matches_torch(picks):
    torch = _torch()
    data = [_LEAVES[i](v) for i, v in picks]
    ours = tinytorch.tensor(data)
    try:
        theirs = torch.tensor(data)
    except TypeError:  # torch 2.13 can't read a numpy.bool_ beside an int; we promote
        assert ours.dtype.kind in "iu"
        return
    assert str(ours.dtype) == str(theirs.dtype), data
    _same(ours.array, theirs.numpy())
    nested = [data, data]
    assert str(tinytorch.tensor(nested).dtype) == str(torch.tensor(nested).dtype)


def test_numpy_scalars_and_tensors_keep_their_dtype():
    assert tinytorch.tensor(np.float64(0.3)).dtype == tinytorch.float64
    assert tinytorch.tensor(np.float32(0.3)).dtype == tinytorch.float32
    assert tinytorch.tensor(np.int32(3)).dtype == tinytorch.int32
    assert tinytorch.tensor([np.int32(3)]).dtype == tinytorch.int32
    assert tinytorch.tensor(np.array(0.3)).dtype == tinytorch.float64
    d = tinytorch.tensor(1.0, dtype=tinytorch.float64)
    assert tinytorch.tensor([d, d]).dtype == tinytorch.float64
    w = tinytorch.tensor(2.0, requires_grad=True)  # values taken, graph not
    out = tinytorch.tensor([w, w * 2])
    assert out.tolist() == [2.0, 4.0] and not out.requires_grad


def test_default_dtype_float64():
    tinytorch.set_default_dtype(tinytorch.float64)
    try:
        assert tinytorch.tensor(0.3).item() == 0.3
        assert tinytorch.tensor([1, 0.3]).dtype == tinytorch.float64
        assert tinytorch.full((1,), 0.3).item() == 0.3
        assert tinytorch.get_default_dtype() is tinytorch.float64
    finally:
        tinytorch.set_default_dtype(tinytorch.float32)


def test_new_tensor_takes_this_tensors_dtype():
    torch = _torch()
    for data in ([0.3], [1], np.array([1.5]), 2.5):
        for ours_base, theirs_base in ((tinytorch.zeros(1, dtype=tinytorch.int64),
                                        torch.zeros(1, dtype=torch.int64)),
                                       (tinytorch.zeros(1), torch.zeros(1)),
                                       (tinytorch.zeros(1, dtype=tinytorch.float64),
                                        torch.zeros(1, dtype=torch.float64))):
            ours, theirs = ours_base.new_tensor(data), theirs_base.new_tensor(data)
            assert str(ours.dtype) == str(theirs.dtype)
            _same(ours.array, theirs.numpy())


@pytest.mark.parametrize("bad, message", [
    ([1, None], "holding a NoneType"), ("abc", "from str"), ([[1, 2], [3]], "equal lengths"),
    ([1, "a"], "holding a str"), (3 + 1j, "from complex"), ({"a": 1}, "from dict"),
])
def test_what_is_not_numbers_is_one_line(bad, message):
    with pytest.raises(TypeError, match=message):
        tinytorch.tensor(bad)
