"""Devices, dtypes and the tensor protocol, spelled and behaving as in PyTorch 2.13.

torch.device objects, tinytorch dtypes (torch.float32 that NumPy also reads), torch.Size,
every form of .to(), Tensor.type() and the legacy constructors (torch.LongTensor, ...),
is_tensor/is_floating_point/numel, format specs, tinytorch.cuda without a GPU, the flags
of tinytorch.backends (autocast and GradScaler: test_amp.py).
Each is compared with PyTorch where it is installed.
"""

from __future__ import annotations

import copy
import importlib
import json
import pickle

import numpy as np
import pytest

import tinytorch
import tinytorch.backends.cudnn as cudnn  # the import form scripts use
from tinytorch import nn

no_cuda = pytest.mark.skipif(tinytorch.cuda.is_available(), reason="a GPU is present")
DTYPE_NAMES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8",
               "bool"]


def _torch():
    return pytest.importorskip("torch")


# -- torch.device ------------------------------------------------------------------------------
DEVICE_SPECS = [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 0), ("cuda:1",), ("cuda", 1),
                ("cpu:0",), ("mps",), ("meta",)]


@pytest.mark.parametrize("spec", DEVICE_SPECS, ids=str)
def test_device_objects_match_torch(spec):
    torch = _torch()
    ours, theirs = tinytorch.device(*spec), torch.device(*spec)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert tinytorch.device(ours) == ours and hash(tinytorch.device(*spec)) == hash(ours)
    assert pickle.loads(pickle.dumps(ours)) == ours and copy.deepcopy(ours) == ours
    for other in DEVICE_SPECS:  # the same equalities as PyTorch's, strings never equal
        assert (ours == tinytorch.device(*other)) == (theirs == torch.device(*other))
        assert (ours == str(tinytorch.device(*other))) == (theirs == str(torch.device(*other)))


def test_device_keyword_forms_and_errors():
    assert tinytorch.device(type="cuda", index=1) == tinytorch.device("cuda:1")
    assert {tinytorch.device("cpu"): 1}[tinytorch.device("cpu")] == 1
    for bad in ["gpu", "cuda:x", " cpu", "cuda:-1", "CPU", "cuda:01", "cuda:0:1", "cuda:"]:
        with pytest.raises(ValueError, match="unknown device"):
            tinytorch.device(bad)
    with pytest.raises(ValueError, match="negative"):
        tinytorch.device("cuda", -1)
    with pytest.raises(ValueError, match="already has an index"):
        tinytorch.device("cuda:0", 1)
    with pytest.raises(TypeError):
        tinytorch.device(None)
    with pytest.raises(TypeError, match="index must be an int"):
        tinytorch.device("cpu", "a")
    with pytest.raises(AttributeError):
        tinytorch.device("cpu").type = "cuda"


def test_tensor_device_is_a_device():
    torch = _torch()
    x = tinytorch.zeros(2)
    assert x.device == tinytorch.device("cpu") and repr(x.device) == "device(type='cpu')"
    assert x.device.type == "cpu" and x.device.index is None and not x.is_cuda
    # as in PyTorch, a device never equals a string: compare .type
    assert (x.device == "cpu") == (torch.zeros(2).device == "cpu") is False
    assert x.get_device() == torch.zeros(2).get_device() == -1
    for where in ["cpu", tinytorch.device("cpu"), None]:
        assert tinytorch.zeros(2, device=where).device.type == "cpu"
        assert tinytorch.tensor([1.0], device=where).device.type == "cpu"
    arr = np.zeros(3, np.float32)
    assert tinytorch.as_tensor(arr, device=tinytorch.device("cpu")).array is arr  # shared


def test_devices_tinytorch_cannot_store_on_say_so():
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        tinytorch.zeros(2).to("mps")
    with pytest.raises(ValueError, match="'cpu' or 'cuda'"):
        tinytorch.zeros(2, device=tinytorch.device("meta"))


# -- .to() ---------------------------------------------------------------------------------------
TO_CALLS = [
    "x.to('cpu')", "x.to(device('cpu'))", "x.to(float64)", "x.to('cpu', float64)", "x.to(y)",
    "x.to(device='cpu', dtype=float64, non_blocking=True, copy=True)", "x.to('cpu', copy=True)",
    "x.to(float32, copy=True)", "x.to(float32, False, True)", "x.to('cpu', float32, False, True)",
    "x.to(y, False, True)", "x.to(float)", "x.to(int)", "x.to(bool)", "x.to(None)", "x.to()",
    "x.to(dtype=None)", "x.to('cpu', non_blocking=True)", "x.to(int64)", "x.to(dtype=float16)",
    "x.to(device=device('cpu'))", "x.type(float64)", "x.type('torch.DoubleTensor')",
    "x.type(DoubleTensor)", "x.type(float32)", "x.type(dtype=int64)",
]


@pytest.mark.parametrize("call", TO_CALLS)
def test_to_forms_match_torch(call):
    torch = _torch()
    results = []
    for lib in (tinytorch, torch):
        x = lib.ones(2, 3)
        y = lib.zeros(2, dtype=lib.float64)
        names = {"x": x, "y": y, "device": lib.device, "float": float, "int": int,
                 "bool": bool, **{n: getattr(lib, n) for n in
                                  ("float16", "float32", "float64", "int64", "DoubleTensor")}}
        out = eval(call, names)
        results.append((str(out.dtype), out.device.type, out is x, tuple(out.shape)))
    assert results[0] == results[1]


@pytest.mark.parametrize("call", [
    "x.to(float64, dtype=float32)", "x.to('cpu', device='cpu')", "x.to(float64, float32)",
    "x.to(y, dtype=int64)", "x.to('cpu', float32, False, True, 1)",
])
def test_to_refuses_what_torch_refuses(call):
    torch = _torch()
    for lib in (tinytorch, torch):
        names = {"x": lib.ones(2), "y": lib.zeros(2), "float32": lib.float32,
                 "float64": lib.float64, "int64": lib.int64}
        with pytest.raises(TypeError):
            eval(call, names)


def test_to_keeps_the_graph_and_numpy_dtypes():
    x = tinytorch.ones(3, requires_grad=True)
    (x.to(tinytorch.float64) * 2).sum().backward()
    assert x.grad.dtype == tinytorch.float32 and x.grad.tolist() == [2.0, 2.0, 2.0]
    assert tinytorch.ones(2).to(np.float64).dtype == tinytorch.float64  # NumPy dtypes: ours
    assert tinytorch.ones(2).to("float64").dtype == tinytorch.float64
    with pytest.raises(ValueError, match="unknown device"):
        tinytorch.ones(2).to("tpu")


def test_module_to_takes_device_objects_dtypes_and_tensors():
    model = nn.Linear(3, 2)
    weight = model.weight
    assert model.to(tinytorch.device("cpu")) is model and model.weight is weight
    model.to(tinytorch.float64)
    assert model.weight.dtype == tinytorch.float64
    model.to(tinytorch.zeros(1))  # a tensor gives its dtype and device
    assert model.weight.dtype == tinytorch.float32 and model.weight is weight
    model.to(device="cpu", dtype=tinytorch.float64, non_blocking=True)
    assert model.bias.dtype == tinytorch.float64


# -- dtypes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPE_NAMES + ["bfloat16"])
def test_dtype_attributes_match_torch(name):
    torch = _torch()
    ours, theirs = getattr(tinytorch, name), getattr(torch, name)
    assert repr(ours) == repr(theirs) == str(ours) == f"torch.{name}"
    for attr in ("is_floating_point", "is_signed", "is_complex", "itemsize"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert pickle.loads(pickle.dumps(ours)) is ours and copy.deepcopy(ours) is ours
    assert isinstance(ours, tinytorch.dtype)


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtypes_are_numpy_dtypes_too(name):
    d = getattr(tinytorch, name)
    np_dtype = np.dtype(np.bool_ if name == "bool" else name)
    x = tinytorch.zeros(2, dtype=d)
    assert x.dtype is d  # one object per dtype, as in PyTorch
    assert d == np_dtype and np_dtype == d and d == np_dtype.type and not d != np_dtype
    assert np.dtype(d) == np_dtype and np.dtype(x.dtype) == np_dtype
    assert x.dtype.kind == np_dtype.kind and x.dtype.itemsize == np_dtype.itemsize
    assert x.element_size() == np_dtype.itemsize
    assert x.is_floating_point() == (np_dtype.kind == "f") == tinytorch.is_floating_point(x)
    assert np.zeros(2, dtype=d).dtype == np_dtype and np.ones(2).astype(d).dtype == np_dtype
    assert hash(d) == hash(np_dtype) and {np_dtype: 1}[d] == 1
    assert d in (np_dtype.type,) and d != None  # noqa: E711 (np.dtype(None) is float64)
    assert tinytorch.dtypes.as_dtype(d) is np_dtype or tinytorch.dtypes.as_dtype(d) == np_dtype


def test_float_aliases_and_python_types():
    assert tinytorch.float is tinytorch.float32 and tinytorch.double is tinytorch.float64
    assert tinytorch.long is tinytorch.int64 and tinytorch.half is tinytorch.float16
    assert tinytorch.ones(1).to(int).dtype == tinytorch.int64  # Python's int is int64
    assert tinytorch.float32 != tinytorch.float64 and tinytorch.float32 != "nonsense"


def test_bfloat16_is_named_but_refused_in_one_line():
    assert tinytorch.bfloat16.is_floating_point and tinytorch.bfloat16.itemsize == 2
    assert tinytorch.bfloat16 != tinytorch.float16 and tinytorch.bfloat16 != np.float16
    for make in (lambda: tinytorch.tensor([1.0], dtype=tinytorch.bfloat16),
                 lambda: tinytorch.zeros(2, dtype=tinytorch.bfloat16),
                 lambda: tinytorch.ones(2).to(tinytorch.bfloat16),
                 lambda: tinytorch.ones(2).bfloat16() if hasattr(tinytorch.Tensor, "bfloat16")
                 else tinytorch.ones(2).to(tinytorch.bfloat16)):
        with pytest.raises(TypeError, match="NumPy has no bfloat16.*torch.float32"):
            make()
    assert not tinytorch.cuda.is_bf16_supported()


def test_unusual_numpy_dtypes_get_a_name():
    x = tinytorch.from_numpy(np.zeros(2, np.uint16))
    assert repr(x.dtype) == "torch.uint16" and x.dtype == np.uint16
    assert x.dtype is tinytorch.from_numpy(np.ones(1, np.uint16)).dtype


# -- torch.Size ------------------------------------------------------------------------------
def test_size_matches_torch():
    torch = _torch()
    ours, theirs = tinytorch.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    for expr in ["x.shape", "x.size()", "x.shape[1:]", "x.shape + (5,)", "(5,) + x.shape",
                 "x.shape * 2", "x.shape[::-1]", "x.shape.numel()", "x.shape[0]",
                 "x.shape == (2, 3, 4)", "x[0].shape", "x.sum().shape", "x.size(1)"]:
        a, b = eval(expr, {"x": ours}), eval(expr, {"x": theirs})
        assert repr(a) == repr(b) and type(a).__name__ == type(b).__name__, expr
    assert isinstance(ours.shape, tuple) and isinstance(ours.shape, tinytorch.Size)
    assert tinytorch.Size([]).numel() == 1 and hash(ours.shape) == hash((2, 3, 4))
    assert tinytorch.Size([np.int64(2), torch.tensor(3)]) == (2, 3)
    assert pickle.loads(pickle.dumps(ours.shape)) == ours.shape
    assert json.loads(json.dumps(ours.shape)) == [2, 3, 4]
    assert np.zeros(ours.shape).shape == (2, 3, 4)
    with pytest.raises(TypeError):
        tinytorch.Size([2.5])
    with pytest.raises(TypeError):
        ours.shape + [5]


# -- Tensor.type() and the legacy constructors ---------------------------------------------
@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_type_names_match_torch(name):
    torch = _torch()
    ours = tinytorch.zeros(2, dtype=getattr(tinytorch, name))
    assert ours.type() == torch.zeros(2, dtype=getattr(torch, name)).type()
    assert ours.type(ours.dtype) is ours and ours.type(ours.type()) is ours
    assert ours.type("torch.DoubleTensor").dtype == tinytorch.float64


def test_type_refuses_unknown_names():
    with pytest.raises(ValueError, match="invalid type 'float64'"):
        tinytorch.zeros(2).type("float64")


LEGACY = [
    "LongTensor([1, 2])", "FloatTensor([1, 2])", "FloatTensor(2, 3)", "FloatTensor()",
    "FloatTensor((2, 3))", "FloatTensor(Size([2, 3]))", "LongTensor(3)", "BoolTensor([1, 0])",
    "IntTensor([1.7])", "ByteTensor([1, 2])", "DoubleTensor([0.3])", "HalfTensor([0.1])",
    "ShortTensor([[1], [2]])", "CharTensor(2)", "FloatTensor(np.array([1, 2]))",
    "LongTensor(np.array([1.5, 2]))", "FloatTensor([[1, 2], [3, 4]])", "FloatTensor(np.int64(3))",
    "Tensor(2, 3)", "Tensor([1, 2])", "Tensor()", "Tensor(3)", "Tensor([True])",
    "Tensor(Size([1, 2]))", "FloatTensor([1.0], device='cpu')",
]


@pytest.mark.parametrize("expr", LEGACY)
def test_legacy_constructors_match_torch(expr):
    torch = _torch()
    names = ("Tensor", "Size", "LongTensor", "FloatTensor", "DoubleTensor", "HalfTensor",
             "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor")
    ours = eval(expr, {"np": np, **{n: getattr(tinytorch, n) for n in names}})
    theirs = eval(expr, {"np": np, **{n: getattr(torch, n) for n in names}})
    assert isinstance(ours, tinytorch.Tensor) and type(ours) is tinytorch.Tensor
    assert str(ours.dtype) == str(theirs.dtype) and tuple(ours.shape) == tuple(theirs.shape)
    if ("[" in expr or "((" in expr or "array" in expr) and "Size" not in expr:  # from data
        np.testing.assert_array_equal(ours.array, theirs.numpy())


@pytest.mark.parametrize("expr", ["FloatTensor(2.5)", "FloatTensor(-1)", "FloatTensor(True)",
                                  "FloatTensor(2, [3])", "FloatTensor(LongTensor([1, 2]))",
                                  "LongTensor([2**63])", "Tensor(-1)", "Tensor(2, 3.5)"])
def test_legacy_constructors_refuse_what_torch_refuses(expr):
    torch = _torch()
    for lib in (tinytorch, torch):
        names = {n: getattr(lib, n) for n in ("Tensor", "FloatTensor", "LongTensor")}
        with pytest.raises((TypeError, RuntimeError, ValueError)):
            eval(expr, names)


def test_isinstance_with_tensor_types_matches_torch():
    torch = _torch()
    for make in ("tensor([1])", "tensor([1.])", "tensor([True])", "zeros(2, dtype=float64)",
                 "LongTensor([1])", "nn.Parameter(zeros(2))"):
        x, y = eval(make, vars(tinytorch)), eval(make, vars(torch))
        for name in ("LongTensor", "FloatTensor", "DoubleTensor", "BoolTensor", "Tensor"):
            assert isinstance(x, getattr(tinytorch, name)) == isinstance(y, getattr(torch, name))
        assert isinstance(x, tinytorch.cuda.FloatTensor) is isinstance(y, torch.cuda.FloatTensor)
    assert tinytorch.LongTensor.dtype is tinytorch.int64
    assert repr(tinytorch.LongTensor) == "<class 'torch.LongTensor'>"
    assert not issubclass(tinytorch.LongTensor, tinytorch.Tensor)


def test_is_tensor_is_floating_point_numel_match_torch():
    torch = _torch()
    for ours, theirs in ((tinytorch.zeros(2, 3), torch.zeros(2, 3)),
                         (tinytorch.tensor([1]), torch.tensor([1])),
                         (nn.Parameter(tinytorch.zeros(2)), torch.nn.Parameter(torch.zeros(2)))):
        assert tinytorch.is_tensor(ours) == torch.is_tensor(theirs)
        assert tinytorch.is_floating_point(ours) == torch.is_floating_point(theirs)
        assert tinytorch.numel(ours) == torch.numel(theirs)
    assert not tinytorch.is_tensor(np.zeros(2)) and not tinytorch.is_tensor([1])
    with pytest.raises(TypeError, match="must be Tensor"):
        tinytorch.is_floating_point(np.zeros(1))
    with pytest.raises(TypeError, match="must be Tensor"):
        tinytorch.numel([1, 2])


# -- new_* -----------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    "x.new_zeros(2, 3)", "x.new_zeros((2, 3))", "x.new_ones(2)", "x.new_empty(2, 1)",
    "x.new_full((2,), 1.5)", "x.new_full((2,), 7)", "x.new_zeros(2, dtype=int64)",
    "x.new_tensor([[1, 2]])", "x.new_tensor(0.3)", "x.new_ones(1, requires_grad=True)",
])
@pytest.mark.parametrize("dtype", ["float64", "int64", "float32"])
def test_new_methods_match_torch(call, dtype):
    torch = _torch()
    results = []
    for lib in (tinytorch, torch):
        x = lib.zeros(1, dtype=getattr(lib, dtype))
        if "requires_grad" in call and dtype == "int64":
            return  # an int tensor can't require grad (in both)
        out = eval(call, {"x": x, "int64": lib.int64})
        results.append((str(out.dtype), tuple(out.shape), out.requires_grad,
                        out.tolist() if "empty" not in call else None))
    assert results[0] == results[1]


# -- format specs ------------------------------------------------------------------------------
@pytest.mark.parametrize("expr", [
    'f"{tensor(0.123456):.4f}"', 'f"{tensor(3):d}"', 'f"{tensor(3):.2f}"', 'f"{tensor(1.5)}"',
    'f"{tensor(True)}"', 'f"{tensor(1.5):>10}"', 'f"{tensor(2.5, requires_grad=True):.3f}"',
    'f"{tensor([1.5])}"', 'format(tensor([1.5, 2.0]), "")', 'f"{tensor(1e-8):e}"',
])
def test_format_matches_torch(expr):
    torch = _torch()
    assert eval(expr, {"tensor": tinytorch.tensor}) == eval(expr, {"tensor": torch.tensor})


@pytest.mark.parametrize("expr", ['f"{tensor([1.5]):.2f}"', 'f"{tensor([1.5]):10}"',
                                  'f"{Parameter(tensor(1.5)):.3f}"'])
def test_format_spec_on_non_scalars_fails_as_in_torch(expr):
    torch = _torch()
    for lib in (tinytorch, torch):
        with pytest.raises(TypeError, match="unsupported format string"):
            eval(expr, {"tensor": lib.tensor, "Parameter": lib.nn.Parameter})


# -- tinytorch.cuda without a GPU ------------------------------------------------------------
@no_cuda
def test_cuda_functions_without_a_gpu_as_torch_cpu_build():
    torch = _torch()
    for name in ("is_available", "device_count", "is_bf16_supported", "empty_cache"):
        assert getattr(tinytorch.cuda, name)() == getattr(torch.cuda, name)(), name
    assert tinytorch.cuda.manual_seed(1) is None and tinytorch.cuda.manual_seed_all(2) is None
    with pytest.raises(ValueError):
        tinytorch.cuda.manual_seed("a")  # as torch: int("a")
    for name in ("current_device", "synchronize", "get_device_name"):
        with pytest.raises(RuntimeError, match="CuPy|GPU"):
            getattr(tinytorch.cuda, name)()
    with pytest.raises(RuntimeError, match="CuPy|GPU"):
        tinytorch.ones(2).cuda()


# -- tinytorch.backends ----------------------------------------------------------------------
@pytest.fixture
def restore_backends():
    saved = (cudnn.benchmark, cudnn.deterministic, cudnn.enabled,
             tinytorch.get_float32_matmul_precision(),
             tinytorch.are_deterministic_algorithms_enabled())
    yield
    cudnn.benchmark, cudnn.deterministic, cudnn.enabled = saved[:3]
    tinytorch.set_float32_matmul_precision(saved[3])
    tinytorch.use_deterministic_algorithms(saved[4])


def test_backend_flags_read_back_as_in_torch(restore_backends):
    torch = _torch()
    importlib.reload(cudnn)  # the defaults again, whatever ran before (the fixture restores)
    for lib in (tinytorch, torch):  # PyTorch's defaults first
        assert (lib.backends.cudnn.benchmark, lib.backends.cudnn.deterministic,
                lib.backends.cudnn.enabled, lib.backends.cudnn.allow_tf32) == (
                    False, False, True, True)
        assert not lib.backends.mps.is_available() and not lib.backends.mps.is_built()
        assert not lib.backends.cudnn.is_available() and lib.backends.cudnn.version() is None
    cudnn.benchmark = True
    cudnn.deterministic = True
    assert tinytorch.backends.cudnn.benchmark and tinytorch.backends.cudnn.deterministic
    matmul = tinytorch.backends.cuda.matmul
    assert tinytorch.get_float32_matmul_precision() == "highest" and not matmul.allow_tf32
    tinytorch.set_float32_matmul_precision("high")
    assert matmul.allow_tf32  # one setting, as in PyTorch
    matmul.allow_tf32 = False
    assert tinytorch.get_float32_matmul_precision() == "highest"
    with pytest.warns(UserWarning, match="no effect"):
        tinytorch.set_float32_matmul_precision("bad")
    with pytest.raises(AttributeError, match="Unknown attribute"):
        matmul.allow_tf33 = True
    tinytorch.use_deterministic_algorithms(True)
    assert tinytorch.are_deterministic_algorithms_enabled()
    tinytorch.backends.cuda.enable_flash_sdp(False)
    assert not tinytorch.backends.cuda.flash_sdp_enabled()
    tinytorch.backends.cuda.enable_flash_sdp(True)
