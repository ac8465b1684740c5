"""linear: y = x W^T + b, the affine map of ``nn.Linear``, as one fused op.

Fused (one node instead of transpose + matmul + add) because it is the hottest op of
a transformer: its backward does exactly three GEMM-shaped products and no copies.
The composed twin ``x @ w.T + b`` is tested against it in tests/test_fused.py.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..backend import array_module


class Linear(Function):
    """x (..., in_features), weight (out_features, in_features), bias (out_features,) or None
    -> y (..., out_features)."""

    saves_inputs = (0, 1)

    def forward(self, x, weight, bias=None):
        if x.shape[-1:] != weight.shape[1:]:
            raise RuntimeError(
                f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else None} features "
                f"but the weight {weight.shape} expects {weight.shape[1]} (in_features); "
                f"reshape the input or build the layer with in_features={x.shape[-1] if x.ndim else 1}")
        if x.dtype != weight.dtype:
            raise TypeError(
                f"linear: input is {x.dtype} but the weight is {weight.dtype}; convert the input "
                f"(x.to(weight.dtype)) or the module (module.to(dtype))")
        self.save(x, weight)
        # Fold every leading dim into rows: one (rows, in) @ (in, out) GEMM is about twice
        # as fast as NumPy's loop of small per-batch GEMMs for a 3-D @ 2-D matmul.
        y = x.reshape(-1, weight.shape[1]) @ weight.T
        if bias is not None:
            y += bias
        return y.reshape(x.shape[:-1] + (weight.shape[0],))

    def backward(self, g):
        # y = x W^T + b, i.e. y_ni = sum_j x_nj W_ij + b_i, with n running over all rows:
        #   dL/dx = g W          (..., out) @ (out, in)
        #   dL/dW = g^T x        summed over every row n: (out, rows) @ (rows, in)
        #   dL/db = sum_n g_n    (a ones-vector product: BLAS sums columns 2x faster than .sum)
        x, weight = self.saved
        out_f, in_f = weight.shape
        g2 = g.reshape(-1, out_f)
        gx = (g2 @ weight).reshape(x.shape) if self.needs_grad(0) else None
        gw = (g2.T @ x.reshape(-1, in_f)) if self.needs_grad(1) else None
        gb = None
        if len(self.parents) > 2 and self.needs_grad(2):
            gb = array_module(g).ones(g2.shape[0], dtype=g.dtype) @ g2
        return gx, gw, gb


def linear(x, weight, bias=None):
    """y = x @ weight.T + bias (``torch.nn.functional.linear``)."""
    if bias is None:
        return Linear.apply(x, weight)
    return Linear.apply(x, weight, bias)
