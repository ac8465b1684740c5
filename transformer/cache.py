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
from tinytorch.backend import array_module


class AttentionCache:
    """One attention layer's keys and values so far, (batch, heads, len, head_dim) each.

    static=False (self-attention): each step's keys and values are appended.
    static=True (cross-attention): the first step's are kept; later steps reuse them.

    Appending by concatenation would copy everything held so far at every step: O(n^2)
    copying over n steps. So, while no gradient is recorded (decoding), the keys and
    values are written into preallocated buffers (batch, heads, capacity, head_dim) and
    ``k``/``v`` are views of their filled part (batch, heads, len, head_dim): each step
    copies only its own positions. ``capacity``: the positions to make room for at first
    (the decode's prompt + new tokens); a step past it doubles the buffers (amortised
    O(1) copying per position). With gradients on, appending concatenates (an autograd
    op) as a cache is plain tensors then.
    """

    def __init__(self, static: bool = False, capacity: int | None = None):
        self.static, self.capacity = static, capacity
        self.k = self.v = None
        self.k_buffer = self.v_buffer = None  # (batch, heads, capacity, head_dim) arrays

    @property
    def filled(self) -> bool:
        """True when there is nothing to compute: a static cache after the first step."""
        return self.static and self.k is not None

    def __len__(self) -> int:
        """Positions held."""
        return 0 if self.k is None else self.k.shape[2]

    def append(self, k, v):
        """Add this step's keys and values; returns all of them (earlier steps' first)."""
        if self.static:
            self.k, self.v = k, v
        elif tt.is_grad_enabled() or (self.k is not None and self.k_buffer is None):
            # recording gradients (or continuing a cache begun so): the differentiable way
            if self.k is not None:
                k, v = tt.cat([self.k, k], dim=2), tt.cat([self.v, v], dim=2)
            self.k, self.v = k, v
        else:
            self._write(k.array, v.array)
        return self.k, self.v

    def append_arrays(self, k, v):
        """``append`` for arrays (the fast decode step, fast_decode.py), into the buffers:
        k, v (batch, heads, new, head_dim) -> all keys and values so far, as arrays."""
        self._write(k, v)
        return self.k.array, self.v.array

    def _write(self, k, v):
        """Copy arrays k, v (batch, heads, new, head_dim) into the buffers after the filled
        part."""
        held, new = len(self), k.shape[2]
        if self.k_buffer is None or held + new > self.k_buffer.shape[2]:
            self._grow(k, held + new)
        self.k_buffer[:, :, held:held + new] = k
        self.v_buffer[:, :, held:held + new] = v
        self._views(held + new)

    def _views(self, length):
        self.k = tt.Tensor(self.k_buffer[:, :, :length])
        self.v = tt.Tensor(self.v_buffer[:, :, :length])

    def _grow(self, k, needed):
        """New buffers with room for at least ``needed`` positions (the capacity at first,
        then twice the old size), holding the positions filled so far."""
        old = self.k_buffer
        size = max(needed, self.capacity or 0) if old is None else max(needed, 2 * old.shape[2])
        b, h, _, d = k.shape
        self.k_buffer = array_module(k).empty((b, h, size, d), dtype=k.dtype)
        self.v_buffer = array_module(k).empty_like(self.k_buffer)
        if old is not None:
            held = len(self)
            self.k_buffer[:, :, :held] = self.k.array
            self.v_buffer[:, :, :held] = self.v.array

    def reorder(self, index) -> None:
        """Keep the batch rows ``index`` (int64 tensor): the beams that survived."""
        if self.k is None:
            return
        if self.k_buffer is None:  # static, or built under gradients
            self.k, self.v = self.k.index_select(0, index), self.v.index_select(0, index)
            return
        # Gather the kept rows (a beam kept twice appears twice) into new buffers. Whole
        # buffers: one contiguous gather measured 2-5x faster than gathering the filled
        # part, a strided view, into preallocated ones.
        rows = index.array
        self.k_buffer, self.v_buffer = self.k_buffer[rows], self.v_buffer[rows]
        self._views(len(self))


class LayerCache:
    """A decoder layer's two caches: its self-attention's and its cross-attention's (a
    decoder-only model's layers have no cross-attention: theirs stays empty)."""

    def __init__(self, capacity: int | None = None):
        self.self_attn = AttentionCache(capacity=capacity)
        self.cross_attn = AttentionCache(static=True)


class KVCache:
    """The whole decoder's cache: one LayerCache per decoder layer (the Transformer's
    ``decoder``, a DecoderOnly's ``blocks``)."""

    def __init__(self, num_layers: int, capacity: int | None = None):
        self.layers = [LayerCache(capacity) for _ in range(num_layers)]
        self.length = 0  # target positions processed so far (the model advances it)

    @classmethod
    def for_model(cls, model, capacity: int | None = None) -> KVCache:
        """``capacity``: the target positions the decode will need (prompt + new tokens),
        to preallocate the self-attention buffers for; None: as many as the first step's."""
        stack = model.decoder if hasattr(model, "decoder") else model.blocks
        return cls(len(stack.layers), capacity)

    def reorder(self, index) -> None:
        """Keep the batch rows ``index`` (int64 tensor) in every layer (beam search)."""
        for layer in self.layers:
            layer.self_attn.reorder(index)
            layer.cross_attn.reorder(index)
