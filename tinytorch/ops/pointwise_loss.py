"""Losses computed element by element, then reduced: l1, smooth_l1, huber, kl_div,
binary_cross_entropy and binary_cross_entropy_with_logits (PyTorch's signatures).

Each loss here is an elementwise formula followed by ``reduction``: 'mean' (the
default), 'sum' or 'none' (kl_div adds 'batchmean': the sum divided by the batch size,
the true KL divergence per example). The first four are written with proven primitives
(sub, abs, where, mul, log, exp), so their gradients are those ops'. The two binary
cross-entropies are ops of their own, because the textbook formula breaks at the edges:

- ``binary_cross_entropy`` takes probabilities p; log(0) = -inf, so each log is clamped
  at -100 (PyTorch's rule) and the gradient's denominator p (1 - p) at 1e-12;
- ``binary_cross_entropy_with_logits`` takes logits x. Through sigmoid then log,
  exp(-x) overflows for x = -1000; the stable form below never exponentiates a positive
  number, and its gradient is the one-liner sigmoid(x) - t.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd.function import Function, is_tensor
from ..autograd.grad_mode import is_grad_enabled
from ..backend import array_module
from .reduction import mean
from .selection import where

_REDUCTIONS = ("mean", "sum", "none")


def _reduction(reduction, size_average, reduce, op, allowed=_REDUCTIONS):
    """The reduction, from PyTorch's deprecated size_average/reduce flags when given."""
    if size_average is not None or reduce is not None:
        warnings.warn(f"{op}: size_average and reduce are deprecated, use reduction="
                      f"'mean' / 'sum' / 'none'", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduction = ("mean" if size_average else "sum") if reduce in (None, True) else "none"
    if reduction not in allowed:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; use one "
                         f"of {allowed}")
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else mean(loss)


def _warn_shapes(input, target, op):  # noqa: A002
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(
            f"{op}: using a target size ({tuple(target.shape)}) that is different to the "
            f"input size ({tuple(input.shape)}). This will likely lead to incorrect results "
            f"due to broadcasting. Please ensure they have the same size.", UserWarning,
            stacklevel=3)


def _check_weight(weight, input, op):  # noqa: A002
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError(f"{op}: weight of shape {tuple(weight.shape)} must have the input's "
                         f"shape {tuple(input.shape)}")


# -- losses composed from primitives ------------------------------------------------------

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
            weight=None):
    """|input - target|, elementwise, times ``weight`` if given; 'mean' with a weight is
    sum(weight |input - target|) / sum(weight), as in PyTorch."""
    reduction = _reduction(reduction, size_average, reduce, "l1_loss")
    _warn_shapes(input, target, "l1_loss")
    _check_weight(weight, input, "l1_loss")
    loss = (input - target).abs()
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" else _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
                   beta=1.0):
    """0.5 d² / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0
    is l1_loss."""
    reduction = _reduction(reduction, size_average, reduce, "smooth_l1_loss")
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    _warn_shapes(input, target, "smooth_l1_loss")
    d = input - target
    if beta == 0:
        return _reduce(d.abs(), reduction)
    ad = d.abs()
    return _reduce(where(ad < beta, 0.5 * d**2 / beta, ad - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """0.5 d² where |d| < delta, else delta (|d| - 0.5 delta) (d = input - target), times
    ``weight`` if given. delta = 1 is smooth_l1_loss with beta = 1."""
    reduction = _reduction(reduction, None, None, "huber_loss")
    if delta <= 0:
        raise RuntimeError(f"huber_loss: delta must be > 0, got {delta}")
    _warn_shapes(input, target, "huber_loss")
    _check_weight(weight, input, "huber_loss")
    d = input - target
    ad = d.abs()
    loss = where(ad < delta, 0.5 * d**2, delta * (ad - 0.5 * delta))
    return _reduce(loss if weight is None else loss * weight, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean",  # noqa: A002
           log_target=False):
    """KL(target || q) terms, input = log q: target (log target - input), and 0 where the
    target is 0 (``log_target=True``: target holds log-probabilities, exp(t) (t - input)).
    'batchmean' divides the sum by the batch size (the KL divergence per example); 'mean'
    divides by the number of elements (PyTorch warns about it, and so do we)."""
    reduction = _reduction(reduction, size_average, reduce, "kl_div",
                           _REDUCTIONS + ("batchmean",))
    if reduction == "mean" and size_average is None and reduce is None:
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size "
                      "and the support size; 'batchmean' divides only by the batch size, "
                      "and aligns with the KL div math definition.", UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # t (log t - input) with 0 log 0 = 0 (PyTorch's xlogy): log sees 1 where t is 0
        loss = target * (where(target > 0, target, 1.0).log() - input)
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# -- binary cross-entropy: ops of their own -------------------------------------------------

def _no_grad_for(t, name, op):
    if is_tensor(t) and t.requires_grad and is_grad_enabled():
        raise RuntimeError(f"{op}: is not differentiable with respect to {name}; pass "
                           f"{name}.detach() (PyTorch refuses it too)")


def _broadcast_to(a, shape, name, op):
    if a is None:
        return None
    try:
        return array_module(a).broadcast_to(a, shape)
    except ValueError:
        raise RuntimeError(f"{op}: {name} of shape {a.shape} does not broadcast to the "
                           f"input's shape {shape}") from None


def _check_target(x, t, op):
    if t.dtype.kind != "f":
        raise RuntimeError(f"{op}: target must be a floating point tensor (probabilities), "
                           f"got {t.dtype}; use target.float()")
    if t.shape != x.shape:
        raise ValueError(f"{op}: target size {t.shape} must be the same as input size "
                         f"{x.shape}")


class BinaryCrossEntropy(Function):
    """loss = -w (t log p + (1 - t) log(1 - p)) elementwise, p in [0, 1], each log >= -100."""

    promotes = True  # a weight of another dtype: gradients are cast back
    saves_inputs = (0, 1)

    def forward(self, p, t, w=None):
        _check_target(p, t, "binary_cross_entropy")
        if p.dtype != t.dtype:
            raise RuntimeError(f"binary_cross_entropy: input is {p.dtype} but target is "
                               f"{t.dtype}; they must have the same dtype")
        xp = array_module(p)
        if p.size and not bool(xp.all((p >= 0) & (p <= 1))):
            raise RuntimeError("binary_cross_entropy: all elements of input should be between "
                               "0 and 1 (probabilities; for logits use "
                               "binary_cross_entropy_with_logits)")
        w = _broadcast_to(w, p.shape, "weight", "binary_cross_entropy")
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped next
            log_p = xp.maximum(xp.log(p), p.dtype.type(-100))
            log_q = xp.maximum(xp.log1p(-p), p.dtype.type(-100))
        self.save(p, t, w)
        loss = -(t * log_p + (1 - t) * log_q)
        return loss if w is None else loss * w

    def backward(self, g):
        # dl/dp = -w (t/p - (1 - t)/(1 - p)) = w (p - t) / (p (1 - p)), the denominator
        # clamped at 1e-12 as PyTorch; dl/dt = w (log(1 - p) - log p), not clamped (PyTorch:
        # +-inf at p = 0 or 1)
        p, t, w = self.saved
        xp = array_module(g)
        gw = g if w is None else g * w
        gp = gt = None
        if self.needs_grad(0):
            gp = gw * (p - t) / xp.maximum(p * (1 - p), p.dtype.type(1e-12))
        if self.needs_grad(1):
            with np.errstate(divide="ignore"):
                gt = gw * (xp.log1p(-p) - xp.log(p))
        return gp, gt, None


class BinaryCrossEntropyWithLogits(Function):
    """loss = w ((1 - t) x + l softplus(-x)), l = 1 + (pos_weight - 1) t: the binary
    cross-entropy of sigmoid(x) and t, computed from the logits x without overflow."""

    promotes = True
    saves_inputs = (0, 1)

    def forward(self, x, t, w=None, pos_weight=None):
        _check_target(x, t, "binary_cross_entropy_with_logits")
        xp = array_module(x)
        op = "binary_cross_entropy_with_logits"
        w = _broadcast_to(w, x.shape, "weight", op)
        pos_weight = _broadcast_to(pos_weight, x.shape, "pos_weight", op)
        # softplus(-x) = log(1 + exp(-x)) = max(-x, 0) + log(1 + exp(-|x|)): exp of <= 0 only
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x + lw * softplus_neg
        self.save(x, t, w, pos_weight, softplus_neg)
        return (loss if w is None else loss * w).astype(x.dtype, copy=False)

    def backward(self, g):
        # sigmoid' = sigmoid (1 - sigmoid), softplus(-x)' = -sigmoid(-x)
        #   =>  dl/dx = w ((1 - t) - l sigmoid(-x))   (= w (sigmoid(x) - t) without pos_weight)
        #       dl/dt = w ((pos_weight - 1) softplus(-x) - x)
        x, t, w, pos_weight, softplus_neg = self.saved
        xp = array_module(g)
        gw = g if w is None else g * w
        gx = gt = None
        if self.needs_grad(0):
            e = xp.exp(-xp.abs(x))
            sig_neg = xp.where(x >= 0, e / (1 + e), 1 / (1 + e))  # sigmoid(-x), stably
            lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
            gx = gw * ((1 - t) - lw * sig_neg)
        if self.needs_grad(1):
            extra = 0 if pos_weight is None else (pos_weight - 1) * softplus_neg
            gt = gw * (extra - x)
        return gx, gt, None, None


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean"):
    """-w (t log p + (1 - t) log(1 - p)) for probabilities p = input, reduced."""
    reduction = _reduction(reduction, size_average, reduce, "binary_cross_entropy")
    _no_grad_for(weight, "weight", "binary_cross_entropy")
    return _reduce(BinaryCrossEntropy.apply(input, target, weight), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,  # noqa: A002
                                     reduce=None, reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target), stable for any logits. ``weight``
    broadcasts to the input; ``pos_weight`` (one per class, the last dim) scales the
    positive term (t log sigmoid(x)) to rebalance rare positives."""
    op = "binary_cross_entropy_with_logits"
    reduction = _reduction(reduction, size_average, reduce, op)
    _no_grad_for(weight, "weight", op)
    _no_grad_for(pos_weight, "pos_weight", op)
    return _reduce(BinaryCrossEntropyWithLogits.apply(input, target, weight, pos_weight),
                   reduction)
