"""``torch.linalg`` (the part of it this library has): norms, and the matrix product.

The ops live in ``ops/norms.py`` (vector_norm, matrix_norm, norm) and ``ops/linalg.py``
(matmul); this module only gathers them under PyTorch's names.
"""

from __future__ import annotations

from .ops.linalg import matmul
from .ops.norms import linalg_norm as norm
from .ops.norms import matrix_norm, vector_norm

__all__ = ["matmul", "matrix_norm", "norm", "vector_norm"]
