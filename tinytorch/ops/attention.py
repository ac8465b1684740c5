"""``F.scaled_dot_product_attention``, PyTorch's function: softmax(q kᵀ * scale + mask) v.

Written with tinytorch ops (matmul, masked_fill, softmax, dropout), so its gradient is
theirs; no backward of its own. The masks follow **this function's** convention, which
is the opposite of ``nn.MultiheadAttention``'s (and of transformer/attention.py, which
mirrors the modules):

- a **bool** ``attn_mask``: **True = may attend** (False positions are left out);
- a **float** ``attn_mask`` is added to the scores (``-inf`` leaves a position out);
- ``is_causal=True``: query i sees keys 0..i, aligned at the top-left corner when the
  query and key lengths differ (``torch.ones(L, S).tril()``), as in PyTorch.

A query row that may attend to nothing gives zeros (not NaN), as PyTorch 2.x on the CPU.
Shapes: query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev); the
leading dims broadcast. ``enable_gqa=True``: key and value may have fewer heads (dim -3)
than the query, a divisor of them; each key/value head then serves a group of query heads.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd.function import is_tensor
from ..backend import array_module
from ..tensor import Tensor
from .dropout import dropout
from .linalg import matmul


def _check(query, key, value, attn_mask, dropout_p, is_causal):
    op = "scaled_dot_product_attention"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise RuntimeError(
            f"{op}: query, key and value must all be at least 2-D (..., length, features), "
            f"got shapes {tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"{op}: query, key and value must have the same dtype, got "
                           f"{query.dtype}, {key.dtype} and {value.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"{op}: query and key must have the same last dim (features), got "
                           f"{tuple(query.shape)} and {tuple(key.shape)}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"{op}: key and value must have the same length (dim -2), got "
                           f"{tuple(key.shape)} and {tuple(value.shape)}")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"{op}: dropout probability has to be between 0 and 1, but got "
                           f"{dropout_p}")
    if attn_mask is not None:
        if is_causal:
            raise RuntimeError(f"{op}: an explicit attn_mask should not be set when "
                               f"is_causal=True (the causal mask is built for you)")
        if attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
            raise RuntimeError(
                f"{op}: attn_mask must be bool (True = may attend) or have the query's dtype "
                f"{query.dtype}, got {attn_mask.dtype}")


def _repeat_heads(t, heads, op):
    """(..., h, S, E) -> (..., heads, S, E), each of the h heads repeated heads/h times in a
    row (``repeat_interleave`` along dim -3), as reshapes of an expand."""
    if t.ndim < 3 or heads % t.shape[-3]:
        raise RuntimeError(f"{op}: with enable_gqa, the query's {heads} heads (dim -3) must be "
                           f"a multiple of the key/value heads, got shape {tuple(t.shape)}")
    h = t.shape[-3]
    grown = t.unsqueeze(-3).expand(*t.shape[:-3], h, heads // h, *t.shape[-2:])
    return grown.reshape(*t.shape[:-3], heads, *t.shape[-2:])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(query keyᵀ * scale + mask) value, with PyTorch's signature and masks
    (bool True = may attend). ``scale`` defaults to 1/sqrt(E). Dropout on the weights
    whenever ``dropout_p > 0`` (pass ``p if self.training else 0``, as in PyTorch)."""
    _check(query, key, value, attn_mask, dropout_p, is_causal)
    if enable_gqa:
        heads = query.shape[-3] if query.ndim >= 3 else 1
        key = _repeat_heads(key, heads, "scaled_dot_product_attention")
        value = _repeat_heads(value, heads, "scaled_dot_product_attention")
    xp = array_module(query.array)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = matmul(query, key.transpose(-2, -1)) * scale       # (..., L, S)
    allowed = None
    if is_causal:
        allowed = Tensor(xp.tril(xp.ones((L, S), dtype=bool)))  # key j <= query i
    elif attn_mask is not None and attn_mask.dtype == np.bool_:
        allowed = attn_mask if is_tensor(attn_mask) else Tensor(attn_mask)
    elif attn_mask is not None:
        scores = scores + attn_mask                             # float: added
    if allowed is not None:
        shape = np.broadcast_shapes(tuple(scores.shape), tuple(allowed.shape))
        if shape != tuple(scores.shape):  # a mask with more batch dims than q, k, v
            scores = scores.expand(*shape)
        scores = scores.masked_fill(~allowed, -math.inf)
    # A row with nothing to attend to (all -inf) would be 0/0 in the softmax: give it
    # zeros instead, as PyTorch does. Other rows: exp(-inf) = 0 leaves the position out.
    dead = (scores.detach().amax(-1, keepdim=True) == -math.inf) if S else None
    if dead is not None and bool(dead.any()):
        scores = scores.masked_fill(dead, 0.0)
    else:
        dead = None
    weights = scores.softmax(-1)                                # (..., L, S), rows sum to 1
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return matmul(weights, value)                               # (..., L, Ev)
