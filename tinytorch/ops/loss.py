"""cross_entropy and nll_loss, from class-index targets, with PyTorch's signatures.

For the logits x of one example over C classes, its target class t, and label
smoothing eps:

    p = softmax(x),     q = (1 - eps) onehot(t) + eps / C      (the target distribution)
    loss = -sum_c q_c log p_c = (1 - eps) (-log p_t) + eps (-(1/C) sum_c log p_c)

Shapes follow PyTorch: input (N, C) or (N, C, d1, ...) (or (C,) for one example),
target (N) or (N, d1, ...) int64. Rows whose target is ``ignore_index`` count nowhere;
'mean' divides by the number of rows that count.

cross_entropy has two implementations, and ``tinytorch.fast_paths`` picks one:

- ``cross_entropy_composed``: the formula above written with primitives (log_softmax,
  nll_loss, mean); its backward is theirs. Read this one first.
- ``CrossEntropy``: the same as one node. Its backward is the one line dloss/dx = p - q,
  and it keeps exp(x - max) and the row sums instead of the graph's log p, gathers and
  means (see ``benchmarks/README.md`` for what that buys).
"""

from __future__ import annotations

import math

from ..autograd.function import Function
from ..autograd.grad_mode import fast_paths_enabled
from ..backend import array_module
from .blas_sums import sum_last_axis
from .reduction import mean
from .selection import where
from .softmax import log_softmax, shifted_exp

_REDUCTIONS = ("mean", "sum", "none")


# -- checks and the shapes they share ------------------------------------------------------

def _array(t):
    return getattr(t, "array", t)


def check_loss_args(x, target, ignore_index, reduction, op, label_smoothing=0.0):
    """One-line errors naming ``op`` for a bad reduction, smoothing, dtype, shape or class id.

    x (N, C) or (N, C, d1, ...) or (C,); target (N) or (N, d1, ...) or () int64.
    """
    check_reduction(reduction, label_smoothing, op)
    x, target = _array(x), _array(target)
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
    check_target_range(target, classes, ignore_index, op)


def check_reduction(reduction, label_smoothing, op):
    """ValueError naming ``op`` for an unknown reduction or a smoothing outside [0, 1]."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")


def check_target_range(target, classes, ignore_index, op):
    """IndexError naming the op when a class id (ignored rows excluded) is outside [0, C).

    One truth value is read back to the host, with no mask-selected copy before it (on a
    GPU, each read waits for the queued work, and so does a boolean mask's selection)."""
    bad = ((target < 0) | (target >= classes)) & (target != ignore_index)
    if target.size and bool(bad.any()):
        t = target[target != ignore_index]
        raise IndexError(
            f"{op}: target ids must be in [0, {classes - 1}] (or ignore_index="
            f"{ignore_index}), got [{int(t.min())}, {int(t.max())}]")


def _class_last(x, target):
    """Logits as (rows, C) with the class dim last, the targets as (rows,), and C."""
    classes = x.shape[1] if x.ndim > 1 else x.shape[0]
    moved = array_module(x).moveaxis(x, 1, -1) if x.ndim > 2 else x
    return moved.reshape(-1, classes), target.reshape(-1), classes


def _class_back(grad, in_shape):
    """The inverse of ``_class_last`` for a gradient: (rows, C) -> in_shape."""
    if len(in_shape) > 2:  # back to (N, C, d1, ...)
        moved = (in_shape[0],) + tuple(in_shape[2:]) + (in_shape[1],)
        grad = array_module(grad).moveaxis(grad.reshape(moved), -1, 1)
    return grad.reshape(in_shape)


def _reduce(per_row, valid, reduction, out_shape):
    """The loss from per-row losses (zero where not valid), and the count of valid rows."""
    count = int(valid.sum())
    if reduction == "none":
        return per_row.reshape(out_shape), count
    total = per_row.sum()
    if reduction == "sum":
        return total, count
    # mean over the rows that count (not the ignored ones); 0/0 is NaN, as PyTorch
    return (total / count if count else total.dtype.type(math.nan)), count


def _row_scale(g, valid, reduction, count, dtype):
    """Each row's share of the upstream gradient g: g itself per row ('none'), g ('sum')
    or g / count ('mean') for the rows that count, 0 for the ignored ones. (rows,)"""
    if reduction == "none":
        scale = g.reshape(-1) * valid
    else:
        scale = valid * (g / count if reduction == "mean" and count else g)
    return scale.astype(dtype, copy=False)


# -- nll_loss: a primitive --------------------------------------------------------------------

class NLLLoss(Function):
    """loss = -input[target] per row, for log-probabilities ``input`` (PyTorch's nll_loss)."""

    def forward(self, x, target, ignore_index=-100, reduction="mean"):
        xp = array_module(x)
        logp, t, classes = _class_last(x, target)
        valid = t != ignore_index
        safe_t = xp.where(valid, t, 0)
        per_row = xp.where(valid, -xp.take_along_axis(logp, safe_t[:, None], axis=1)[:, 0], 0)
        loss, self.count = _reduce(per_row, valid, reduction, target.shape)
        self.reduction, self.in_shape, self.classes = reduction, x.shape, classes
        self.save(safe_t, valid)
        return loss

    def backward(self, g):
        # dloss/dinput[row, c] = -1 if c == target[row], else 0 (times the row's share of g)
        t, valid = self.saved
        xp = array_module(t)
        scale = _row_scale(g, valid, self.reduction, self.count, g.dtype)
        grad = xp.zeros((t.shape[0], self.classes), dtype=g.dtype)
        grad[xp.arange(t.shape[0]), t] = -scale
        return _class_back(grad, self.in_shape), None


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):  # noqa: A002
    """``torch.nn.functional.nll_loss``: -input[target], from log-probabilities."""
    if weight is not None:
        raise NotImplementedError("nll_loss: class weights are not supported (weight=None)")
    check_loss_args(input, target, ignore_index, reduction, "nll_loss")
    return NLLLoss.apply(input, target, ignore_index=ignore_index, reduction=reduction)


# -- cross_entropy: the textbook formula, then the fused op -----------------------------------

def cross_entropy_composed(input, target, ignore_index=-100, reduction="mean",  # noqa: A002
                           label_smoothing=0.0):
    """(1 - eps) (-log p_t) + eps (-(1/C) sum_c log p_c), from primitives."""
    class_dim = 1 if input.ndim > 1 else 0
    logp = log_softmax(input, dim=class_dim)                          # log p, like input
    loss = nll_loss(logp, target, ignore_index=ignore_index, reduction=reduction)  # -log p_t
    if not label_smoothing:
        return loss
    counts = target != ignore_index                                   # like target
    smooth = where(counts, -mean(logp, dim=class_dim), 0.0)           # -(1/C) sum_c log p_c
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":  # over the rows that count, like nll_loss (0/0 is NaN)
        count = int(counts.sum())
        smooth = smooth.sum() / count if count else smooth.sum() * math.nan
    return (1 - label_smoothing) * loss + label_smoothing * smooth


class CrossEntropy(Function):
    """The same loss as ``cross_entropy_composed``, as one node (its backward: p - q)."""

    fast_path = True  # the fused form of cross_entropy_composed

    def forward(self, x, target, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        xp = array_module(x)
        logits, t, classes = _class_last(x, target)
        valid = t != ignore_index
        safe_t = xp.where(valid, t, 0)
        # With e = exp(x - m) and T = sum(e) per row:  log p_c = x_c - m - log T.
        # Only the target's log p and the row mean of log p are needed, so neither p nor
        # log p is built as an (N, C) array: backward gets e and T.
        e, m = shifted_exp(logits, 1, out=xp.empty_like(logits), flush=True)   # (N, C), (N, 1)
        total = sum_last_axis(e)                                                # (N,)
        log_total = xp.log(total)
        m = m[:, 0]
        nll = log_total - (xp.take_along_axis(logits, safe_t[:, None], axis=1)[:, 0] - m)
        if label_smoothing:
            mean_logp = sum_last_axis(logits) / classes - m - log_total  # (1/C) sum_c log p_c
            per_row = (1 - label_smoothing) * nll - label_smoothing * mean_logp
        else:
            per_row = nll
        per_row = xp.where(valid, per_row, 0)
        loss, self.count = _reduce(per_row, valid, reduction, target.shape)
        self.reduction, self.label_smoothing, self.in_shape = reduction, label_smoothing, x.shape
        self.save(e, total, safe_t, valid)
        return loss

    def backward(self, g):
        # dloss_row/dx = p - q, q = (1 - eps) onehot(t) + eps/C, p = e / T = softmax(x),
        # times the row's share s of the upstream gradient (0 for ignored rows):
        #   s e / T - (eps/C) s everywhere, and - (1 - eps) s more at the target.
        e, total, t, valid = self.saved
        xp = array_module(e)
        eps, classes = self.label_smoothing, e.shape[1]
        scale = _row_scale(g, valid, self.reduction, self.count, e.dtype)
        grad = e * (scale / total)[:, None]    # a new array: e stays for retain_graph
        if eps:
            grad -= (scale * (eps / classes))[:, None]
        grad[xp.arange(grad.shape[0]), t] -= (1 - eps) * scale
        return _class_back(grad, self.in_shape), None


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",  # noqa: A002
                  label_smoothing=0.0):
    """``torch.nn.functional.cross_entropy`` from logits and class indices.

    ``cross_entropy_composed`` when fast paths are off, else the fused ``CrossEntropy``.
    """
    if weight is not None:
        raise NotImplementedError("cross_entropy: class weights are not supported (weight=None)")
    label_smoothing = float(label_smoothing)
    check_loss_args(input, target, ignore_index, reduction, "cross_entropy", label_smoothing)
    if not fast_paths_enabled():
        return cross_entropy_composed(input, target, ignore_index, reduction, label_smoothing)
    return CrossEntropy.apply(input, target, ignore_index=ignore_index, reduction=reduction,
                              label_smoothing=label_smoothing)
