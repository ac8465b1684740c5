"""tinytorch: a reverse-mode autograd engine over NumPy (CuPy on a GPU) with PyTorch's API.

    import tinytorch as torch
    x = torch.tensor(2.0, requires_grad=True)
    y = x ** 2
    y.backward()
    x.grad        # tensor(4.)

Read it in this order: tensor.py (what a Tensor holds), autograd/function.py (what an
op records), autograd/engine.py (how backward walks the graph), then ops/.
"""

from . import autograd, backend, dtypes, random
from . import tensor_methods  # noqa: F401  (adds Tensor's operators and methods: see there)
from .autograd import (
    enable_grad, fast_paths, fast_paths_enabled, is_grad_enabled, no_grad, set_fast_paths,
    set_grad_enabled,
)
from .backend import is_cuda_available
from .creation import (
    arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,
    ones_like, rand, rand_like, randint, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from .dtypes import (
    bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8, int16,
    int32, int64, long, set_default_dtype, short, uint8,
)
from .ops.arithmetic import add, div, mul, neg, pow, sub
from .ops.indexing import gather, index_select
from .ops.linalg import matmul
from .ops.reduction import (
    all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, std, sum, var,
)
from .ops.selection import (
    eq, ge, gt, le, logical_and, logical_not, logical_or, logical_xor, lt, masked_fill, maximum,
    minimum, ne, one_hot, tril, triu, where,
)
from .ops.shape import (
    cat, chunk, concat, concatenate, expand, flatten, narrow, permute, reshape, split, squeeze,
    stack, swapaxes, transpose, unsqueeze,
)
from .ops.softmax import log_softmax, softmax
from .ops.unary import abs, clamp, clip, cos, exp, gelu, log, relu, rsqrt, sigmoid, sin, sqrt, tanh
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .serialization import CheckpointError, load, save
from .tensor import Tensor

divide, multiply, subtract = div, mul, sub


# -- devices, dtypes and the tensor protocol (devices.py, dtypes.py, size.py, tensor_types.py,
# cuda/, backends/, amp.py) --------------------------------------------------------------------
from . import amp, backends, cuda  # noqa: E402  (torch.cuda.is_available(), torch.amp...)
from .amp import autocast  # noqa: E402
from .backends import (  # noqa: E402
    are_deterministic_algorithms_enabled, get_float32_matmul_precision,
    set_float32_matmul_precision, use_deterministic_algorithms,
)
from .devices import device  # noqa: E402
from .dtypes import bfloat16, dtype  # noqa: E402
from .size import Size  # noqa: E402
from .tensor_types import (  # noqa: E402
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
    LongTensor, ShortTensor, is_floating_point, is_tensor, numel,
)

# -- more ops under PyTorch's names: sorting, running sums, scatter, einsum, ... (issue 16) ------
from . import linalg  # noqa: E402  (torch.linalg.norm, vector_norm, matrix_norm)
from .ops.cumulative import cumprod, cumsum  # noqa: E402
from .ops.einsum import einsum  # noqa: E402
from .ops.lerp import lerp  # noqa: E402
from .ops.matmul_forms import addmm, baddbmm, bmm, mm  # noqa: E402
from .ops.sampling import multinomial  # noqa: E402
from .ops.scatter import index_fill, masked_select, scatter, scatter_add  # noqa: E402
from .ops.selection import allclose, isclose, nonzero  # noqa: E402
from .ops.shape import flip, roll, unflatten  # noqa: E402
from .ops.sorting import argsort, sort, topk  # noqa: E402
from .ops.unary import clamp_max, clamp_min  # noqa: E402

# -- threads: BLAS and the elementwise passes (parallel.py) -------------------------------------
from .parallel import get_num_threads, set_num_threads  # noqa: E402

__version__ = "0.1.0"

from . import nn, optim, viz  # noqa: E402  (they build on everything above)
from . import utils  # noqa: E402  (tinytorch.utils.data: Dataset, DataLoader, samplers)
from . import distributed  # noqa: E402  (tinytorch.distributed: MPI, imported only when used)
