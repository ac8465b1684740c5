"""The models: the encoder-decoder Transformer (translation), and the two halves on
their own: DecoderOnly (GPT-style next-token prediction) and EncoderOnly (BERT-style).

Transformer, top to bottom:

    src ids --TokenEmbedding + positions--> Encoder --> memory
    tgt ids --TokenEmbedding + positions--> Decoder(memory) --> Linear --> logits

Teacher forcing: training feeds the decoder the target shifted right (``<bos> y1 y2``)
and asks for the target itself (``y1 y2 <eos>``) at every position at once; the causal
mask stops position i from peeking at i+1. See ``shift_right``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields

import tinytorch as tt
from tinytorch import nn
from tinytorch.nn import functional as F

from .feedforward import ACTIVATIONS
from .layers import Decoder, DecoderLayer, Encoder, EncoderLayer
from .layout import AttentionMask, Layout
from .packing import pack_rows
from .positional import LearnedPositionalEmbedding, PositionalEncoding, TokenEmbedding


@dataclass
class TransformerConfig:
    """Everything that defines a model's shape (saved in checkpoints)."""

    src_vocab_size: int = 8000
    tgt_vocab_size: int = 8000
    d_model: int = 256
    nhead: int = 4
    num_encoder_layers: int = 3
    num_decoder_layers: int = 3
    dim_feedforward: int = 1024
    dropout: float = 0.1
    activation: str = "relu"         # or "gelu", or "gelu_tanh" (GPT-2's approximation)
    norm_first: bool = False        # False: post-LN (the paper); True: pre-LN
    final_norm: bool = True         # a LayerNorm after each stack, as nn.Transformer has
    max_len: int = 256
    pad_id: int = 0
    tie_embeddings: bool = True     # one matrix for source, target and output projection
    positional: str = "sinusoidal"  # or "learned"
    layer_norm_eps: float = 1e-5
    scale_embeddings: bool = True   # embeddings times sqrt(d_model), as in the paper (GPT-2: no)

    def __post_init__(self):
        # Checked here, so a bad value (typed by a user, or read from a damaged checkpoint)
        # fails at once with its name, not later as a shape error deep inside a layer.
        def bad(name, want):
            value = repr(getattr(self, name))
            value = value if len(value) <= 40 else value[:37] + "..."
            return ValueError(f"TransformerConfig: {name} must be {want}, got {value}")

        def number(x):  # int or float, not bool (True is an int in Python)
            return isinstance(x, numbers.Real) and not isinstance(x, bool)

        for name in ("src_vocab_size", "tgt_vocab_size", "d_model", "nhead",
                     "num_encoder_layers", "num_decoder_layers", "dim_feedforward", "max_len"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Integral) and number(value) and value >= 1):
                raise bad(name, "a positive int")
        vocab = min(self.src_vocab_size, self.tgt_vocab_size)
        if not (isinstance(self.pad_id, numbers.Integral) and number(self.pad_id)
                and 0 <= self.pad_id < vocab):
            raise bad("pad_id", f"a token id, 0 to {vocab - 1}")
        if not (number(self.dropout) and 0 <= self.dropout <= 1):
            raise bad("dropout", "a probability between 0 and 1")
        if not (number(self.layer_norm_eps) and 0 < self.layer_norm_eps < math.inf):
            raise bad("layer_norm_eps", "a small positive number, like 1e-5")
        for name in ("norm_first", "final_norm", "tie_embeddings", "scale_embeddings"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, "True or False")
        if not (isinstance(self.activation, str) and self.activation in ACTIVATIONS):
            raise bad("activation", "'relu', 'gelu' or 'gelu_tanh'")
        if not (isinstance(self.positional, str)
                and self.positional in ("sinusoidal", "learned")):
            raise bad("positional", "'sinusoidal' or 'learned'")
        if self.d_model % self.nhead:
            raise ValueError(
                f"TransformerConfig: d_model {self.d_model} is not divisible by nhead {self.nhead}")
        if self.tie_embeddings and self.src_vocab_size != self.tgt_vocab_size:
            raise ValueError(
                "TransformerConfig: tie_embeddings needs one joint vocabulary (src_vocab_size == "
                f"tgt_vocab_size), got {self.src_vocab_size} and {self.tgt_vocab_size}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TransformerConfig:
        if not isinstance(d, dict):
            raise ValueError(  # noqa: TRY004 (bad file content: ValueError, like the rest)
                f"TransformerConfig: expected a dict of fields, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = [repr(k)[:40] for k in d if k not in known]
        if unknown:
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            raise ValueError(f"TransformerConfig: unknown fields {', '.join(unknown[:5])}{more}")
        return cls(**d)


def _positions(cfg):
    cls = PositionalEncoding if cfg.positional == "sinusoidal" else LearnedPositionalEmbedding
    return cls(cfg.d_model, cfg.max_len, cfg.dropout)


def _layer_args(cfg):
    return dict(d_model=cfg.d_model, nhead=cfg.nhead, dim_feedforward=cfg.dim_feedforward,
                dropout=cfg.dropout, activation=cfg.activation, norm_first=cfg.norm_first,
                layer_norm_eps=cfg.layer_norm_eps)


def _embedding(cfg, vocab_size):
    return TokenEmbedding(vocab_size, cfg.d_model, cfg.pad_id, scale=cfg.scale_embeddings)


def _final_norm(cfg):
    return nn.LayerNorm(cfg.d_model, eps=cfg.layer_norm_eps) if cfg.final_norm else None


def shift_right(tgt, bos_id: int):
    """Teacher forcing input: (batch, len) targets -> (batch, len) with bos first, last dropped.

    tgt     = [y1, y2, y3, eos]       what the decoder must predict
    tgt_in  = [bos, y1, y2, y3]       what it reads (shift_right(tgt))
    """
    bos = tt.full((tgt.shape[0], 1), bos_id, dtype=tt.int64, device=tgt.device)
    return tt.cat([bos, tgt[:, :-1]], dim=1)


class Transformer(nn.Module):
    """Encoder-decoder: src (batch, src_len), tgt_in (batch, tgt_len) int64 ids ->
    logits (batch, tgt_len, tgt_vocab_size)."""

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = cfg = config
        self.src_embed = _embedding(cfg, cfg.src_vocab_size)
        self.tgt_embed = (self.src_embed if cfg.tie_embeddings else
                          _embedding(cfg, cfg.tgt_vocab_size))
        self.src_pos = _positions(cfg)
        self.tgt_pos = _positions(cfg)
        self.encoder = Encoder([EncoderLayer(**_layer_args(cfg))
                                for _ in range(cfg.num_encoder_layers)], _final_norm(cfg))
        self.decoder = Decoder([DecoderLayer(**_layer_args(cfg))
                                for _ in range(cfg.num_decoder_layers)], _final_norm(cfg))
        self.generator = nn.Linear(cfg.d_model, cfg.tgt_vocab_size, bias=not cfg.tie_embeddings)
        if cfg.tie_embeddings:
            self.generator.weight = self.tgt_embed.embedding.weight

    def encode(self, src, layout=None):
        """src (batch, src_len) ids -> memory (batch, src_len, d_model), and the source's
        Layout (layout.py: its padding, which cross-attention may not read).

        ``layout``: a packed Layout of src (the fast path of ``loss``): the encoder then
        runs on the real tokens only and the memory is (src_tokens, d_model).
        """
        layout = Layout.of(src, self.config.pad_id) if layout is None else layout
        x = self.src_pos(self.src_embed(src))                       # (batch, src_len, d_model)
        return self.encoder(layout.pack(x), AttentionMask(layout)), layout

    def decode(self, tgt_in, memory, memory_layout, cache=None):
        """tgt_in (batch, tgt_len) -> logits (batch, tgt_len, tgt_vocab_size).

        With a ``cache`` (a KVCache, cache.py), tgt_in holds only the new tokens; they
        follow the ``cache.length`` positions decoded before.
        """
        return self.generator(self.decoder_states(tgt_in, memory, memory_layout, cache))

    def decoder_states(self, tgt_in, memory, memory_layout, cache=None, layout=None):
        """tgt_in (batch, tgt_len) -> the decoder's last hidden states (batch, tgt_len,
        d_model): ``decode`` without the generator. ``layout``: a packed Layout of the
        target (the fast path of ``loss``): the states are then (tgt_tokens, d_model)."""
        offset = 0 if cache is None else cache.length
        if layout is None:  # new tokens in a cached decode hold no padding
            layout = Layout.of(tgt_in, self.config.pad_id) if cache is None else Layout()
        y = self.tgt_pos(self.tgt_embed(tgt_in), offset=offset)    # (batch, tgt_len, d_model)
        y = self.decoder(layout.pack(y), memory,
                         AttentionMask(layout, causal=True),         # self: no peeking ahead
                         AttentionMask(layout, keys=memory_layout),  # cross: source's padding
                         cache)
        if cache is not None:
            cache.length += tgt_in.shape[1]
        return y

    def forward(self, src, tgt_in):
        memory, src_layout = self.encode(src)
        return self.decode(tgt_in, memory, src_layout)

    def loss(self, src, tgt_in, tgt_out, label_smoothing: float = 0.0):
        """Mean cross-entropy of the predictions over the non-padding target positions:

            F.cross_entropy(self(src, tgt_in).reshape(-1, vocab), tgt_out.reshape(-1),
                            ignore_index=pad_id, label_smoothing=label_smoothing)

        which is exactly what runs with fast paths off. The fast path computes the same
        number and the same gradients with two savings:

        - packing (layout.py, packing.py): the position-wise layers run on the real tokens
          only. A target position is left out when it is padding in both tgt_in (nothing
          attends to it) and tgt_out (the loss ignores it);
        - the generator and the loss run fused (``F.linear_cross_entropy``): the
          (tokens, vocab) logits, the largest array of a step, are never kept.
        """
        pad = self.config.pad_id
        if not tt.fast_paths_enabled():
            logits = self(src, tgt_in)                              # (batch, tgt_len, vocab)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                                   ignore_index=pad, label_smoothing=label_smoothing)
        src_layout = Layout.of(src, pad, packed=True)
        memory, _ = self.encode(src, src_layout)                    # (src_tokens, d_model)
        tgt_layout = Layout(tgt_in == pad, packed=True, keep=(tgt_in != pad) | (tgt_out != pad))
        y = self.decoder_states(tgt_in, memory, src_layout, layout=tgt_layout)  # (tokens, d)
        return F.linear_cross_entropy(
            y, self.generator.weight, tgt_layout.pack(tgt_out), linear_bias=self.generator.bias,
            ignore_index=pad, label_smoothing=label_smoothing,
            options=nn.LinearCrossEntropyOptions())


class DecoderOnly(nn.Module):
    """GPT-style causal language model: ids (batch, len) -> next-token logits (batch, len, vocab).

    Each block is an encoder layer under a causal mask: self-attention only, no memory
    to read, and position i sees positions 0..i. It learns by next-token prediction,
    the decoder's teacher forcing without a source: a sentence ``[bos, w1 .. wn, eos]``
    is read as ``ids_in = [bos, w1 .. wn]`` and must predict ``ids_out = [w1 .. wn, eos]``
    (``loss``). GPT-2 is this model with learned positions, pre-LN, GELU (tanh) and
    unscaled embeddings (transformer/gpt2/).

    Rows shorter than the batch are padded at the end (right padding): under the causal
    mask no real token sees the padding after it, so no padding mask is needed.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = cfg = config
        self.embed = _embedding(cfg, cfg.tgt_vocab_size)
        self.pos = _positions(cfg)
        self.blocks = Encoder([EncoderLayer(**_layer_args(cfg))
                               for _ in range(cfg.num_decoder_layers)], _final_norm(cfg))
        self.lm_head = nn.Linear(cfg.d_model, cfg.tgt_vocab_size, bias=not cfg.tie_embeddings)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.embed.embedding.weight

    def hidden_states(self, ids, cache=None, layout=None):
        """ids (batch, len) -> the last block's states (batch, len, d_model).

        ``cache`` (a KVCache, cache.py): ids holds only the new tokens, which follow the
        ``cache.length`` positions seen before. ``layout``: a packed Layout of ids (the
        fast path of ``loss``): the states are then (tokens, d_model).
        """
        offset = 0 if cache is None else cache.length
        layout = Layout() if layout is None else layout
        x = self.pos(self.embed(ids), offset=offset)                 # (batch, len, d_model)
        x = self.blocks(layout.pack(x), AttentionMask(layout, causal=True), cache)
        if cache is not None:
            cache.length += ids.shape[1]
        return x

    def forward(self, ids, cache=None):
        """ids (batch, len) -> logits (batch, len, vocab): position i scores token i + 1."""
        return self.lm_head(self.hidden_states(ids, cache))

    def loss(self, ids_in, ids_out, label_smoothing: float = 0.0):
        """Mean next-token cross-entropy over the positions whose target is not padding:

            F.cross_entropy(self(ids_in).reshape(-1, vocab), ids_out.reshape(-1),
                            ignore_index=pad_id, label_smoothing=label_smoothing)

        which is exactly what runs with fast paths off. The fast path (as in
        ``Transformer.loss``) runs the blocks on the real tokens only (packed) and the
        head fused with the loss: same number, same gradients.
        """
        pad = self.config.pad_id
        if not tt.fast_paths_enabled():
            logits = self(ids_in)                                    # (batch, len, vocab)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids_out.reshape(-1),
                                   ignore_index=pad, label_smoothing=label_smoothing)
        layout = Layout(ids_in == pad, packed=True, keep=(ids_in != pad) | (ids_out != pad))
        x = self.hidden_states(ids_in, layout=layout)                # (tokens, d_model)
        return F.linear_cross_entropy(
            x, self.lm_head.weight, layout.pack(ids_out), linear_bias=self.lm_head.bias,
            ignore_index=pad, label_smoothing=label_smoothing,
            options=nn.LinearCrossEntropyOptions())


class EncoderOnly(nn.Module):
    """BERT-style encoder: ids (batch, len) -> hidden states (batch, len, d_model), with
    a masked-token head (``mlm_logits``) and a classification head on the first token
    (``classify``; put a [CLS]-like token first)."""

    def __init__(self, config: TransformerConfig, num_classes: int = 2):
        super().__init__()
        self.config = cfg = config
        self.embed = _embedding(cfg, cfg.src_vocab_size)
        self.pos = _positions(cfg)
        self.encoder = Encoder([EncoderLayer(**_layer_args(cfg))
                                for _ in range(cfg.num_encoder_layers)], _final_norm(cfg))
        self.mlm_head = nn.Linear(cfg.d_model, cfg.src_vocab_size, bias=not cfg.tie_embeddings)
        if cfg.tie_embeddings:
            self.mlm_head.weight = self.embed.embedding.weight
        self.cls_head = nn.Linear(cfg.d_model, num_classes)

    def forward(self, ids, layout=None):
        """ids (batch, len) -> hidden states (batch, len, d_model). ``layout``: a packed
        Layout of ids (the fast path of ``loss``): the states are then (tokens, d_model)."""
        layout = Layout.of(ids, self.config.pad_id) if layout is None else layout
        x = self.pos(self.embed(ids))                                # (batch, len, d_model)
        return self.encoder(layout.pack(x), AttentionMask(layout))   # padding only

    def mlm_logits(self, ids):
        """(batch, len, vocab): what token belongs at each (masked) position."""
        return self.mlm_head(self(ids))

    def loss(self, ids, labels, label_smoothing: float = 0.0):
        """Mean cross-entropy of the masked-token predictions: ids (batch, len) is the
        masked input, labels (batch, len) the original token at each chosen position and
        pad_id everywhere else (masked_lm.mask_tokens makes both). Only the chosen
        positions count:

            F.cross_entropy(self.mlm_logits(ids).reshape(-1, vocab), labels.reshape(-1),
                            ignore_index=pad_id, label_smoothing=label_smoothing)

        which is exactly what runs with fast paths off. The fast path computes the same
        number and gradients: the encoder runs on the real tokens only (packed), and the
        head runs fused with the loss (``F.linear_cross_entropy``) on the chosen rows
        only, about 15% of them, so the (tokens, vocab) logits are never built.
        """
        pad = self.config.pad_id
        if not tt.fast_paths_enabled():
            logits = self.mlm_logits(ids)                            # (batch, len, vocab)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                   ignore_index=pad, label_smoothing=label_smoothing)
        layout = Layout(ids == pad, packed=True, keep=(ids != pad) | (labels != pad))
        x = self(ids, layout)                                        # (tokens, d_model)
        kept = layout.index.cpu().numpy()                            # (tokens,) flat positions
        targets = labels.reshape(-1).cpu().numpy()[kept]             # (tokens,)
        chosen = (targets != pad).nonzero()[0]                       # (chosen,) rows of x
        index = tt.tensor(chosen, device=x.device)
        return F.linear_cross_entropy(
            pack_rows(x, index.array), self.mlm_head.weight,
            tt.tensor(targets[chosen], device=x.device), linear_bias=self.mlm_head.bias,
            ignore_index=pad, label_smoothing=label_smoothing,
            options=nn.LinearCrossEntropyOptions())

    def classify(self, ids):
        """(batch, num_classes) logits from the first position's hidden state."""
        return self.cls_head(self(ids)[:, 0])
