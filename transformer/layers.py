"""Encoder and decoder layers, and their stacks.

Each sub-layer (attention or feed-forward) is wrapped in a residual connection and
a layer norm: "Add & Norm". Two placements exist, and ``norm_first`` picks one:

- post-LN (the paper, default):  x = norm(x + sublayer(x))
- pre-LN  (``norm_first=True``):  x = x + sublayer(norm(x))   (easier to train deep)

The masks travel as ``AttentionMask`` objects (layout.py) that only attention opens:
every other layer here works position by position and never looks at them.

Names follow ``nn.TransformerEncoderLayer``/``DecoderLayer`` where they can
(self_attn, norm1, norm2, norm3; cross_attn is their multihead_attn), so their
weights load into ours (transformer/torch_compat.py).
"""

from __future__ import annotations

from tinytorch import nn

from .feedforward import FeedForward
from .multi_head_attention import MultiHeadAttention


class EncoderLayer(nn.Module):
    """x (batch, src_len, d_model) -> same. Self-attention, then feed-forward."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", norm_first: bool = False,
                 layer_norm_eps: float = 1e-5):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout)
        self.feed_forward = FeedForward(d_model, dim_feedforward, dropout, activation)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x, mask=None, cache=None):
        """``mask``: the AttentionMask of the self-attention (the source's padding, or the
        causal mask of a decoder-only model); ``cache``: a LayerCache (cache.py) while a
        decoder-only model generates token by token (its self-attention part is used)."""
        self_cache = None if cache is None else cache.self_attn
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout1(self.self_attn(h, h, h, mask, self_cache))
            return x + self.dropout2(self.feed_forward(self.norm2(x)))
        x = self.norm1(x + self.dropout1(self.self_attn(x, x, x, mask, self_cache)))
        return self.norm2(x + self.dropout2(self.feed_forward(x)))


class DecoderLayer(nn.Module):
    """y (batch, tgt_len, d_model) and memory (batch, src_len, d_model) -> like y.

    Masked (causal) self-attention over the target so far, then cross-attention to the
    encoder's memory (queries from the target, keys and values from the source), then
    feed-forward.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", norm_first: bool = False,
                 layer_norm_eps: float = 1e-5):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout)
        self.cross_attn = MultiHeadAttention(d_model, nhead, dropout)
        self.feed_forward = FeedForward(d_model, dim_feedforward, dropout, activation)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(self, y, memory, self_mask=None, cross_mask=None, cache=None):
        """``self_mask``: the causal self-attention's AttentionMask; ``cross_mask``: the
        cross-attention's (the source's padding); ``cache``: a LayerCache (cache.py)."""
        self_cache = cross_cache = None
        if cache is not None:
            self_cache, cross_cache = cache.self_attn, cache.cross_attn
        if self.norm_first:
            h = self.norm1(y)
            y = y + self.dropout1(self.self_attn(h, h, h, self_mask, self_cache))
            h = self.norm2(y)
            y = y + self.dropout2(self.cross_attn(h, memory, memory, cross_mask, cross_cache))
            return y + self.dropout3(self.feed_forward(self.norm3(y)))
        y = self.norm1(y + self.dropout1(self.self_attn(y, y, y, self_mask, self_cache)))
        y = self.norm2(y + self.dropout2(self.cross_attn(y, memory, memory, cross_mask,
                                                         cross_cache)))
        return self.norm3(y + self.dropout3(self.feed_forward(y)))


class Encoder(nn.Module):
    """A stack of EncoderLayers, with an optional final LayerNorm (``nn.TransformerEncoder``)."""

    def __init__(self, layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = norm

    def forward(self, x, mask=None, cache=None):
        """``cache``: a KVCache (cache.py) when the stack runs a decoder-only model that
        generates token by token."""
        for i, layer in enumerate(self.layers):
            x = layer(x, mask, None if cache is None else cache.layers[i])
        return self.norm(x) if self.norm is not None else x


class Decoder(nn.Module):
    """A stack of DecoderLayers, with an optional final LayerNorm (``nn.TransformerDecoder``)."""

    def __init__(self, layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = norm

    def forward(self, y, memory, self_mask=None, cross_mask=None, cache=None):
        """``cache``: a KVCache (cache.py) while decoding token by token."""
        for i, layer in enumerate(self.layers):
            y = layer(y, memory, self_mask, cross_mask, None if cache is None else cache.layers[i])
        return self.norm(y) if self.norm is not None else y
