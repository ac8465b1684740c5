"""Encoder and decoder layers, and their stacks.

Each sub-layer (attention or feed-forward) is wrapped in a residual connection and
a layer norm: "Add & Norm". Two placements exist, and ``norm_first`` picks one:

- post-LN (the paper, default):  x = norm(x + sublayer(x))
- pre-LN  (``norm_first=True``):  x = x + sublayer(norm(x))   (easier to train deep)

With a ``packing`` (transformer/packing.py; training uses one), x holds only the real
tokens, (tokens, d_model): everything here is position-wise except attention, which
takes the packings along (MultiHeadAttention unpacks its queries, keys and values).

Names follow ``nn.TransformerEncoderLayer``/``DecoderLayer`` where they can
(self_attn, norm1, norm2, norm3; cross_attn is their multihead_attn), so their
weights load into ours (transformer/torch_compat.py).
"""

from __future__ import annotations

from tinytorch import nn

from .feedforward import FeedForward
from .multi_head_attention import MultiHeadAttention


class EncoderLayer(nn.Module):
    """x (batch, src_len, d_model), or (tokens, d_model) with a ``packing`` -> same.
    Self-attention, then feed-forward."""

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

    def _sa(self, x, attn_mask, key_padding_mask, is_causal, packing):
        out, _ = self.self_attn(x, x, x, key_padding_mask=key_padding_mask, attn_mask=attn_mask,
                                need_weights=False, is_causal=is_causal, packing=packing,
                                kv_packing=packing)
        return self.dropout1(out)

    def forward(self, x, src_mask=None, src_key_padding_mask=None, is_causal: bool = False,
                packing=None):
        args = (src_mask, src_key_padding_mask, is_causal, packing)
        if self.norm_first:
            x = x + self._sa(self.norm1(x), *args)
            return x + self.dropout2(self.feed_forward(self.norm2(x)))
        x = self.norm1(x + self._sa(x, *args))
        return self.norm2(x + self.dropout2(self.feed_forward(x)))


class DecoderLayer(nn.Module):
    """y (batch, tgt_len, d_model) and memory (batch, src_len, d_model) -> like y; with
    ``packing`` / ``memory_packing``, y / memory hold only their real tokens (tokens, d_model).

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

    def _sa(self, y, tgt_mask, tgt_key_padding_mask, is_causal, cache, packing):
        out, _ = self.self_attn(y, y, y, key_padding_mask=tgt_key_padding_mask,
                                attn_mask=tgt_mask, need_weights=False, is_causal=is_causal,
                                cache=None if cache is None else cache["self"], packing=packing,
                                kv_packing=packing)
        return self.dropout1(out)

    def _ca(self, y, memory, memory_mask, memory_key_padding_mask, cache, packing,
            memory_packing):
        out, _ = self.cross_attn(y, memory, memory, key_padding_mask=memory_key_padding_mask,
                                 attn_mask=memory_mask, need_weights=False,
                                 cache=None if cache is None else cache["cross"],
                                 packing=packing, kv_packing=memory_packing)
        return self.dropout2(out)

    def forward(self, y, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, cache=None,
                packing=None, memory_packing=None):
        sa = (tgt_mask, tgt_key_padding_mask, tgt_is_causal, cache, packing)
        ca = (memory, memory_mask, memory_key_padding_mask, cache, packing, memory_packing)
        if self.norm_first:
            y = y + self._sa(self.norm1(y), *sa)
            y = y + self._ca(self.norm2(y), *ca)
            return y + self.dropout3(self.feed_forward(self.norm3(y)))
        y = self.norm1(y + self._sa(y, *sa))
        y = self.norm2(y + self._ca(y, *ca))
        return self.norm3(y + self.dropout3(self.feed_forward(y)))


class Encoder(nn.Module):
    """A stack of EncoderLayers, with an optional final LayerNorm (``nn.TransformerEncoder``)."""

    def __init__(self, layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = norm

    def forward(self, x, mask=None, src_key_padding_mask=None, is_causal: bool = False,
                packing=None):
        for layer in self.layers:
            x = layer(x, mask, src_key_padding_mask, is_causal, packing)
        return self.norm(x) if self.norm is not None else x


class Decoder(nn.Module):
    """A stack of DecoderLayers, with an optional final LayerNorm (``nn.TransformerDecoder``)."""

    def __init__(self, layers, norm=None):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = norm

    def forward(self, y, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, cache=None,
                packing=None, memory_packing=None):
        for i, layer in enumerate(self.layers):
            y = layer(y, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
                      memory_key_padding_mask, tgt_is_causal, None if cache is None else cache[i],
                      packing, memory_packing)
        return self.norm(y) if self.norm is not None else y
