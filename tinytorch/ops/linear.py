"""linear: y = x W^T + b, the affine map of ``nn.Linear``.

Two implementations, and ``tinytorch.fast_paths`` picks one:

- ``linear_composed``: ``x @ W.T + b`` with the primitives matmul, transpose and add;
  the engine sums b's broadcast gradient back over the rows. Read this one first.
- ``Linear``: the same as one node whose backward is exactly three GEMM-shaped
  products and no copies; a 3-D input is folded into one (rows, in) matrix, one GEMM
  instead of NumPy's loop of per-batch products.
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..autograd.grad_mode import fast_paths_enabled
from .blas_sums import sum_first_axis
from .linalg import matmul


def linear_composed(x, weight, bias=None):
    """x (..., in_features) @ weight.T (in_features, out_features) + bias (out_features,)."""
    y = matmul(x, weight.transpose(0, 1))
    return y if bias is None else y + bias


class Linear(Function):
    """x (..., in_features), weight (out_features, in_features), bias (out_features,) or None
    -> y (..., out_features)."""

    fast_path = True  # the fused form of linear_composed
    saves_inputs = ((0, 1), (1, 0))  # weight only for x's gradient, x only for weight's

    def forward(self, x, weight, bias=None):
        self.save(x, weight)
        self.rows = math.prod(x.shape[:-1])                    # (not -1: a size may be 0)
        y = x.reshape(self.rows, weight.shape[1]) @ weight.T   # (rows, out)
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        # y = x W^T + b, i.e. y_ni = sum_j x_nj W_ij + b_i, with n running over all rows:
        #   dL/dx = g W          (..., out) @ (out, in)
        #   dL/dW = g^T x        summed over every row n: (out, rows) @ (rows, in)
        #   dL/db = sum_n g_n    (a column sum over the rows)
        x, weight = self.saved
        out_f, in_f = weight.shape
        g2 = g.reshape(self.rows, out_f)
        gx = (g2 @ weight).reshape(x.shape) if self.needs_grad(0) else None
        gw = (g2.T @ x.reshape(self.rows, in_f)) if self.needs_grad(1) else None
        gb = None
        if len(self.parents) > 2 and self.needs_grad(2):
            gb = sum_first_axis(g2)
        return gx, gw, gb


def linear(x, weight, bias=None):
    """y = x @ weight.T + bias (``torch.nn.functional.linear``).

    ``linear_composed`` when fast paths are off, else the fused ``Linear``.
    """
    if x.shape[-1:] != weight.shape[1:]:
        features = x.shape[-1] if x.ndim else None
        raise RuntimeError(
            f"linear: input of shape {tuple(x.shape)} has {features} features but the weight "
            f"{tuple(weight.shape)} expects {weight.shape[1]} (in_features); reshape the input "
            f"or build the layer with in_features={features if x.ndim else 1}")
    if x.dtype != weight.dtype:
        raise TypeError(
            f"linear: input is {x.dtype} but the weight is {weight.dtype}; convert the input "
            f"(x.to(weight.dtype)) or the module (module.to(dtype))")
    if not fast_paths_enabled():
        return linear_composed(x, weight, bias)
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
