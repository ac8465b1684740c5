"""``nn.utils``: gradient clipping."""

from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend import array_module


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None):
    """Scale all gradients together so their joint norm is at most ``max_norm``.

    total = ||(g_1, g_2, ...)||_p over every element of every gradient; if
    total > max_norm, every gradient is multiplied by max_norm / (total + 1e-6).
    Returns the total norm (before clipping) as a tensor, like PyTorch.

    A NaN anywhere makes the total NaN, and then every gradient NaN, as in PyTorch (an
    inf makes it inf: every gradient is multiplied by 0, and inf * 0 is NaN).
    ``error_if_nonfinite=True`` raises instead, leaving the gradients as they are.
    ``foreach`` is accepted and ignored: it picks PyTorch's fused kernel, and here the
    loop below is the only one.
    """
    from ..creation import tensor  # noqa: PLC0415

    from ..tensor import Tensor  # noqa: PLC0415

    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad.array for p in parameters if p.grad is not None]
    if not grads:
        return tensor(0.0)
    xp = array_module(grads[0])
    norm_type = float(norm_type)
    if xp is not np:
        return Tensor(_clip_on_device(xp, grads, max_norm, norm_type, error_if_nonfinite))
    if norm_type == math.inf:
        # np.max, not Python's max: Python's max skips a NaN unless it comes first
        total = float(np.max([float(xp.abs(g).max()) for g in grads]))
    elif norm_type == 2.0:
        # sum of squares as a dot product of each gradient with itself: one BLAS pass, no
        # temporaries (benchmarks/README.md); BLAS keeps many partial sums, so float32
        # loses ~1e-6 relative, as PyTorch's float32 norm does
        total = math.sqrt(sum(float(xp.dot(g.reshape(-1), g.reshape(-1))) for g in grads))
    else:
        total = sum(float((xp.abs(g.astype(xp.float64, copy=False)) ** norm_type).sum())
                    for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise _nonfinite(norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1 or math.isnan(coef):  # a NaN coefficient spreads: PyTorch's clamp keeps NaN
        with no_grad():
            for g in grads:
                g *= g.dtype.type(coef)
    return tensor(total, dtype=grads[0].dtype)


def _clip_on_device(xp, grads, max_norm, norm_type, error_if_nonfinite):
    """The same clip on a GPU, without reading the norm back to the host (PyTorch's way).

    Reading a number from the GPU waits for all the work queued before it, so the loop
    above (one ``float`` per gradient) would stall the GPU once per parameter. Here the
    norm stays a 0-d device array and every gradient is multiplied by
    min(1, max_norm / (total + 1e-6)) (which is 1 when nothing needs clipping, and NaN
    when the total is). Returns the total as a 0-d array in the gradients' dtype.
    """
    if norm_type == math.inf:
        total = xp.stack([xp.abs(g).max().astype(xp.float64) for g in grads]).max()
    elif norm_type == 2.0:
        total = xp.sqrt(sum(xp.dot(g.reshape(-1), g.reshape(-1)).astype(xp.float64)
                            for g in grads))
    else:
        total = sum((xp.abs(g.astype(xp.float64, copy=False)) ** norm_type).sum()
                    for g in grads) ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):  # the one read-back, when asked
        raise _nonfinite(norm_type)
    coef = xp.minimum(max_norm / (total + 1e-6), 1.0)
    with no_grad():
        for g in grads:
            g *= coef.astype(g.dtype)
    return total.astype(grads[0].dtype)


def _nonfinite(norm_type) -> RuntimeError:
    return RuntimeError(
        f"The total norm of order {norm_type} for gradients from `parameters` is "
        f"non-finite, so it cannot be clipped. To disable this error and scale the "
        f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
