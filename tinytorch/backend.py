"""NumPy or CuPy: the only place in the project that knows CuPy exists.

Every op asks ``xp = array_module(x)`` and then writes ``xp.exp(x)``, so the
same code runs on the CPU (NumPy) and on a GPU (CuPy). Importing tinytorch
never imports CuPy: it is looked up the first time CUDA is asked for.
"""

from __future__ import annotations

import math

import numpy as np

from .devices import CPU, CUDA0, as_device, device

_cupy = None  # the cupy module once imported, False if it is not installed


def _load_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy  # noqa: PLC0415  (lazy on purpose)

            _cupy = cupy
        except ImportError:
            _cupy = False
    return _cupy


def is_cuda_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    cp = _load_cupy()
    if not cp:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # a CUDA driver error means "no usable GPU"
        return False


def cupy_module():
    """The cupy module, or a RuntimeError that says how to get it."""
    cp = _load_cupy()
    if not cp:
        raise RuntimeError(
            "device 'cuda' needs CuPy, which is not installed. Install the GPU extra: "
            "pip install -e '.[gpu]' (cupy-cuda12x), or use device='cpu'."
        )
    if not is_cuda_available():
        raise RuntimeError("device 'cuda': CuPy is installed but sees no GPU. Use device='cpu'.")
    return cp


def array_module(arr):
    """``numpy`` for NumPy arrays (and Python scalars), ``cupy`` for CuPy arrays."""
    if isinstance(arr, np.ndarray) or _cupy is None or _cupy is False:
        return np
    return _cupy.get_array_module(arr)


def normalize_device(device) -> str:
    """'cpu' or 'cuda' from None, 'cpu', 'cuda', 'cuda:0', an int (GPU index) or a
    ``tinytorch.device``: the name of the array module's device."""
    if device is None:
        return "cpu"
    if device.__class__ is str and (device == "cpu" or device == "cuda"):
        return device
    kind = as_device(device).type
    if kind == "cpu" or kind == "cuda":
        return kind
    raise ValueError(f"unknown device {str(device)!r}: tinytorch stores tensors on 'cpu' or "
                     f"'cuda' (CuPy) only")


def module_for(device) -> object:
    """The array module that holds arrays on ``device``."""
    return np if normalize_device(device) == "cpu" else cupy_module()


def device_of(arr) -> str:
    """'cpu' or 'cuda': where ``arr`` lives (as a string, for the code inside tinytorch)."""
    return "cpu" if isinstance(arr, np.ndarray) else "cuda"


def device_object(arr) -> device:
    """Where ``arr`` lives as a ``tinytorch.device`` (what ``tensor.device`` returns)."""
    if isinstance(arr, np.ndarray):
        return CPU
    index = arr.device.id
    return CUDA0 if index == 0 else device("cuda", index)


def to_device(arr, device):
    """Copy ``arr`` to ``device`` ('cpu' or 'cuda'); no copy when it is already there."""
    if normalize_device(device) == "cpu":
        return as_numpy(arr)
    cp = cupy_module()
    return cp.asarray(arr)


def as_numpy(arr):
    """A NumPy array from a NumPy or CuPy array (a device-to-host copy for CuPy)."""
    if isinstance(arr, np.ndarray):
        return arr
    if _cupy and isinstance(arr, _cupy.ndarray):
        return _cupy.asnumpy(arr)
    return np.asarray(arr)


def scatter_add(xp, target, index, values) -> None:
    """``target[index] += values`` where repeated indices accumulate (unbuffered)."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx  # noqa: PLC0415

        cupyx.scatter_add(target, index, values)


def index_add_rows(xp, target, index, rows) -> None:
    """``target[index[i]] += rows[i]`` for a 1-D integer ``index``, repeats accumulating.

    The backward of every gather along dim 0 (embedding, index_select). NumPy's
    ``np.add.at`` does it but handles one element at a time (slow: benchmarks/README.md).
    Sorting instead puts each row's first use in one vectorised ``+=`` (distinct rows, so
    no write is lost); only the repeats, usually a small fraction, go through
    ``np.add.at``. Same sums.
    """
    if xp is not np or index.size < 2:
        scatter_add(xp, target, index, rows)
        return
    if (index[1:] > index[:-1]).all():  # increasing, so distinct (a packing's index): no sort
        target[index] += rows
        return
    order = np.argsort(index, kind="stable")
    idx = index[order]
    first = np.empty(idx.shape, dtype=bool)
    first[0] = True
    np.not_equal(idx[1:], idx[:-1], out=first[1:])
    rows = rows[order]
    target[idx[first]] += rows[first]
    repeat = ~first
    if repeat.any():
        np.add.at(target, idx[repeat], rows[repeat])


def erf(x):
    """The error function, elementwise, to double precision (for exact GELU).

    NumPy has no ``erf``: SciPy's is used when installed (CuPy's on a GPU), else
    ``math.erf`` element by element, which is exact but slow on large arrays.
    """
    if not isinstance(x, (np.ndarray, np.generic)):
        from cupyx.scipy.special import erf as cupy_erf  # noqa: PLC0415

        return cupy_erf(x)
    try:
        from scipy.special import erf as scipy_erf  # noqa: PLC0415
    except ImportError:
        return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)
    return scipy_erf(x).astype(x.dtype, copy=False)
