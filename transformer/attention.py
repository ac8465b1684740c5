"""Scaled dot-product attention: softmax(Q Kᵀ / sqrt(d_k)) V.

Every query asks "which keys match me?": the scores Q Kᵀ measure it, dividing by
sqrt(d_k) keeps their spread independent of the head size, softmax turns each
row into weights that sum to 1, and the output is the weighted mix of values.

Two implementations, and ``tinytorch.fast_paths`` picks one:

- ``attention_composed``: the formula written with tinytorch ops (matmul, masked
  fill, softmax, dropout, matmul). Every step's gradient is proven on its own; read
  it first.
- ``ScaledDotProductAttention``: the same computation as one fused op whose backward
  is derived by hand below. It keeps q, k, v and the weights instead of the six
  nodes' intermediates, and skips the masked fills (tests/test_attention.py checks it
  against the composed one over random shapes and masks).

Masks follow ``nn.MultiheadAttention`` / ``nn.Transformer``: a **boolean True
means "may not attend"**; a float mask is *added* to the scores. (Note that
``torch.nn.functional.scaled_dot_product_attention`` uses the opposite boolean
convention; we mirror the modules, since our model loads their weights.) Blocked
scores get a large finite negative number and the blocked weights are then set to
exactly 0, so a fully masked row gives zeros, never NaN. The model passes its masks
as one ``AttentionMask`` (layout.py) in ``attn_mask``.
"""

from __future__ import annotations

import math

import numpy as np

import tinytorch as tt
from tinytorch.autograd.function import Function
from tinytorch.backend import array_module
from tinytorch.nn import functional as F
from tinytorch.ops.blas_sums import sum_last_axis
from tinytorch.ops.softmax import shifted_exp
from tinytorch.random import bernoulli_array

from .layout import AttentionMask

#: What blocked scores become before the softmax (finite: -inf gives NaN rows).
MASKED_SCORE = -1e9


def attention_composed(q, k, v, attn_mask=None, key_padding_mask=None, is_causal=False,
                       dropout_p=0.0, scale=None):
    """softmax(q kᵀ * scale + masks) v, op by op. Returns (output, weights), both
    differentiable; shapes as ``scaled_dot_product_attention``."""
    _check_dropout(dropout_p)
    xp = array_module(q.array)
    mask = AttentionMask.of(attn_mask, key_padding_mask, is_causal)
    blocked, additive = mask.scores_masks(q.shape[-2], k.shape[-2], xp)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale          # (batch, heads, tgt_len, src_len)
    if additive is not None:
        scores = scores + tt.Tensor(additive)
    if blocked is not None:
        blocked = tt.Tensor(xp.broadcast_to(blocked, scores.shape))
        scores = scores.masked_fill(blocked, MASKED_SCORE)
    weights = scores.softmax(dim=-1)                    # each row sums to 1
    if blocked is not None:
        weights = weights.masked_fill(blocked, 0.0)     # a fully blocked row: zeros
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p)         # p = 1: all zeros
    return weights @ v, weights                         # (batch, heads, tgt_len, d_v)


def _check_dropout(dropout_p):
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(
            f"attention: dropout probability has to be between 0 and 1, but got {dropout_p}")


#: A row whose largest score is this far below the tensor's largest score is redone with
#: its own max (see masked_softmax): e^-20 of headroom keeps every weight that matters
#: (down to e^-44 of the row's largest) a normal float32 number.
SHARED_SHIFT_RANGE = 20.0


def masked_softmax(scores, blocked=None, row_max=False):
    """Softmax over the last axis of ``scores`` (overwritten), blocked positions exactly 0.

    scores (batch, heads, tgt_len, src_len); blocked bool, broadcastable, True = may not
    attend. A fully blocked row gives zeros, never NaN.

    Softmax is the same for any shift c per row: exp(s - c) / sum exp(s - c). Each row's
    max is the textbook c, but NumPy's max along a short last axis is slow; the one max of
    the whole tensor is nearly free (benchmarks/README.md). It is exact enough whenever
    every row's own max is within SHARED_SHIFT_RANGE of it, which the row sums tell
    afterwards (a row sum >= e^-20 needs an entry that large). If some row is further
    down, this returns None and the caller redoes it with ``row_max=True``: always right,
    sometimes slower.
    """
    xp = array_module(scores)
    dt = scores.dtype.type
    if blocked is not None:  # blocked scores sink far below the others: no max sees them
        scores += xp.where(blocked, dt(MASKED_SCORE), dt(0))
    shift = None                                             # None: each row's own max
    if not row_max:
        shift = scores.max() if scores.size else dt(0)
        if not xp.isfinite(shift):
            return None
    p, _ = shifted_exp(scores, -1, shift=shift, out=scores, flush=True)
    if blocked is not None:
        p *= ~blocked  # exactly 0 where blocked
    total = sum_last_axis(p)
    if blocked is not None:
        empty = xp.all(blocked, axis=-1)  # a fully blocked row: total 0, weights 0
        if xp is not np or empty.any():  # (a GPU skips the check: reading it back waits)
            total = xp.where(empty, dt(1), total)
    if not row_max and (total < dt(math.exp(-SHARED_SHIFT_RANGE))).any():
        return None
    p *= (1 / total)[..., None]
    return p


class ScaledDotProductAttention(Function):
    """q (..., tgt_len, d_k), k (..., src_len, d_k), v (..., src_len, d_v) ->
    output (..., tgt_len, d_v) and the weights (..., tgt_len, src_len), which carry no
    gradient (for attention maps)."""

    fast_path = True  # the fused form of attention_composed
    saves_inputs = (0, 1, 2)

    def forward(self, q, k, v, mask=None, dropout_p=0.0):
        """``mask``: an AttentionMask (or None); the scores are scaled by 1/sqrt(d_k)."""
        _check_dropout(dropout_p)
        xp = array_module(q)
        blocked, additive = (None, None) if mask is None else \
            mask.scores_masks(q.shape[-2], k.shape[-2], xp)
        scale = 1.0 / math.sqrt(q.shape[-1])
        # One shared max is cheaper than each row's on the CPU, but it needs checks read back to
        # the host, each a wait on a GPU: there every row uses its own max from the start.
        p = masked_softmax(self._scores(q, k, scale, additive), blocked, row_max=xp is not np)
        if p is None:  # a row far below the tensor's max: redo it with each row's own max
            p = masked_softmax(self._scores(q, k, scale, additive), blocked, row_max=True)
        weights = p
        self.keep = None
        if dropout_p > 0.0:  # the same draw as F.dropout(p, dropout_p) would make
            if dropout_p < 1.0:  # survivors scaled by 1 / (1 - p)
                keep = bernoulli_array(p.shape, 1.0 - dropout_p, "cpu" if xp is np else "cuda")
                self.dropout_scale = 1.0 / (1.0 - dropout_p)
            else:  # p = 1: every weight dropped, no draw (as F.dropout), no survivor to scale
                keep = xp.zeros(p.shape, dtype=bool)
                self.dropout_scale = 0.0
            weights = p * keep * q.dtype.type(self.dropout_scale)
            self.keep = keep
        self.scale = scale
        self.save(q, k, v, p)
        return _matmul_like(weights, v, q), weights

    @staticmethod
    def _scores(q, k, scale, additive):
        """scale * Q Kᵀ (+ the float mask): (..., tgt_len, src_len)."""
        scores = q @ array_module(q).swapaxes(k, -1, -2)
        scores *= q.dtype.type(scale)
        if additive is not None:
            scores += additive
        return scores

    def backward(self, g):
        # Forward: S = scale * Q Kᵀ (+ masks), P = softmax(S) row-wise, W = dropout(P), O = W V.
        #   dV = Wᵀ dO                       (O = W V, like any matmul)
        #   dW = dO Vᵀ,  dP = dW * keep / (1 - p)  (dropout's fixed mask)
        #   dS = P * (dP - rowsum(dP * P))   (softmax's backward, row by row)
        #   dQ = scale * dS K,   dK = scale * dSᵀ Q
        # Blocked positions have P = 0, hence dS = 0: no gradient leaks through a mask.
        q, k, v, p = self.saved
        xp = array_module(g)
        keep = self.keep
        if keep is not None:
            w = p * keep * g.dtype.type(self.dropout_scale)
        else:
            w = p
        dv = _matmul_like(xp.swapaxes(w, -1, -2), g, v) if self.needs_grad(2) else None
        dp = g @ xp.swapaxes(v, -1, -2)
        if keep is not None:
            dp *= keep * g.dtype.type(self.dropout_scale)
        ds = dp
        ds -= sum_last_axis(dp * p)[..., None]
        ds *= p
        ds *= g.dtype.type(self.scale)
        dq = _matmul_like(ds, k, q) if self.needs_grad(0) else None
        dk = _matmul_like(xp.swapaxes(ds, -1, -2), q, k) if self.needs_grad(1) else None
        return dq, dk, dv


def _matmul_like(a, b, like):
    """a @ b, laid out in memory like ``like`` when the shapes agree (else the default).

    Multi-head attention hands in q, k, v as transposed views of (batch, len, heads,
    d_head) arrays. Results and gradients in that same layout make the heads' merge and
    split after them free views instead of copies (PyTorch's rule, too: a gradient has
    its input's strides).
    """
    xp = array_module(a)
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1])
    if shape != like.shape or like.flags.c_contiguous:
        return a @ b
    return xp.matmul(a, b, out=xp.empty_like(like))


def _check_shapes(q, k, v, mask, blocked, additive):
    if q.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"attention: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} do not fit: "
            f"need q (..., tgt_len, d_k), k (..., src_len, d_k), v (..., src_len, d_v)")
    scores_shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])
    pad = mask.key_padding_shape()
    if pad is not None and (len(pad) != 2 or pad[1] != k.shape[-2]
                            or (q.ndim > 2 and pad[0] != scores_shape[0])):
        raise RuntimeError(
            f"attention: key_padding_mask of shape {pad} must be (batch, src_len) = "
            f"{(scores_shape[0] if q.ndim > 2 else '?', k.shape[-2])}")
    for name, m in (("mask", blocked), ("float mask", additive)):
        if m is None:
            continue
        try:
            if np.broadcast_shapes(m.shape, scores_shape) != scores_shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(
                f"attention: {name} of shape {m.shape} does not broadcast to the scores' shape "
                f"{scores_shape} (batch, heads, tgt_len, src_len); give (tgt_len, src_len) or "
                f"(batch, 1, tgt_len, src_len)") from None


def scaled_dot_product_attention(q, k, v, attn_mask=None, key_padding_mask=None,
                                 is_causal=False, dropout_p=0.0, scale=None):
    """softmax(q kᵀ * scale + masks) v. Returns (output, weights).

    q (batch, heads, tgt_len, d_k), k (batch, heads, src_len, d_k), v (batch, heads,
    src_len, d_v) -> output (batch, heads, tgt_len, d_v), weights (batch, heads, tgt_len,
    src_len). Masks as ``nn.MultiheadAttention`` (True = may not attend), or one
    ``AttentionMask`` in ``attn_mask``. ``scale`` defaults to 1/sqrt(d_k).

    ``attention_composed`` when fast paths are off; else the fused op, whose weights are
    for inspection (attention maps) and carry no gradient.
    """
    xp = array_module(q.array)
    mask = AttentionMask.of(attn_mask, key_padding_mask, is_causal)
    blocked, additive = mask.scores_masks(q.shape[-2], k.shape[-2], xp)
    _check_shapes(q, k, v, mask, blocked, additive)
    if not tt.fast_paths_enabled():
        return attention_composed(q, k, v, mask, dropout_p=dropout_p, scale=scale)
    if scale is not None:  # the op divides by sqrt(d_k): another scale is scaling q first
        q = q * (scale * math.sqrt(q.shape[-1]))
    return ScaledDotProductAttention.apply(q, k, v, mask=mask, dropout_p=dropout_p)


def causal_mask(size: int, device="cpu"):
    """(size, size) bool, True above the diagonal: query i may not see keys j > i."""
    return tt.ones(size, size, dtype=tt.bool, device=device).triu(1)


def padding_mask(ids, pad_id: int):
    """(batch, len) bool, True where ``ids == pad_id`` (keys that may not be attended)."""
    return ids == pad_id
