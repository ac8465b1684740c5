"""cross_entropy (softmax + negative log-likelihood in one op) and nll_loss.

For logits x of one example, target class t, and label smoothing eps over C classes,
the target distribution is q = (1 - eps) onehot(t) + eps / C and

    loss = -sum_c q_c log p_c,        p = softmax(x)

Fused because the gradient is beautifully simple, dloss/dx = p - q, while the
composed graph (log_softmax, gather, mean, ...) stores and walks much more. The
twin ``cross_entropy_composed`` in tests/test_fused.py is what it is tested against.
Shapes follow PyTorch: input (N, C) or (N, C, d1, ...), target (N) or (N, d1, ...).
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..backend import array_module
from .softmax import flushed_exp

_REDUCTIONS = ("mean", "sum", "none")


def _rows(x, target, op):
    """Logits as (rows, C) with the class dim last, and the targets as (rows,)."""
    if x.ndim < 1 or x.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating point tensor (N, C) or (N, C, d1, ...), "
                        f"got {x.dtype} of shape {x.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: target must hold class indices as int64, got {target.dtype}; use "
            f"target.long() (class probabilities are not supported)")
    expected = (x.shape[0],) + x.shape[2:] if x.ndim > 1 else ()
    if target.shape != expected:
        raise ValueError(
            f"{op}: input of shape {x.shape} needs a target of shape {expected}, got "
            f"{target.shape}. Input is (N, C) or (N, C, d1, ...): for a sequence model with "
            f"logits (batch, seq, C) pass logits.reshape(-1, C) and target.reshape(-1), or "
            f"logits.transpose(1, 2)")
    classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    moved = array_module(x).moveaxis(x, 1, -1) if x.ndim > 2 else x
    return moved.reshape(-1, classes), target.reshape(-1), classes


def _reduce(per_row, valid, reduction, out_shape):
    count = int(valid.sum())
    if reduction == "none":
        return per_row.reshape(out_shape), count
    total = per_row.sum()
    if reduction == "sum":
        return total, count
    # mean over the rows that count (not the ignored ones); 0/0 is NaN, as PyTorch
    return (total / count if count else total.dtype.type(math.nan)), count


def _check_target_range(t, classes, ignore_index, op):
    """IndexError naming the op when a class id (ignored rows excluded) is outside [0, C)."""
    if t.size and (int(t.min()) < 0 or int(t.max()) >= classes):
        raise IndexError(
            f"{op}: target ids must be in [0, {classes - 1}] (or ignore_index="
            f"{ignore_index}), got [{int(t.min())}, {int(t.max())}]")


def _check_common(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


class CrossEntropy(Function):
    """loss = -sum_c q_c log softmax(x)_c per row, q the (smoothed) one-hot target;
    x (N, C) or (N, C, d1, ...) logits, target (N) or (N, d1, ...) int64."""

    def forward(self, x, target, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        _check_common(reduction, "cross_entropy")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
        xp = array_module(x)
        logits, t, classes = _rows(x, target, "cross_entropy")
        valid = t != ignore_index
        safe_t = xp.where(valid, t, 0)
        _check_target_range(safe_t, classes, ignore_index, "cross_entropy")
        # Softmax row by row, shifted by the row max m so exp cannot overflow:
        #   e = exp(x - m),  p = e / sum(e),  log p = x - m - log sum(e)
        # Only the target's log p and the row mean of log p are needed, so neither p nor
        # log p is built as an (N, C) array: the backward gets e and the row sums.
        # (Row sums as a product with a ones vector: BLAS does them ~6x faster than .sum.)
        m = logits.max(axis=1, keepdims=True)
        e = xp.subtract(logits, m, out=xp.empty_like(logits))
        e = flushed_exp(e, out=e)                               # (N, C)
        ones = xp.ones(classes, dtype=logits.dtype)
        total = e @ ones                                        # (N,)
        log_total = xp.log(total)
        m = m[:, 0]
        nll = log_total - (xp.take_along_axis(logits, safe_t[:, None], axis=1)[:, 0] - m)
        if label_smoothing:
            mean_logp = (logits @ ones) / classes - m - log_total  # (1/C) sum_c log p_c
            per_row = (1 - label_smoothing) * nll - label_smoothing * mean_logp
        else:
            per_row = nll
        per_row = xp.where(valid, per_row, 0)
        out_shape = target.shape
        loss, count = _reduce(per_row, valid, reduction, out_shape)
        self.options = (reduction, label_smoothing, count, x.shape, classes)
        self.save(e, total, safe_t, valid)
        return loss

    def backward(self, g):
        # dloss_row/dx = p - q, q = (1 - eps) onehot(t) + eps/C, p = e / sum(e) = softmax(x);
        # times the row's upstream gradient s: g itself ('none'), g ('sum') or g/count
        # ('mean'); ignored rows get s = 0. Computed as e (s / sum e) - (eps/C) s, then
        # - (1 - eps) s at the target.
        e, total, t, valid = self.saved
        reduction, eps, count, in_shape, classes = self.options
        xp = array_module(e)
        if reduction == "none":
            scale = g.reshape(-1) * valid
        else:
            scale = valid * (g / count if reduction == "mean" and count else g)
        scale = scale.astype(e.dtype, copy=False)
        grad = e * (scale / total)[:, None]    # a new array: e stays for retain_graph
        if eps:
            grad -= (scale * (eps / classes))[:, None]
        grad[xp.arange(grad.shape[0]), t] -= (1 - eps) * scale
        if len(in_shape) > 2:  # back to (N, C, d1, ...)
            moved = (in_shape[0],) + in_shape[2:] + (classes,)
            grad = xp.moveaxis(grad.reshape(moved), -1, 1)
        return grad.reshape(in_shape), None


class NLLLoss(Function):
    """loss = -input[target] for log-probabilities ``input`` (PyTorch's nll_loss)."""

    def forward(self, x, target, ignore_index=-100, reduction="mean"):
        _check_common(reduction, "nll_loss")
        xp = array_module(x)
        logp, t, classes = _rows(x, target, "nll_loss")
        valid = t != ignore_index
        safe_t = xp.where(valid, t, 0)
        if safe_t.size and (int(safe_t.min()) < 0 or int(safe_t.max()) >= classes):
            raise IndexError(f"nll_loss: target ids must be in [0, {classes - 1}], got "
                             f"[{int(safe_t.min())}, {int(safe_t.max())}]")
        per_row = xp.where(valid, -xp.take_along_axis(logp, safe_t[:, None], axis=1)[:, 0], 0)
        loss, count = _reduce(per_row, valid, reduction, target.shape)
        self.options = (reduction, count, x.shape, classes, logp.shape)
        self.save(safe_t, valid)
        return loss

    def backward(self, g):
        # dloss/dinput[row, c] = -1 if c == target[row] (times the row's upstream gradient)
        t, valid = self.saved
        reduction, count, in_shape, classes, rows_shape = self.options
        xp = array_module(t)
        grad = xp.zeros(rows_shape, dtype=g.dtype)
        if reduction == "none":
            scale = g.reshape(-1) * valid
        else:
            scale = valid * (g / count if reduction == "mean" and count else g)
        grad[xp.arange(rows_shape[0]), t] = -scale
        if len(in_shape) > 2:
            grad = xp.moveaxis(grad.reshape((in_shape[0],) + in_shape[2:] + (classes,)), -1, 1)
        return grad.reshape(in_shape), None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                  label_smoothing=0.0):
    """``torch.nn.functional.cross_entropy`` from logits (class-index targets)."""
    if weight is not None:
        raise NotImplementedError("cross_entropy: class weights are not supported (weight=None)")
    return CrossEntropy.apply(input, target, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=float(label_smoothing))


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    if weight is not None:
        raise NotImplementedError("nll_loss: class weights are not supported (weight=None)")
    return NLLLoss.apply(input, target, ignore_index=ignore_index, reduction=reduction)
