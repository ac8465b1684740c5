"""Multi-head attention: several attentions side by side, each on its own slice.

Project the input to queries, keys and values (d_model -> d_model each), split the
d_model features into ``num_heads`` heads of d_head = d_model / num_heads, attend in
each head independently, put the heads back together and mix them with a last
projection. Each head can learn a different kind of relation (syntax, coreference,
position...) at the cost of one.

Splitting heads is the classic trap: (batch, len, d_model) must become
(batch, len, heads, d_head) and *then* (batch, heads, len, d_head) with a transpose;
reshaping straight to (batch, heads, len, d_head) mixes positions between heads
(tests/test_attention.py shows the difference).
"""

from __future__ import annotations

import tinytorch as tt
from tinytorch import nn

from .attention import scaled_dot_product_attention


class MultiHeadAttention(nn.Module):
    """Self-attention (query = key = value), causal self-attention or cross-attention.

    Inputs are batch-first: query (batch, tgt_len, embed_dim), key/value (batch, src_len,
    embed_dim). Masks as ``nn.MultiheadAttention``: bool True = may not attend.
    Returns (output (batch, tgt_len, embed_dim), weights or None): the weights are
    (batch, tgt_len, src_len) averaged over heads, or (batch, heads, tgt_len, src_len)
    with ``average_attn_weights=False``.

    The projections are four Linear layers, q_proj, k_proj, v_proj and out_proj (PyTorch
    keeps the first three stacked in one ``in_proj_weight``; transformer.torch_compat
    converts). They stay three products even for self-attention: one stacked product
    followed by a split costs more than it saves, because the split's backward builds
    three zero-padded (batch, len, 3 * embed_dim) gradients and adds them (measured:
    a config-M training step is 8% faster this way, benchmarks/README.md).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = True):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiHeadAttention: embed_dim {embed_dim} is not divisible by num_heads "
                f"{num_heads}; each head gets embed_dim / num_heads features (try num_heads="
                f"{_divisor_near(embed_dim, num_heads)})")
        if not batch_first:
            raise NotImplementedError("MultiHeadAttention: only batch_first=True is supported")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.head_dim = embed_dim // num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        # Attention maps for inspection (transformer/attention_maps.py): when
        # ``record_weights`` is set, each forward keeps its per-head weights here.
        self.record_weights = False
        self.last_weights = None  # (batch, heads, tgt_len, src_len)

    def split_heads(self, x):
        """(batch, len, embed_dim) -> (batch, heads, len, head_dim)"""
        b, n, _ = x.shape
        return x.reshape(b, n, self.num_heads, self.head_dim).transpose(1, 2)

    def merge_heads(self, x):
        """(batch, heads, len, head_dim) -> (batch, len, embed_dim)"""
        b, _, n, _ = x.shape
        return x.transpose(1, 2).reshape(b, n, self.embed_dim)

    def project_kv(self, key, value, packing=None):
        """Keys and values, split into heads: (batch, heads, src_len, head_dim) each."""
        k, v = self.k_proj(key), self.v_proj(value)
        if packing is not None:
            k, v = packing.unpack(k), packing.unpack(v)
        return self.split_heads(k), self.split_heads(v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False,
                cache=None, packing=None, kv_packing=None):
        """``cache``: a dict for incremental decoding (see transformer.cache). Self-attention
        appends this step's keys/values to ``cache['k']``/``cache['v']``; cross-attention
        computes them from the memory once and reuses them.

        ``packing`` / ``kv_packing`` (transformer/packing.py, used in training): query, or
        key and value, hold only the real tokens, (tokens, embed_dim). The projections run
        on those rows; attention itself on the unpacked (batch, len) layout; the output
        comes back packed like the query.
        """
        self._check(query, key, value, key_padding_mask, packing, kv_packing)
        q = self.q_proj(query)
        q = self.split_heads(q if packing is None else packing.unpack(q))
        if cache is not None and cache.get("static"):  # cross-attention: memory is fixed
            if "k" not in cache:
                cache["k"], cache["v"] = self.project_kv(key, value)
            k, v = cache["k"], cache["v"]
        else:
            k, v = self.project_kv(key, value, kv_packing)
            if cache is not None:  # self-attention: grow the cache along src_len
                if "k" in cache:
                    k = tt.cat([cache["k"], k], dim=2)
                    v = tt.cat([cache["v"], v], dim=2)
                cache["k"], cache["v"] = k, v
        dropout_p = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
            is_causal=is_causal, dropout_p=dropout_p)          # (batch, heads, tgt_len, head_dim)
        out = self.merge_heads(out)                            # (batch, tgt_len, embed_dim)
        out = self.out_proj(out if packing is None else packing.pack(out))
        if self.record_weights:
            self.last_weights = weights
        if not need_weights:
            return out, None
        return out, (weights.mean(dim=1) if average_attn_weights else weights)

    def _check(self, query, key, value, key_padding_mask, packing, kv_packing):
        for name, t, p in (("query", query, packing), ("key", key, kv_packing),
                           ("value", value, kv_packing)):
            expected = ("(batch, len" if p is None else f"({p.tokens} packed tokens") + \
                f", {self.embed_dim})"
            if t.ndim != (3 if p is None else 2) or t.shape[-1] != self.embed_dim or (
                    p is not None and t.shape[0] != p.tokens):
                raise ValueError(
                    f"MultiHeadAttention: {name} must be {expected}, got {tuple(t.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"MultiHeadAttention: key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} need the same batch and length")
        kv_shape = tuple(key.shape[:2]) if kv_packing is None else \
            (kv_packing.batch, kv_packing.length)
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != kv_shape:
            raise ValueError(
                f"MultiHeadAttention: key_padding_mask must be (batch, src_len) = "
                f"{kv_shape}, got {tuple(key_padding_mask.shape)}")

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


def _divisor_near(n: int, h: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: abs(d - h))
