"""mm, bmm, addmm, baddbmm: the BLAS-style forms of the matrix product.

Each is matmul (ops/linalg.py) with stricter shape rules, plus a scaled sum, composed
from the ops that are already proven, so their gradients are matmul's, mul's and add's:

    mm(a, b)                          a @ b              a (n, k), b (k, m): 2-D only
    bmm(a, b)                         a @ b              (B, n, k) @ (B, k, m): no broadcasting
    addmm(c, a, b, beta=, alpha=)     beta c + alpha (a @ b)      c broadcasts to (n, m)
    baddbmm(c, a, b, beta=, alpha=)   beta c + alpha (a @ b)      c broadcasts to (B, n, m)

With ``beta=0`` the input c is ignored (NaN and inf in it do not propagate), as in PyTorch.
"""

from __future__ import annotations

from .linalg import matmul


def _check_dims(t, ndim, what, op):
    if t.ndim != ndim:
        kind = "matrix" if ndim == 2 else "3D tensor"
        raise RuntimeError(f"{op}: {what} must be a {kind}, got a {t.ndim}-D tensor of shape "
                           f"{tuple(t.shape)}")


def _check_product(a, b, op):
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"{op}: shapes cannot be multiplied ({'x'.join(map(str, a.shape))} and "
            f"{'x'.join(map(str, b.shape))}): the last dim of the first must equal the "
            f"second-to-last of the second")
    if a.ndim == 3 and a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"{op}: batch sizes differ, {a.shape[0]} and {b.shape[0]} ({tuple(a.shape)} and "
            f"{tuple(b.shape)}); {op} does not broadcast (matmul does)")


def _check_input(c, shape, op):
    ok = c.ndim <= len(shape) and all(
        n in (1, m) for n, m in zip(reversed(c.shape), reversed(shape)))
    if not ok:
        raise RuntimeError(f"{op}: input of shape {tuple(c.shape)} does not broadcast to the "
                           f"product's shape {shape}")


def mm(input, mat2):  # noqa: A002 (PyTorch's names)
    """The matrix product of two 2-D tensors: (n, k) @ (k, m) -> (n, m)."""
    _check_dims(input, 2, "self", "mm")
    _check_dims(mat2, 2, "mat2", "mm")
    _check_product(input, mat2, "mm")
    return matmul(input, mat2)


def bmm(input, mat2):  # noqa: A002
    """A batch of matrix products: (B, n, k) @ (B, k, m) -> (B, n, m), equal batch sizes."""
    _check_dims(input, 3, "batch1", "bmm")
    _check_dims(mat2, 3, "batch2", "bmm")
    _check_product(input, mat2, "bmm")
    return matmul(input, mat2)


def _add_scaled(c, product, beta, alpha, op):
    _check_input(c, tuple(product.shape), op)
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # c is ignored, as in PyTorch (0 * nan would be nan)
        return product
    return (c if beta == 1 else c * beta) + product


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (mat1 @ mat2); mat1 (n, k), mat2 (k, m), input broadcasts to
    (n, m)."""
    _check_dims(mat1, 2, "mat1", "addmm")
    _check_dims(mat2, 2, "mat2", "addmm")
    _check_product(mat1, mat2, "addmm")
    return _add_scaled(input, matmul(mat1, mat2), beta, alpha, "addmm")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):  # noqa: A002
    """beta * input + alpha * (batch1 @ batch2); batch1 (B, n, k), batch2 (B, k, m), input
    broadcasts to (B, n, m)."""
    _check_dims(batch1, 3, "batch1", "baddbmm")
    _check_dims(batch2, 3, "batch2", "baddbmm")
    _check_product(batch1, batch2, "baddbmm")
    return _add_scaled(input, matmul(batch1, batch2), beta, alpha, "baddbmm")
