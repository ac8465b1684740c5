"""A strict stand-in for CuPy that runs on the CPU, so tests catch GPU breakage without a GPU.

Test-only: the library never imports it. ``install(monkeypatch)`` (the ``fake_cuda`` fixture in
tests/test_device_guard.py) puts it where tinytorch looks for ``cupy`` and ``cupyx``, and
``device='cuda'`` then stores tensors in :class:`ndarray`, which WRAPS a NumPy array (it is not a
subclass: tinytorch reads ``isinstance(x, np.ndarray)`` as "on the CPU").

What it copies from CuPy, because that is what breaks or stalls real GPU code:

- No implicit conversion to host arrays: ``np.asarray(x)`` and ``np.array(x)`` raise
  CuPy's TypeError ("Implicit conversion to a NumPy array is not allowed...").
- No mixing with host arrays: a ufunc, operator or function that gets a device array and a
  NumPy array (even a 0-d one) raises TypeError, as CuPy's ``Unsupported type`` does. Python
  and NumPy scalars (``np.float32(2)``) are fine, as in CuPy.
- ``np.<function>(device_array)`` works through NEP 18 (``__array_function__``) and
  ``np.<ufunc>(device_array)`` through ``__array_ufunc__``, as in CuPy; reductions return 0-d
  device arrays, never Python or NumPy scalars.
- Every device-to-host transfer is counted, with where it happened: ``.get()``,
  ``cupy.asnumpy``, ``.item()``, ``.tolist()``, ``float()/int()/bool()`` of an array,
  ``repr``/``str``/``format``; and so is each wait that CuPy makes to read back a size that
  depends on the data: ``x[bool_mask]``, ``nonzero``, ``flatnonzero``, ``argwhere``,
  ``unique`` (recorded as "sync: ..."). Host-to-device copies (``cupy.asarray(numpy_array)``,
  a NumPy index or value in ``x[...]``) are counted apart. Each costs a synchronisation on a
  GPU.
- ``x.device.id == 0``; ``cuda.runtime.getDeviceCount() == 1``; ``cupyx.scatter_add``;
  ``cupyx.scipy.special.erf``; ``random.default_rng`` gives device arrays.

What it does not copy: speed, asynchrony, memory pools, CuPy's own random streams (its
generator draws NumPy's numbers), dtype rules that differ from NumPy's (none that tinytorch uses).
"""

from __future__ import annotations

import math
import sys
import traceback
import types
from collections import Counter

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

DEPTH = 3  # callers recorded per transfer
_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
             "construct a NumPy array explicitly.")


class Transfers:
    """Counts of copies between host and device, each with where it came from."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.to_host: list[str] = []    # one "file:line function (how)" per device->host copy
        self.to_device: list[str] = []  # one per host->device copy

    def summary(self) -> Counter:
        """How many device->host copies each place made: {"file:line fn (how)": n}."""
        return Counter(self.to_host)


transfers = Transfers()


def _where(how: str) -> str:
    """Where the copy was asked for: the innermost ``DEPTH`` callers outside this file and
    NumPy, as "path:line function <- path:line function ... (how)"."""
    frames = [f for f in reversed(traceback.extract_stack()[:-3])
              if f.filename != __file__ and "/numpy/" not in f.filename][:DEPTH]
    return " <- ".join(f"{f.filename.split('/work/main/')[-1]}:{f.lineno} {f.name}"
                       for f in frames) + f" ({how})"


def _to_host(how: str) -> None:
    transfers.to_host.append(_where(how))


def _to_device(how: str) -> None:
    transfers.to_device.append(_where(how))


class Device:
    id = 0

    def synchronize(self) -> None:
        pass

    def __repr__(self) -> str:
        return "<CUDA Device 0>"


class ndarray(NDArrayOperatorsMixin):  # noqa: N801 (CuPy's name)
    """A device array: a NumPy array that refuses to leave the device without being asked."""

    __slots__ = ("_a",)
    __array_priority__ = 100  # so NumPy hands mixed operations to us (and we refuse them)

    def __init__(self, array: np.ndarray):
        assert isinstance(array, np.ndarray)
        self._a = array

    # -- what CuPy refuses --------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    # -- NumPy protocols: run NumPy on the wrapped arrays, wrap the results -------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        out = kwargs.get("out")
        if out is not None:  # the caller's own device arrays, not new wrappers of them
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types_, args, kwargs):
        return _device_function(func)(*args, **kwargs)

    # -- attributes ---------------------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    strides = property(lambda self: self._a.strides)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray(self._a.T))
    mT = property(lambda self: ndarray(self._a.mT))
    device = property(lambda self: Device())
    base = property(lambda self: None if self._a.base is None else ndarray(self._a.base))

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.shape, "typestr": self.dtype.str, "version": 3}

    def __getattr__(self, name):
        """Array methods (reshape, astype, sum, ...) run on the wrapped array, results wrapped."""
        if name.startswith("__") or name in ("tobytes", "tofile", "ctypes", "data"):
            raise AttributeError(f"fake cupy.ndarray has no attribute {name!r}")
        method = getattr(self._a, name)
        return _device_function(method) if callable(method) else method

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (ndarray(row) if isinstance(row, np.ndarray) else ndarray(np.asarray(row))
                for row in self._a)

    def __getitem__(self, index):
        index = _unwrap_index(index)
        if any(getattr(i, "dtype", None) == np.bool_ and i.ndim
               for i in (index if isinstance(index, tuple) else (index,))):
            _to_host("sync: boolean mask index")  # the result's size is read back first
        return _wrap(self._a[index])

    def __setitem__(self, index, value):
        if isinstance(value, np.ndarray):
            _to_device("x[...] = numpy array")
        else:
            value = _unwrap(value)
        self._a[_unwrap_index(index)] = value

    # -- explicit transfers to the host: allowed, counted -------------------------------------
    def get(self, stream=None, order="C", out=None) -> np.ndarray:
        _to_host(".get()")
        return self._a.copy()

    def item(self, *args):
        _to_host(".item()")
        return self._a.item(*args)

    def tolist(self):
        _to_host(".tolist()")
        return self._a.tolist()

    def __float__(self):
        _to_host("float()")
        return float(self._a)

    def __int__(self):
        _to_host("int()")
        return int(self._a)

    def __bool__(self):
        _to_host("bool()")
        return bool(self._a)

    def __complex__(self):
        _to_host("complex()")
        return complex(self._a)

    def __repr__(self):
        _to_host("repr()")
        return repr(self._a).replace("array", "fake_cupy.array", 1)

    def __str__(self):
        _to_host("str()")
        return str(self._a)

    def __format__(self, spec):
        _to_host("format()")
        return format(self._a.item() if self._a.ndim == 0 else self._a, spec)

    # CuPy arrays are not hashable and have no __index__ (``range(x)`` fails there too)
    __hash__ = None

    def __reduce__(self):
        _to_host("pickle")
        return (asarray, (self._a.copy(),))


def _refuse_host(x):
    raise TypeError(f"Unsupported type {type(x)}: a NumPy array (shape {x.shape}) was mixed "
                    f"with device arrays; move it with cupy.asarray first")


def _unwrap(x):
    """The NumPy arrays inside ``x`` (nested in tuples, lists, dicts); host arrays refused."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        _refuse_host(x)
    if isinstance(x, tuple):
        return tuple(_unwrap(v) for v in x)
    if isinstance(x, list):
        return [_unwrap(v) for v in x]
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _unwrap_index(index):
    """An index for ``x[index]``: device arrays unwrapped; NumPy arrays copied to the device
    first (CuPy does that implicitly: counted as host-to-device)."""
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    if isinstance(index, np.ndarray):
        _to_device("numpy array as an index")
        return index
    if isinstance(index, list):
        _to_device("list as an index")
        return index
    return _unwrap(index)


def _wrap(x):
    """Device arrays from NumPy results; NumPy scalars become 0-d device arrays (CuPy's
    reductions return arrays, not scalars)."""
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


#: Functions whose output size depends on the data: CuPy reads a count back to the host
#: (a synchronisation) before it can allocate the result.
SIZE_FROM_DATA = {"nonzero", "flatnonzero", "argwhere", "unique", "extract", "compress"}


def _device_function(fn):
    """``fn`` (a NumPy function) on device arrays: inputs unwrapped, outputs wrapped."""
    def call(*args, **kwargs):
        if call.__name__ in SIZE_FROM_DATA:
            _to_host(f"sync: {call.__name__}")
        return _wrap(fn(*_unwrap(args), **_unwrap(kwargs)))
    call.__name__ = getattr(fn, "__name__", "function")
    return call


class _Ufunc:
    """``cupy.exp`` etc.: NumPy's ufunc on device arrays (and scalars), refusing host arrays."""

    def __init__(self, ufunc):
        self._ufunc = ufunc
        self.__name__ = ufunc.__name__

    def __call__(self, *args, **kwargs):
        return _wrap(self._ufunc(*_unwrap(args), **_unwrap(kwargs)))

    def __getattr__(self, name):
        attr = getattr(self._ufunc, name)
        return _device_function(attr) if callable(attr) else attr


class _Namespace(types.ModuleType):
    """A module (cupy, cupy.linalg, ...) whose functions are NumPy's, on device arrays."""

    def __init__(self, name, numpy_module):
        super().__init__(name)
        self._numpy = numpy_module

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._numpy, name)
        if isinstance(attr, np.ufunc):
            return _Ufunc(attr)
        if isinstance(attr, type) or not callable(attr):  # dtypes, constants, np.newaxis
            return attr
        return _device_function(attr)


# -- the module ---------------------------------------------------------------------------------
cupy = _Namespace("cupy", np)
cupy.ndarray = ndarray
cupy.transfers = transfers
cupy.linalg = _Namespace("cupy.linalg", np.linalg)


def asarray(a, dtype=None, order=None, copy=None):
    """A device array from a device array (no copy), a NumPy array or Python data (copied)."""
    if isinstance(a, ndarray):
        return a if dtype is None else a.astype(dtype, copy=False)
    _to_device("cupy.asarray")
    return ndarray(np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    if isinstance(a, ndarray):
        return ndarray(np.array(a._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    _to_device("cupy.array")
    return ndarray(np.array(a, dtype=dtype, copy=True, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None) -> np.ndarray:
    if isinstance(a, ndarray):
        return a.get()
    return np.asarray(a)


def get_array_module(*args):
    return cupy if any(isinstance(a, ndarray) for a in args) else np


class _Grid:
    def __init__(self, grid):
        self._grid = grid

    def __getitem__(self, key):
        return _wrap(self._grid[key])


class _Generator:
    """``cupy.random.Generator``: NumPy's generator, its arrays on the device."""

    def __init__(self, seed):
        self._gen = np.random.default_rng(seed)
        self.bit_generator = self._gen.bit_generator

    def __getattr__(self, name):
        return _device_function(getattr(self._gen, name))


cupy.asarray = asarray
cupy.asanyarray = asarray
cupy.array = array
cupy.asnumpy = asnumpy
cupy.get_array_module = get_array_module
cupy.ogrid = _Grid(np.ogrid)
cupy.mgrid = _Grid(np.mgrid)
cupy.random = types.SimpleNamespace(default_rng=_Generator)
cupy.cuda = types.SimpleNamespace(
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0),
    Device=lambda index=0: Device(),
)
cupy.get_default_memory_pool = lambda: types.SimpleNamespace(
    free_all_blocks=lambda: None, used_bytes=lambda: 0, total_bytes=lambda: 0)


def _scatter_add(target, index, values):
    """``cupyx.scatter_add``: ``target[index] += values``, repeated indices accumulating."""
    np.add.at(_unwrap(target), _unwrap_index(index), _unwrap(values))


def _erf(x):
    """``cupyx.scipy.special.erf``: SciPy's when installed, else ``math.erf`` per element."""
    x = _unwrap(x)
    try:
        from scipy.special import erf  # noqa: PLC0415
    except ImportError:
        return _wrap(np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype))
    return _wrap(erf(x).astype(x.dtype, copy=False))


cupyx = types.ModuleType("cupyx")
cupyx.scatter_add = _scatter_add
cupyx.scipy = types.ModuleType("cupyx.scipy")
cupyx.scipy.special = types.ModuleType("cupyx.scipy.special")
cupyx.scipy.special.erf = _erf


def install(monkeypatch) -> Transfers:
    """Make tinytorch see this module as CuPy (undone by ``monkeypatch`` after the test).

    Returns the transfer counter, reset."""
    import tinytorch.backend  # noqa: PLC0415
    import tinytorch.random  # noqa: PLC0415

    for name, module in (("cupy", cupy), ("cupyx", cupyx), ("cupyx.scipy", cupyx.scipy),
                         ("cupyx.scipy.special", cupyx.scipy.special)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(tinytorch.backend, "_cupy", cupy)
    monkeypatch.delitem(tinytorch.random._generators, "cuda", raising=False)
    transfers.reset()
    return transfers
