"""matmul: 1-D, 2-D and batched N-D with broadcasting of the batch dimensions."""

from __future__ import annotations

from ..autograd.function import Function
from ..backend import array_module


def _check(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(
            f"matmul: both arguments need at least 1 dimension, got shapes {a.shape} and "
            f"{b.shape}; use * to multiply by a scalar")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise RuntimeError(
            f"matmul: {a.shape} @ {b.shape}: inner dimensions {k_a} and {k_b} differ. The last "
            f"dim of the left operand must equal the {'only' if b.ndim == 1 else 'second-to-last'}"
            f" dim of the right one (transpose one of them?)")
    if a.dtype != b.dtype:
        raise TypeError(
            f"matmul: both operands must have the same dtype, got {a.dtype} and {b.dtype}; "
            f"convert one with .to(dtype)")
    if a.ndim > 2 and b.ndim > 2:
        ba, bb = a.shape[:-2], b.shape[:-2]
        for x, y in zip(reversed(ba), reversed(bb)):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(
                    f"matmul: {a.shape} @ {b.shape}: batch dimensions {ba} and {bb} do not "
                    f"broadcast")


class Matmul(Function):
    """y = a @ b. With a (..., n, k) and b (..., k, m): y (..., n, m)."""

    broadcasts = True  # batch dimensions broadcast; the engine sums them back
    saves_inputs = ((0, 1), (1, 0))  # b only for a's gradient, a only for b's

    def forward(self, a, b):
        _check(a, b)
        self.save(a, b)
        return array_module(a).matmul(a, b)

    def backward(self, g):
        # y_ij = sum_k a_ik b_kj  =>  dL/da = g @ b^T,  dL/db = a^T @ g
        # 1-D operands are treated as a row (a) or column (b) vector and squeezed back.
        a, b = self.saved
        xp = array_module(g)
        if a.ndim == 1 and b.ndim == 1:  # dot product: y = sum_k a_k b_k
            return (g * b if self.needs_grad(0) else None,
                    g * a if self.needs_grad(1) else None)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if self.needs_grad(0):
            ga = g @ xp.swapaxes(b2, -1, -2)
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if self.needs_grad(1):
            if b2.ndim == 2 and a2.ndim > 2:
                # The common "activations @ weight" case: fold the batch into one GEMM
                # (batch*n, k)^T @ (batch*n, m) instead of a batched product then a sum.
                k, m = b2.shape
                gb = a2.reshape(-1, k).T @ g.reshape(-1, m)
            else:
                gb = xp.swapaxes(a2, -1, -2) @ g
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


def matmul(a, b):
    return Matmul.apply(a, b)
