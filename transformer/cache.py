"""The key/value cache: what the decoder's attentions keep between decoding steps.

At step t, the decoder's self-attention (or a decoder-only model's) needs keys and
values for positions 0..t. Without a cache the whole prefix goes through the decoder
again at every step; with it, each self-attention keeps the keys and values of the
earlier steps and only the new token is processed (its queries see all the cached
keys: the causal mask is aligned to the last position). Cross-attention keys and
values depend only on the encoder's memory: computed at the first step and reused.
Same numbers, much less work (tests/test_generate.py checks both give the same tokens
and logits).
"""

from __future__ import annotations

import tinytorch as tt


class AttentionCache:
    """One attention layer's keys and values so far, (batch, heads, len, head_dim) each.

    static=False (self-attention): each step's keys and values are appended.
    static=True (cross-attention): the first step's are kept; later steps reuse them.
    """

    def __init__(self, static: bool = False):
        self.static = static
        self.k = self.v = None

    @property
    def filled(self) -> bool:
        """True when there is nothing to compute: a static cache after the first step."""
        return self.static and self.k is not None

    def __len__(self) -> int:
        """Positions held."""
        return 0 if self.k is None else self.k.shape[2]

    def append(self, k, v):
        """Add this step's keys and values; returns all of them (earlier steps' first)."""
        if self.k is not None and not self.static:
            k, v = tt.cat([self.k, k], dim=2), tt.cat([self.v, v], dim=2)
        self.k, self.v = k, v
        return k, v

    def reorder(self, index) -> None:
        """Keep the batch rows ``index`` (int64 tensor): the beams that survived."""
        if self.k is not None:
            self.k, self.v = self.k.index_select(0, index), self.v.index_select(0, index)


class LayerCache:
    """A decoder layer's two caches: its self-attention's and its cross-attention's (a
    decoder-only model's layers have no cross-attention: theirs stays empty)."""

    def __init__(self):
        self.self_attn = AttentionCache()
        self.cross_attn = AttentionCache(static=True)


class KVCache:
    """The whole decoder's cache: one LayerCache per decoder layer (the Transformer's
    ``decoder``, a DecoderOnly's ``blocks``)."""

    def __init__(self, num_layers: int):
        self.layers = [LayerCache() for _ in range(num_layers)]
        self.length = 0  # target positions processed so far (the model advances it)

    @classmethod
    def for_model(cls, model) -> KVCache:
        stack = model.decoder if hasattr(model, "decoder") else model.blocks
        return cls(len(stack.layers))

    def reorder(self, index) -> None:
        """Keep the batch rows ``index`` (int64 tensor) in every layer (beam search)."""
        for layer in self.layers:
            layer.self_attn.reorder(index)
            layer.cross_attn.reorder(index)
