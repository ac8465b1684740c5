"""Scaled dot-product attention: softmax(Q Kᵀ / sqrt(d_k)) V.

Every query asks "which keys match me?": the scores Q Kᵀ measure it, dividing by
sqrt(d_k) keeps their spread independent of the head size, softmax turns each
row into weights that sum to 1, and the output is the weighted mix of values.

Two implementations live side by side:

- ``attention_composed``: the formula written with tinytorch ops (matmul, masked
  fill, softmax, matmul). Every step's gradient is proven on its own; read it first.
- ``ScaledDotProductAttention``: the same computation as one fused op whose
  backward is derived by hand below. It is what the model uses (one node instead
  of six, and no intermediate kept but the weights), and tests/test_attention.py
  checks it against the composed twin over random shapes and masks.

Masks follow ``nn.MultiheadAttention`` / ``nn.Transformer``: a **boolean True
means "may not attend"**; a float mask is *added* to the scores. (Note that
``torch.nn.functional.scaled_dot_product_attention`` uses the opposite boolean
convention; we mirror the modules, since our model loads their weights.)
Blocked scores get a large finite negative number added and the blocked weights are
then set to exactly 0, so a fully masked row gives zeros, never NaN.
"""

from __future__ import annotations

import math

import numpy as np

import tinytorch as tt
from tinytorch.autograd import Function
from tinytorch.backend import array_module
from tinytorch.ops.softmax import flushed_exp
from tinytorch.random import bernoulli_array

#: What blocked scores get added before the softmax (finite: -inf gives NaN rows).
MASKED_SCORE = -1e9


def _array(m):
    return None if m is None else (m.array if isinstance(m, tt.Tensor) else m)


def combine_masks(attn_mask=None, key_padding_mask=None, is_causal=False, tgt_len=None,
                  src_len=None, xp=np):
    """One boolean "blocked" array broadcastable to (batch, heads, tgt_len, src_len),
    and one float array to add to the scores (or None for each).

    attn_mask: (tgt_len, src_len) or (batch, heads, tgt_len, src_len), bool or float.
    key_padding_mask: (batch, src_len) bool, True at padding keys.
    is_causal: block keys in the future of each query (position j > i).
    """
    blocked, additive = None, None
    attn_mask, key_padding_mask = _array(attn_mask), _array(key_padding_mask)
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            blocked = attn_mask
        elif attn_mask.dtype.kind == "f":
            minus_inf = xp.isneginf(attn_mask)
            if minus_inf.any():  # -inf added to a score: exactly a blocked position
                blocked = minus_inf
                additive = xp.where(minus_inf, attn_mask.dtype.type(0), attn_mask)
            else:
                additive = attn_mask
        else:
            raise TypeError(f"attention: attn_mask must be bool or float, got {attn_mask.dtype}")
    if key_padding_mask is not None:
        if key_padding_mask.dtype != np.bool_:
            raise TypeError(
                f"attention: key_padding_mask must be bool (True at padding), got "
                f"{key_padding_mask.dtype}; build it with padding_mask(ids, pad_id)")
        pad = key_padding_mask[:, None, None, :]  # (batch, 1, 1, src_len)
        blocked = pad if blocked is None else (blocked | pad)
    if is_causal:
        causal = xp.triu(xp.ones((tgt_len, src_len), dtype=bool), k=1 + src_len - tgt_len)
        blocked = causal if blocked is None else (blocked | causal)
    return blocked, additive


def _check_shapes(q, k, v, blocked, additive):
    if q.ndim < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise RuntimeError(
            f"attention: q {q.shape}, k {k.shape}, v {v.shape} do not fit: need q (..., tgt_len, "
            f"d_k), k (..., src_len, d_k), v (..., src_len, d_v)")
    scores_shape = np.broadcast_shapes(q.shape[:-2], k.shape[:-2]) + (q.shape[-2], k.shape[-2])
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


#: A row whose largest score is this far below the tensor's largest score is redone with
#: its own max (see masked_softmax): e^-20 of headroom keeps every weight that matters
#: (down to e^-44 of the row's largest) a normal float32 number.
SHARED_SHIFT_RANGE = 20.0


def row_sums(x):
    """x (..., n) -> (...,): sums along the last axis as one product with a ones vector
    (BLAS; NumPy's .sum over a short last axis is ~6x slower)."""
    return x @ array_module(x).ones(x.shape[-1], dtype=x.dtype)


def masked_softmax(scores, blocked=None, row_max=False):
    """Softmax over the last axis of ``scores`` (overwritten), blocked positions exactly 0.

    scores (batch, heads, tgt_len, src_len); blocked bool, broadcastable, True = may not
    attend. A fully blocked row gives zeros, never NaN.

    Softmax is the same for any shift c per row: exp(s - c) / sum exp(s - c). Each row's
    max is the textbook c, but NumPy's max along a short last axis is slow (1.2 ms of a
    4.5 ms attention forward at (64, 4, 32, 32)); the one max of the whole tensor costs
    20 us. It is exact enough whenever every row's own max is within SHARED_SHIFT_RANGE of
    it, which the row sums tell afterwards (a row sum >= e^-20 needs an entry that large).
    If some row is further down, this returns None and the caller redoes it with
    ``row_max=True``: always right, sometimes slower.
    """
    xp = array_module(scores)
    dt = scores.dtype.type
    if blocked is not None:  # blocked scores sink far below the others: no max sees them
        scores += xp.where(blocked, dt(MASKED_SCORE), dt(0))
    if row_max:
        scores -= scores.max(axis=-1, keepdims=True)
    else:
        top = scores.max() if scores.size else dt(0)
        if not xp.isfinite(top):
            return None
        scores -= top
    p = flushed_exp(scores, out=scores)
    if blocked is not None:
        p *= ~blocked  # exactly 0 where blocked
    total = row_sums(p)
    if blocked is not None:
        empty = xp.all(blocked, axis=-1)  # a fully blocked row: total 0, weights 0
        if empty.any():
            total = xp.where(empty, dt(1), total)
    if not row_max and (total < dt(math.exp(-SHARED_SHIFT_RANGE))).any():
        return None
    p *= (1 / total)[..., None]
    return p


class ScaledDotProductAttention(Function):
    """q (..., tgt_len, d_k), k (..., src_len, d_k), v (..., src_len, d_v) -> (..., tgt_len, d_v)."""

    saves_inputs = (0, 1, 2)

    def forward(self, q, k, v, blocked=None, additive=None, scale=1.0, dropout_p=0.0,
                weights_out=None):
        _check_shapes(q, k, v, blocked, additive)
        xp = array_module(q)
        p = masked_softmax(self._scores(q, k, scale, additive), blocked)
        if p is None:  # a row far below the tensor's max: redo it with each row's own max
            p = masked_softmax(self._scores(q, k, scale, additive), blocked, row_max=True)
        weights = p
        self.keep = None
        if dropout_p > 0.0:
            keep = bernoulli_array(p.shape, 1.0 - dropout_p, "cpu" if xp is np else "cuda")
            weights = p * keep * q.dtype.type(1.0 / (1.0 - dropout_p))
            self.keep, self.dropout_p = keep, dropout_p
        self.scale = scale
        self.save(q, k, v, p)
        if weights_out is not None:
            weights_out.append(weights)
        return _matmul_like(weights, v, q)

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
            w = p * keep * g.dtype.type(1.0 / (1.0 - self.dropout_p))
        else:
            w = p
        dv = _matmul_like(xp.swapaxes(w, -1, -2), g, v) if self.needs_grad(2) else None
        dp = g @ xp.swapaxes(v, -1, -2)
        if keep is not None:
            dp *= keep * g.dtype.type(1.0 / (1.0 - self.dropout_p))
        ds = dp
        ds -= row_sums(dp * p)[..., None]
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


def scaled_dot_product_attention(q, k, v, attn_mask=None, key_padding_mask=None,
                                 is_causal=False, dropout_p=0.0, scale=None):
    """softmax(q kᵀ / sqrt(d_k) + masks) v, fused. Returns (output, weights).

    q (batch, heads, tgt_len, d_k), k (batch, heads, src_len, d_k), v (batch, heads, src_len, d_v)
    -> output (batch, heads, tgt_len, d_v), weights (batch, heads, tgt_len, src_len).
    The weights are returned for inspection (attention maps) and carry no gradient;
    use ``attention_composed`` to differentiate through them.
    """
    xp = array_module(q.array)
    blocked, additive = combine_masks(attn_mask, key_padding_mask, is_causal,
                                      q.shape[-2], k.shape[-2], xp)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    box: list = []
    out = ScaledDotProductAttention.apply(q, k, v, blocked=blocked, additive=additive,
                                          scale=scale, dropout_p=dropout_p, weights_out=box)
    return out, tt.Tensor(box[0])


def attention_composed(q, k, v, attn_mask=None, key_padding_mask=None, is_causal=False,
                       scale=None):
    """The same as ``scaled_dot_product_attention`` (without dropout), op by op.

    Returns (output, weights), both differentiable.
    """
    xp = array_module(q.array)
    blocked, additive = combine_masks(attn_mask, key_padding_mask, is_causal,
                                      q.shape[-2], k.shape[-2], xp)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q @ k.transpose(-2, -1)) * scale          # (batch, heads, tgt_len, src_len)
    if additive is not None:
        scores = scores + tt.Tensor(additive)
    if blocked is not None:
        mask = tt.Tensor(xp.broadcast_to(blocked, scores.shape))
        scores = scores.masked_fill(mask, MASKED_SCORE)
        weights = scores.softmax(dim=-1).masked_fill(mask, 0.0)
    else:
        weights = scores.softmax(dim=-1)
    return weights @ v, weights


def causal_mask(size: int, device="cpu"):
    """(size, size) bool, True above the diagonal: query i may not see keys j > i."""
    return tt.ones(size, size, dtype=tt.bool, device=device).triu(1)


def padding_mask(ids, pad_id: int):
    """(batch, len) bool, True where ``ids == pad_id`` (keys that may not be attended)."""
    return ids == pad_id
