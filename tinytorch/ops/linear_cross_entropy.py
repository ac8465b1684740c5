"""linear_cross_entropy: cross_entropy(input @ W^T + b, target), PyTorch's signature.

A language model's last layer maps each of N positions to C vocabulary scores, and
the loss compares them with the next token. Written plainly that is two calls,
``linear`` then ``cross_entropy`` (``linear_cross_entropy_composed`` below).

The fused op, ``LinearCrossEntropy``, computes the same without keeping the logits.
Those (N, C) logits are the largest array of a training step, yet the loss needs two
numbers per row from them (the row's max and its sum of exponentials) and the
gradient needs them only for the three products that follow. So it walks the rows in
blocks: one block's logits are computed, reduced to its loss, turned into its share
of the gradients of input, weight and bias while still in cache, and overwritten by
the next block. Rows whose target is ``ignore_index`` (padding) add nothing to the
loss or to any gradient and are skipped altogether.

It also computes its gradients in the forward, for an upstream gradient of 1, when
they will be wanted (grad mode on and an input requires grad), and backward only
scales them by the real upstream gradient (PyTorch's chunked path does the same):
each block's logits are then made once, not twice. A second backward
(``retain_graph=True``) or a per-row upstream gradient (``reduction='none'``)
recomputes them block by block.

As in PyTorch, ``options=None`` is the composed reference and a
``LinearCrossEntropyOptions`` asks for the fused op; with fast paths off
(``tinytorch.fast_paths(False)``) the composed reference runs either way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import fast_paths_enabled, is_grad_enabled
from ..backend import array_module, index_add_rows
from .blas_sums import sum_first_axis, sum_last_axis
from .linear import linear
from .loss import check_reduction, check_target_range, cross_entropy
from .softmax import shifted_exp

#: Logit elements per block when ``batch_chunk_size`` is None: 64 MB of float32. The
#: blocks bound memory for large batches; they do not make it faster (BLAS likes large
#: blocks: benchmarks/README.md).
BLOCK_ELEMENTS = 1 << 24


@dataclass
class LinearCrossEntropyOptions:
    """How ``linear_cross_entropy`` splits the rows (``torch.nn.LinearCrossEntropyOptions``).

    ``batch_chunk_size``: rows per block; None picks ``BLOCK_ELEMENTS // C`` (at least 1).
    PyTorch's other fields (``chunking_method``, ``acc_policy``...) tune its kernels and
    have no meaning here.
    """

    batch_chunk_size: int | None = None

    def __post_init__(self):
        if self.batch_chunk_size is not None and (
                not isinstance(self.batch_chunk_size, int) or self.batch_chunk_size < 1):
            raise ValueError(f"LinearCrossEntropyOptions: batch_chunk_size must be a positive "
                             f"int or None, got {self.batch_chunk_size!r}")


def linear_cross_entropy_composed(input, linear_weight, target, linear_bias=None,  # noqa: A002
                                  ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """The reference: the (N, C) logits, then the cross-entropy of each row."""
    logits = linear(input, linear_weight, linear_bias)                 # (N, C)
    return cross_entropy(logits, target, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


class LinearCrossEntropy(Function):
    """input (N, in_features) or (in_features,), weight (C, in_features), target (N,) or ()
    int64, bias (C,) -> the cross-entropy of the logits input @ weight^T + bias."""

    fast_path = True  # the fused form of linear_cross_entropy_composed
    saves_inputs = (0, 1, 3)

    def forward(self, h, weight, target, bias=None, ignore_index=-100, reduction="mean",
                label_smoothing=0.0, rows_per_block=None, wants=(False, False, False)):
        xp = array_module(h)
        classes = weight.shape[0]
        t = target.reshape(-1)
        keep = xp.flatnonzero(t != ignore_index)          # the rows that count
        self.in_shape, self.reduction, self.label_smoothing = h.shape, reduction, label_smoothing
        self.rows_per_block = rows_per_block or max(1, BLOCK_ELEMENTS // classes)
        self.count = keep.size
        self.grads = None       # (dh, dW, db) for a unit upstream gradient, when made ahead
        self.save(h, weight, bias, keep, t[keep])

        hk = self._kept_rows()                                # (K, in): a copy
        if any(wants) and reduction != "none":
            # one pass for the loss and the gradients, for a unit upstream gradient
            self.grads, (log_total, max_, z_t) = self._gradients(hk, self._unit_scale(), wants,
                                                                 stats=True)
        else:
            log_total, max_, z_t = self._blocks(hk)
        # Per row, with z the logits, m their max, T = sum_c exp(z_c - m):
        #   -log p_t = log T + m - z_t,   -(1/C) sum_c log p_c = log T + m - mean(z)
        # and with q = (1 - eps) onehot(t) + eps/C:  loss = log T + m - (1-eps) z_t - eps mean(z)
        per_row = log_total + max_ - (1 - label_smoothing) * z_t
        if label_smoothing:
            per_row -= label_smoothing * _mean_logits(hk, weight, bias)
        if reduction == "none":
            out = xp.zeros(t.shape, dtype=h.dtype)
            out[keep] = per_row
            loss = out.reshape(target.shape)
        else:
            loss = per_row.sum(dtype=h.dtype)
            if reduction == "mean":  # over the rows that count; 0/0 is NaN, as PyTorch
                loss = loss / self.count if self.count else h.dtype.type(math.nan)
        return xp.asarray(loss)

    def backward(self, g):
        # For one row with logits z = W h + b, p = softmax(z), q = (1 - eps) onehot(t) + eps/C,
        # and s the upstream gradient of that row's loss:
        #   dL/dz = s (p - q)
        #   dL/dh = W^T dL/dz,   dL/dW = sum_rows dL/dz h^T,   dL/db = sum_rows dL/dz
        # q splits off as cheap terms: W^T q = (1-eps) W[t] + (eps/C) W^T 1, and likewise for
        # the sums over rows; only s p needs the (rows, C) block, made in _blocks.
        h, keep = self.saved[0], self.saved[3]
        xp = array_module(h)
        has_bias = len(self.parents) > 3
        wants = (self.needs_grad(0), self.needs_grad(1), has_bias and self.needs_grad(3))
        if self.reduction == "none":
            scale = g.reshape(-1)[keep].astype(h.dtype, copy=False)
            dh, dw, db = self._gradients(self._kept_rows(), scale, wants)
        else:
            grads, self.grads = self.grads, None  # handed on: the engine may add into them
            if grads is None:  # a second backward (retain_graph): recompute, unit scale
                grads = self._gradients(self._kept_rows(), self._unit_scale(), wants)
            dh, dw, db = grads
            if xp is not np or float(g) != 1.0:  # (on a GPU, reading g back would wait)
                g = g.astype(h.dtype, copy=False)
                for a in (dh, dw, db):
                    if a is not None:
                        a *= g
        if dh is not None:  # scatter the kept rows back among the ignored ones (zeros)
            full = xp.zeros((math.prod(self.in_shape[:-1]), self.in_shape[-1]), dtype=h.dtype)
            full[keep] = dh
            dh = full.reshape(self.in_shape)
        return dh, dw, None, db

    def _kept_rows(self):
        """The input rows whose target counts, (K, in_features)."""
        h, weight, _, keep, _ = self.saved
        return h.reshape(-1, weight.shape[1])[keep]

    def _unit_scale(self):
        """Each kept row's weight in the reduced loss: 1/count ('mean') or 1 ('sum')."""
        unit = 1 / self.count if self.reduction == "mean" and self.count else 1
        return self.saved[0].dtype.type(unit)

    # -- the pass over the blocks ------------------------------------------------------------
    def _blocks(self, hk, scale=None, grads=None):
        """One pass over blocks of rows of hk (K, in), the rows that count.

        Returns the loss statistics per row, (log T, m, z_t): log of the sum of exp(z - m),
        the max m of the row's logits z, the target's logit z_t. With ``grads`` = (dh (K, in),
        dW (C, in), db (C,)), any of them None, also adds each block's share of s p, its
        rows' softmax p times their scale s (``scale``: a scalar or (K,)): the part of the
        gradient that needs the block's logits (see backward).
        """
        xp = array_module(hk)
        _, weight, bias, _, tk = self.saved
        classes, rows, k = weight.shape[0], self.rows_per_block, hk.shape[0]
        buf = xp.empty((min(rows, k), classes), dtype=hk.dtype)
        log_total, max_, z_t = (xp.empty(k, dtype=hk.dtype) for _ in range(3))
        dh, dw, db = grads or (None, None, None)
        tmp_w = xp.empty_like(weight) if dw is not None and k > rows else None
        for a in range(0, k, rows):
            hb = hk[a:a + rows]
            n = hb.shape[0]
            z = buf[:n]
            xp.matmul(hb, weight.T, out=z)                     # (n, C) logits of the block
            if bias is not None:
                z += bias
            z_t[a:a + n] = z[xp.arange(n), tk[a:a + n]]
            z, m = shifted_exp(z, 1, out=z, flush=True)        # exp(z - m), in (0, 1]
            max_[a:a + n] = m[:, 0]
            total = sum_last_axis(z)                           # T per row
            log_total[a:a + n] = xp.log(total)
            if grads is None:
                continue
            s = scale if xp.ndim(scale) == 0 else scale[a:a + n]
            z *= (s / total)[:, None]                          # s p
            if dh is not None:
                xp.matmul(z, weight, out=dh[a:a + n])
            if dw is not None:
                if a == 0:
                    xp.matmul(z.T, hb, out=dw)
                else:
                    dw += xp.matmul(z.T, hb, out=tmp_w)
            if db is not None:
                db += sum_first_axis(z)
        return log_total, max_, z_t

    def _gradients(self, hk, scale, wants, stats=False):
        """(dh (K, in), dW, db) for row scales ``scale``, None where not wanted; with
        ``stats``, also the loss statistics of the same pass (see _blocks)."""
        xp = array_module(hk)
        _, weight, _, _, tk = self.saved
        eps = self.label_smoothing
        want_h, want_w, want_b = wants
        classes = weight.shape[0]
        dh = xp.empty_like(hk) if want_h else None
        dw = xp.zeros_like(weight) if want_w else None
        db = xp.zeros(classes, dtype=hk.dtype) if want_b else None
        found = self._blocks(hk, scale, (dh, dw, db))
        # minus s q: (1 - eps) s at the target class, eps s / C at every class
        s = xp.broadcast_to(xp.asarray(scale, dtype=hk.dtype), tk.shape)
        s_t = (1 - eps) * s
        if want_h:
            dh -= s_t[:, None] * weight[tk]
            if eps:
                dh -= (eps / classes) * s[:, None] * weight.sum(axis=0)
        if want_w:
            index_add_rows(xp, dw, tk, -(s_t[:, None] * hk))
            if eps:
                dw -= (eps / classes) * (s @ hk)
        if want_b:
            db -= xp.bincount(tk, weights=s_t, minlength=classes).astype(hk.dtype)
            if eps:
                db -= (eps / classes) * s.sum()
        return ((dh, dw, db), found) if stats else (dh, dw, db)


def _mean_logits(hk, weight, bias):
    """(1/C) sum_c z_c per row, without the logits: h . (W^T 1)/C + mean(b)."""
    classes = weight.shape[0]
    out = hk @ (weight.sum(axis=0) / classes)
    if bias is not None:
        out += bias.sum() / classes
    return out


def _check_inputs(h, weight, target, bias):
    op = "linear_cross_entropy"
    h, weight, target = h.array, weight.array, target.array
    bias = None if bias is None else bias.array
    dtypes = [a.dtype for a in (h, weight, bias) if a is not None]
    if h.dtype.kind != "f" or len(set(dtypes)) > 1:
        raise TypeError(f"{op}: input, linear_weight and linear_bias must share one float dtype, "
                        f"got {', '.join(map(str, dtypes))}; convert with .to(weight.dtype)")
    if weight.ndim != 2 or h.ndim not in (1, 2) or h.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"{op}: input must be (N, in_features) or (in_features,) and linear_weight "
            f"(C, in_features), got input {h.shape} and weight {weight.shape}. For a sequence "
            f"model pass hidden.reshape(-1, d_model) and target.reshape(-1)")
    if bias is not None and bias.shape != weight.shape[:1]:
        raise ValueError(f"{op}: linear_bias must be ({weight.shape[0]},), got {bias.shape}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices as int64, got {target.dtype}; "
                        f"use target.long()")
    if target.shape != h.shape[:-1]:
        raise ValueError(f"{op}: input of shape {h.shape} needs a target of shape "
                         f"{h.shape[:-1]}, got {target.shape}")


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None,  # noqa: A002
                         weight=None, reduction="mean", ignore_index=None,
                         label_smoothing=0.0, options=None):
    """``torch.nn.functional.linear_cross_entropy``: cross_entropy(linear(input, W, b), target).

    input (N, in_features) or (in_features,); linear_weight (C, in_features); target (N,)
    or () class ids. ``options=None`` (or fast paths off) runs the composed reference; a
    ``LinearCrossEntropyOptions`` runs the fused block-by-block op (same values and
    gradients, without the (N, C) logits).
    """
    op = "linear_cross_entropy"
    if weight is not None:
        raise NotImplementedError(f"{op}: class weights are not supported (weight=None)")
    ignore_index = -100 if ignore_index is None else ignore_index
    label_smoothing = float(label_smoothing)
    check_reduction(reduction, label_smoothing, op)
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"{op}: options must be a LinearCrossEntropyOptions or None, got "
                        f"{type(options).__name__}")
    _check_inputs(input, linear_weight, target, linear_bias)
    check_target_range(target.array, linear_weight.shape[0], ignore_index, op)
    if options is None or not fast_paths_enabled():
        return linear_cross_entropy_composed(input, linear_weight, target, linear_bias,
                                             ignore_index, reduction, label_smoothing)
    grad_on = is_grad_enabled()
    wants = tuple(grad_on and t is not None and t.requires_grad
                  for t in (input, linear_weight, linear_bias))
    opts = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing,
                rows_per_block=options.batch_chunk_size, wants=wants)
    if linear_bias is None:
        return LinearCrossEntropy.apply(input, linear_weight, target, **opts)
    return LinearCrossEntropy.apply(input, linear_weight, target, linear_bias, **opts)
