"""One cached decoding step on raw arrays: the fast path of a cached decode.

The plain path is the modules: ``model.decoder_states(tokens, memory, layout, cache)``
(or a decoder-only model's ``hidden_states``), each layer a Module, each op a Tensor, an
autograd Function and its checks. Once the cache is started, a step reads one new token
per row, so its products are small ((rows, d_model) by (d_model, d_model)) and that
machinery around each of them costs as much as the arithmetic. Here the same step is
written once more with one NumPy (or CuPy) call per formula, on the layers' own weight
arrays, writing into the same KV cache (cache.py): the same numbers
(tests/test_fast_decode.py: logits and tokens equal to the modules' path, greedy and
beam, post-LN and pre-LN, both model kinds). The arithmetic, for one new position t:

    x      = E[token] * scale + P[t]                          (batch, d_model)
    q      = x W_q^T + b_q,  k = x W_k^T + b_k,  v = x W_v^T + b_v
    K, V   = the cache's keys and values with k, v appended   (batch, heads, t + 1, d_head)
    a      = softmax(q K^T / sqrt(d_head)) V                  (position t sees 0..t: no mask)
    ...    cross-attention the same way on the memory's cached keys and values (its padding
           blocked), Add & Norm around each sub-layer, the feed-forward, the final norm.

``generate`` uses it under ``tinytorch.fast_paths`` (the default) for every step after
the first (which fills the caches through the modules), when nothing needs the modules:
no gradient, no dropout (eval mode), no recorded attention weights.
"""

from __future__ import annotations

import math

import tinytorch as tt
from tinytorch.backend import array_module
from tinytorch.ops.normalization import _forward_rows


def usable(model, cache, new_tokens: int) -> bool:
    """Whether this step may run here instead of through the modules."""
    if not (tt.fast_paths_enabled() and not tt.is_grad_enabled() and not model.training):
        return False
    if cache is None or cache.length == 0 or new_tokens != 1:
        return False
    positions = model.pos if not hasattr(model, "decoder") else model.tgt_pos
    if cache.length >= positions.max_len:  # past the table: the modules raise the error
        return False
    for layer, layer_cache in zip(_layers(model), cache.layers):
        if layer_cache.self_attn.k_buffer is None or layer.self_attn.record_weights:
            return False
        cross = getattr(layer, "cross_attn", None)
        if cross is not None and (cross.record_weights or not layer_cache.cross_attn.filled):
            return False
    return True


def step(model, tokens, cache, memory_pad=None):
    """tokens (batch, 1) int64 array -> the last hidden states (batch, 1, d_model) array.

    ``model``: a Transformer (its decoder) or a DecoderOnly; ``cache``: its KVCache, started;
    ``memory_pad``: (batch, src_len) bool, True at the source's padding (a Transformer's
    cross-attention), or None.
    """
    decoder_only = not hasattr(model, "decoder")
    embed, positions = (model.embed, model.pos) if decoder_only else \
        (model.tgt_embed, model.tgt_pos)
    x = _embed(embed, positions, tokens[:, 0], cache.length)     # (batch, d_model)
    stack = model.blocks if decoder_only else model.decoder
    blocked = None if memory_pad is None else memory_pad[:, None, None, :]
    for layer, layer_cache in zip(stack.layers, cache.layers):
        x = _layer(layer, x, layer_cache, blocked)
    cache.length += 1
    x = x if stack.norm is None else _layer_norm(x, stack.norm)
    return x[:, None, :]                                           # (batch, 1, d_model)


def _layers(model):
    return (model.blocks if not hasattr(model, "decoder") else model.decoder).layers


def _embed(embed, positions, tokens, offset):
    """E[token] * scale + P[offset]: TokenEmbedding, then the sinusoidal or learned positions.
    tokens (batch,) -> (batch, d_model)."""
    x = embed.embedding.weight.array[tokens]
    if embed.scale != 1.0:
        x = x * embed.scale
    table = positions.pe.array if hasattr(positions, "pe") else positions.embedding.weight.array
    return x + table[offset].astype(x.dtype, copy=False)


def _layer(layer, x, cache, blocked):
    """A DecoderLayer (self, cross, feed-forward) or an EncoderLayer under a causal mask
    (a decoder-only block: self, feed-forward), post-LN or pre-LN (layers.py)."""
    cross = getattr(layer, "cross_attn", None)
    norms = [layer.norm1, layer.norm2] + ([layer.norm3] if cross is not None else [])
    sublayers = [lambda h: _self_attention(layer.self_attn, h, cache.self_attn)]
    if cross is not None:
        sublayers.append(lambda h: _cross_attention(cross, h, cache.cross_attn, blocked))
    sublayers.append(lambda h: _feed_forward(layer.feed_forward, h))
    for sublayer, norm in zip(sublayers, norms):
        if layer.norm_first:
            x = x + sublayer(_layer_norm(x, norm))                 # x + sublayer(norm(x))
        else:
            x = _layer_norm(x + sublayer(x), norm)                 # norm(x + sublayer(x))
    return x


def _linear(x, linear):
    """x (batch, in) -> (batch, out). (2-D on purpose: NumPy runs a 3-D x @ W.T as one small
    product per row, not as one GEMM.)"""
    y = x @ linear.weight.array.T
    return y if linear.bias is None else y + linear.bias.array


def _layer_norm(x, norm):
    """(x - mean) / sqrt(var + eps) * weight + bias over the last axis: the LayerNorm op's
    own row formula (tinytorch/ops/normalization.py), without the op around it."""
    xp = array_module(x)
    xhat, y, rstd = xp.empty_like(x), xp.empty_like(x), xp.empty((x.shape[0], 1), x.dtype)
    _forward_rows(x, xhat, rstd, y, None if norm.weight is None else norm.weight.array,
                  None if norm.bias is None else norm.bias.array, norm.eps)
    return y


def _heads(x, attn):
    """(batch, d_model) -> (batch, heads, 1, d_head): row b's features h * d_head onwards
    are head h's (one position, so no transpose is needed)."""
    return x.reshape(x.shape[0], attn.num_heads, 1, attn.head_dim)


def _attend(attn, q, k, v, blocked=None):
    """softmax(q k^T / sqrt(d_head)) v, heads merged and projected: (batch, d_model)."""
    xp = array_module(q)
    scores = (q @ k.transpose(0, 1, 3, 2)) * q.dtype.type(1.0 / math.sqrt(attn.head_dim))
    if blocked is not None:
        scores = xp.where(blocked, q.dtype.type(-math.inf), scores)
    p = xp.exp(scores - scores.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)                         # (batch, heads, 1, len)
    out = (p @ v).reshape(q.shape[0], attn.embed_dim)          # heads merged (see _heads)
    return _linear(out, attn.out_proj)


def _self_attention(attn, x, cache):
    """The new position's query against every cached key and its own (the cache grows)."""
    q = _heads(_linear(x, attn.q_proj), attn)
    k, v = cache.append_arrays(_heads(_linear(x, attn.k_proj), attn),
                               _heads(_linear(x, attn.v_proj), attn))
    return _attend(attn, q, k, v)


def _cross_attention(attn, x, cache, blocked):
    """The new position's query against the memory's keys and values (computed once)."""
    return _attend(attn, _heads(_linear(x, attn.q_proj), attn), cache.k.array, cache.v.array,
                   blocked)


def _feed_forward(ff, x):
    """linear2(activation(linear1(x))); the activation is the module's own (one op)."""
    return _linear(ff.activation(tt.Tensor(_linear(x, ff.linear1))).array, ff.linear2)
