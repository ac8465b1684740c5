"""Where the real tokens of a batch are: the one object that only attention opens.

A batch of sentences of different lengths is padded to one length, ids (batch, len)
with 0 at the padding. Three facts about such a batch matter to attention, and only to
attention, since every other layer treats each position on its own:

- **padding**: which key positions hold no token (no query may attend to them);
- **causality**: in the decoder, position i may not see the positions after it;
- **packing** (a fast path of training): the position-wise layers run on the real
  tokens only, rows (tokens, d_model) instead of (batch, len, d_model).

``Layout`` describes one batch of sequences (its padding, and whether its rows are
packed). ``AttentionMask`` is what one attention call gets: the queries' layout, the
keys' layout (the same for self-attention, the source's for cross-attention), and
whether it is causal. The model builds them once per batch, the layers pass them on
unopened, and MultiHeadAttention and scaled_dot_product_attention open them
(FlashAttention's ``cu_seqlens`` and xformers' block-diagonal masks play the same role).

    src    = Layout.of(src_ids, pad_id)
    tgt    = Layout.of(tgt_ids, pad_id)
    AttentionMask(src)                  encoder self-attention: src's padding
    AttentionMask(tgt, causal=True)     decoder self-attention: tgt's padding + the future
    AttentionMask(tgt, keys=src)        cross-attention: queries from tgt, keys from src

Masks follow ``nn.Transformer``: a boolean True means "may not attend".
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt

from .packing import pack_rows, unpack_rows


class Layout:
    """One batch of sequences of length ``len``.

    pad: (batch, len) bool tensor, True at padding, or None (no padding).
    packed: the position-wise layers hold only the rows of the kept positions,
        (tokens, ...), instead of (batch, len, ...).
    keep: (batch, len) bool, the positions whose rows are kept when packed (default:
        those that are not padding). A position can be padding as a key and still be
        kept as a row: in training, the decoder's last real position reads <eos>-less
        input but must still predict.
    """

    def __init__(self, pad=None, packed: bool = False, keep=None):
        self.pad, self.packed = pad, packed
        if packed:
            if pad is None and keep is None:
                raise ValueError("Layout: packing needs pad or keep to know the batch's shape")
            keep = ~pad if keep is None else keep
            self.batch, self.length = tuple(keep.shape)
            kept = keep.reshape(-1).cpu().numpy().nonzero()[0]
            self.index = tt.tensor(kept, device=keep.device)               # (tokens,) int64
            self.everything = kept.size == self.batch * self.length          # nothing left out

    @classmethod
    def of(cls, ids, pad_id: int, packed: bool = False) -> Layout:
        """The layout of ids (batch, len): padding where ids == pad_id."""
        return cls(ids == pad_id, packed)

    @property
    def tokens(self) -> int:
        """How many rows a packed layout keeps."""
        return self.index.shape[0]

    def pack(self, x):
        """(batch, len, ...) -> (tokens, ...) when packed (the kept positions, in order);
        unchanged otherwise."""
        if not self.packed:
            return x
        flat = x.reshape(self.batch * self.length, *x.shape[2:])
        return flat if self.everything else pack_rows(flat, self.index.array)

    def unpack(self, x):
        """The inverse of ``pack``: (tokens, ...) -> (batch, len, ...), zeros at the
        positions that were left out; unchanged when not packed."""
        if not self.packed:
            return x
        if not self.everything:
            x = unpack_rows(x, self.index.array, self.batch * self.length)
        return x.reshape(self.batch, self.length, *x.shape[1:])

    def take(self, index) -> Layout:
        """The layout of the batch rows ``index`` (int64 tensor), e.g. beam search's."""
        if self.packed:
            raise ValueError("Layout.take: a packed layout cannot be reordered")
        return Layout(None if self.pad is None else self.pad.index_select(0, index))


class AttentionMask:
    """What one attention call may see, and how its queries and keys are laid out.

    queries: the Layout of the queries' sequences (None: plain (batch, tgt_len, ...)).
    keys: the Layout of the keys' sequences; default: ``queries`` (self-attention).
        Its padding is what no query may attend to.
    causal: query i may not see keys after position i. With more keys than queries (a
        KV cache holds the earlier ones), the queries are the *last* positions.
    attn_mask: one more mask as ``nn.MultiheadAttention`` takes it, (tgt_len, src_len) or
        (batch, heads, tgt_len, src_len): bool True = blocked, or float, added to the
        scores (-inf blocks).
    """

    def __init__(self, queries: Layout | None = None, keys: Layout | None = None,
                 causal: bool = False, attn_mask=None):
        self.queries = queries
        self.keys = queries if keys is None else keys
        self.causal, self.attn_mask = causal, attn_mask
        self._scores_masks = {}  # (tgt_len, src_len) -> (blocked, additive), made once

    @classmethod
    def of(cls, attn_mask=None, key_padding_mask=None, is_causal: bool = False):
        """From ``nn.MultiheadAttention``'s arguments (or an AttentionMask, returned as is)."""
        if isinstance(attn_mask, AttentionMask):
            if key_padding_mask is not None or is_causal:
                raise ValueError("attention: an AttentionMask already says which keys are "
                                 "padding and whether it is causal; pass it alone")
            return attn_mask
        keys = None if key_padding_mask is None else Layout(key_padding_mask)
        return cls(keys=keys, causal=is_causal, attn_mask=attn_mask)

    # -- what MultiHeadAttention does with the rows ------------------------------------------
    def unpack_queries(self, x):
        """Queries' rows as (batch, tgt_len, ...)."""
        return x if self.queries is None else self.queries.unpack(x)

    def pack_queries(self, x):
        """(batch, tgt_len, ...) back to the queries' own layout (packed or not)."""
        return x if self.queries is None else self.queries.pack(x)

    def unpack_keys(self, x):
        """Keys' (or values') rows as (batch, src_len, ...)."""
        return x if self.keys is None else self.keys.unpack(x)

    # -- what scaled_dot_product_attention does with the scores ------------------------------
    def scores_masks(self, tgt_len: int, src_len: int, xp=np):
        """(blocked, additive) for scores of shape (batch, heads, tgt_len, src_len):
        a bool array, True where a query may not attend, and a float array to add to the
        scores; either may be None. Made once per shape and kept (every layer reuses it)."""
        key = (tgt_len, src_len)
        if key not in self._scores_masks:
            self._scores_masks[key] = self._combine(tgt_len, src_len, xp)
        return self._scores_masks[key]

    def _combine(self, tgt_len, src_len, xp):
        blocked, additive = None, None
        attn_mask = _array(self.attn_mask)
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
                raise TypeError(
                    f"attention: attn_mask must be bool or float, got {attn_mask.dtype}")
        pad = None if self.keys is None else _array(self.keys.pad)
        if pad is not None:
            if pad.dtype != np.bool_:
                raise TypeError(
                    f"attention: key_padding_mask must be bool (True at padding), got "
                    f"{pad.dtype}; build it with padding_mask(ids, pad_id)")
            # (a GPU skips the check: reading .any() back would wait for the queued work)
            if xp is not np or pad.any():  # (batch, 1, 1, src_len)
                pad = pad[:, None, None, :]
                blocked = pad if blocked is None else (blocked | pad)
        if self.causal:
            causal = xp.triu(xp.ones((tgt_len, src_len), dtype=bool), k=1 + src_len - tgt_len)
            blocked = causal if blocked is None else (blocked | causal)
        return blocked, additive

    def key_padding_shape(self):
        """(batch, src_len) of the keys' padding mask, or None."""
        return None if self.keys is None or self.keys.pad is None else tuple(self.keys.pad.shape)


def _array(m):
    return None if m is None else (m.array if isinstance(m, tt.Tensor) else m)
