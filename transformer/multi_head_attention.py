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

from tinytorch import nn

from .attention import scaled_dot_product_attention
from .layout import AttentionMask


class MultiHeadAttention(nn.Module):
    """Self-attention (query = key = value), causal self-attention or cross-attention.

    Inputs are batch-first: query (batch, tgt_len, embed_dim), key/value (batch, src_len,
    embed_dim); the masks travel in one ``AttentionMask`` (layout.py). Returns the output
    (batch, tgt_len, embed_dim); the weights (batch, heads, tgt_len, src_len) are kept in
    ``last_weights`` when ``record_weights`` is set (attention maps).

    The projections are four Linear layers, q_proj, k_proj, v_proj and out_proj (PyTorch
    keeps the first three stacked in one ``in_proj_weight``; transformer.torch_compat
    converts). They stay three products even for self-attention: one stacked product
    followed by a split costs more than it saves, because the split's backward builds
    three zero-padded (batch, len, 3 * embed_dim) gradients and adds them (measured in
    benchmarks/README.md).
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

    def forward(self, query, key, value, mask=None, cache=None):
        """query (batch, tgt_len, embed_dim), key and value (batch, src_len, embed_dim) ->
        (batch, tgt_len, embed_dim).

        ``mask``: an ``AttentionMask`` (layout.py): which keys each query may not see, and,
        on the fast path of training, whether the rows are packed ((tokens, embed_dim)
        instead of (batch, len, embed_dim)). None: every query sees every key.
        ``cache``: an ``AttentionCache`` (cache.py) while decoding token by token.
        With ``record_weights`` set, the weights are kept in ``last_weights``.
        """
        mask = AttentionMask() if mask is None else mask
        self._check(query, key, value, mask)
        q = self.split_heads(mask.unpack_queries(self.q_proj(query)))  # (b, heads, tgt, head_dim)
        k, v = self.keys_values(key, value, mask, cache)               # (b, heads, src, head_dim)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        if self.record_weights:
            self.last_weights = weights                                # (b, heads, tgt, src)
        out = mask.pack_queries(self.merge_heads(out))                 # (b, tgt, embed_dim)
        return self.out_proj(out)

    def keys_values(self, key, value, mask, cache=None):
        """Keys and values, split into heads: (batch, heads, src_len, head_dim) each.

        While decoding, a cache keeps them: cross-attention computes them from the memory
        at the first step only; self-attention appends the new tokens' ones.
        """
        if cache is not None and cache.filled:
            return cache.k, cache.v
        k = self.split_heads(mask.unpack_keys(self.k_proj(key)))
        v = self.split_heads(mask.unpack_keys(self.v_proj(value)))
        return (k, v) if cache is None else cache.append(k, v)

    def _check(self, query, key, value, mask):
        for name, t, layout in (("query", query, mask.queries), ("key", key, mask.keys),
                                ("value", value, mask.keys)):
            packed = layout is not None and layout.packed
            expected = (f"({layout.tokens} packed tokens" if packed else "(batch, len") + \
                f", {self.embed_dim})"
            if t.ndim != (2 if packed else 3) or t.shape[-1] != self.embed_dim or (
                    packed and t.shape[0] != layout.tokens):
                raise ValueError(
                    f"MultiHeadAttention: {name} must be {expected}, got {tuple(t.shape)}")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"MultiHeadAttention: key {tuple(key.shape)} and value "
                             f"{tuple(value.shape)} need the same batch and length")
        keys = mask.keys
        kv_shape = (keys.batch, keys.length) if keys is not None and keys.packed else \
            tuple(key.shape[:2])
        pad = mask.key_padding_shape()
        if pad is not None and pad != kv_shape:
            raise ValueError(
                f"MultiHeadAttention: key_padding_mask must be (batch, src_len) = "
                f"{kv_shape}, got {pad}")

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}"


def _divisor_near(n: int, h: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: abs(d - h))
