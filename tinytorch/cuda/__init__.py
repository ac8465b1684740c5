"""``tinytorch.cuda``: PyTorch's ``torch.cuda`` functions, on CuPy.

What each does where there is no GPU (no CuPy, or CuPy without a device) is what PyTorch's
CPU build does, so that scripts written for either run:

================================  ==========================  ==============================
function                          no GPU                      with a GPU (CuPy)
================================  ==========================  ==============================
``is_available()``                False                       True
``device_count()``                0                           the number of GPUs
``manual_seed(s)``,               nothing (silently, as       seeds the GPU generator
``manual_seed_all(s)``            PyTorch)                    (``torch.manual_seed`` seeds
                                                              it too)
``current_device()``              RuntimeError: no GPU        the current GPU's index
``synchronize()``                 RuntimeError: no GPU        waits for the GPU's work
``get_device_name(i)``            RuntimeError: no GPU        the GPU's name
``empty_cache()``                 nothing                     frees CuPy's cached blocks
``is_bf16_supported()``           False                       False (NumPy/CuPy lack bfloat16)
================================  ==========================  ==============================

PyTorch's CPU build raises AssertionError("Torch not compiled with CUDA enabled") where the
table says RuntimeError; the message here says how to get a GPU working.
``torch.cuda.FloatTensor`` ... are the legacy tensor types of tensor_types.py, on the GPU,
and ``torch.cuda.amp`` has the (deprecated in PyTorch) ``autocast`` and ``GradScaler``.
"""

from __future__ import annotations

from .. import backend, random
from ..tensor_types import CUDA_TYPES
from . import amp  # noqa: F401  (torch.cuda.amp.GradScaler, torch.cuda.amp.autocast)

FloatTensor = CUDA_TYPES["FloatTensor"]
DoubleTensor = CUDA_TYPES["DoubleTensor"]
HalfTensor = CUDA_TYPES["HalfTensor"]
LongTensor = CUDA_TYPES["LongTensor"]
IntTensor = CUDA_TYPES["IntTensor"]
ShortTensor = CUDA_TYPES["ShortTensor"]
CharTensor = CUDA_TYPES["CharTensor"]
ByteTensor = CUDA_TYPES["ByteTensor"]
BoolTensor = CUDA_TYPES["BoolTensor"]


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    return backend.is_cuda_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or without a GPU)."""
    if not backend.is_cuda_available():
        return 0
    return int(backend.cupy_module().cuda.runtime.getDeviceCount())


def manual_seed(seed: int) -> None:
    """Seed the GPU's random numbers; without a GPU, silently nothing (as in PyTorch)."""
    seed = int(seed)
    if backend.is_cuda_available():
        # random.py keeps one generator per device; replace the GPU's with a seeded one
        random._generators["cuda"] = backend.cupy_module().random.default_rng(seed)


manual_seed_all = manual_seed  # one GPU is all tinytorch uses


def current_device() -> int:
    """The index of the GPU that new CUDA tensors go to."""
    return int(backend.cupy_module().cuda.runtime.getDevice())


def synchronize(device=None) -> None:
    """Wait until the GPU has finished the work queued so far (for timing)."""
    backend.cupy_module().cuda.Device().synchronize()


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    cp = backend.cupy_module()
    index = current_device() if device is None else int(getattr(device, "index", device) or 0)
    name = cp.cuda.runtime.getDeviceProperties(index)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def empty_cache() -> None:
    """Give CuPy's cached GPU memory back to the driver; nothing without a GPU."""
    if backend.is_cuda_available():
        backend.cupy_module().get_default_memory_pool().free_all_blocks()


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: NumPy and CuPy have no bfloat16, so tinytorch has no bfloat16 tensors."""
    return False
