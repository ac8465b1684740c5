"""Our DecoderOnly (GPT-style language model) in plain PyTorch: the twin the LM benchmarks
race against.

Built from the same ``TransformerConfig`` as ``transformer.DecoderOnly``: token embedding
(scaled by sqrt(d_model) or not), sinusoidal or learned positions, a stack of
``nn.TransformerEncoderLayer`` (pre-LN or post-LN, the config's activation) under a causal
mask with an optional final LayerNorm (``nn.TransformerEncoder``), and an output layer tied
to the embedding or not. Same loss: mean next-token cross-entropy over the non-padding
targets, with label smoothing. Rows are right-padded and need no padding mask: under the
causal mask no real token sees the padding after it (as in ours).

Why ``nn.TransformerEncoderLayer`` and not a hand-written block: our blocks *are* encoder
layers under a causal mask, and this is the module a PyTorch user reaches for; given
``is_causal=True`` it runs attention through PyTorch's fused causal
``scaled_dot_product_attention``, so the twin gets PyTorch's own best path.

Generation: ``greedy`` decodes without a cache by running the whole prefix again (what
``nn.TransformerEncoder`` offers) or, with ``use_cache=True``, through ``_cached_block``:
the same layers' weights and the same arithmetic, written out step by step so that each
step computes only the new token and keeps the keys and values of the earlier ones (the
test checks both give the same tokens). Only imported when PyTorch is installed.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from transformer.positional import sinusoidal_table
from transformer.torch_compat import convert_state_dict

ACTIVATIONS = {"relu": "relu", "gelu": "gelu",
               "gelu_tanh": functools.partial(F.gelu, approximate="tanh")}


class TorchLM(nn.Module):
    """ids (batch, len) int64 -> next-token logits (batch, len, vocab), from a TransformerConfig
    (the fields a DecoderOnly reads: tgt_vocab_size, num_decoder_layers, ...)."""

    def __init__(self, cfg):
        super().__init__()
        self.pad_id, self.max_len = cfg.pad_id, cfg.max_len
        d = cfg.d_model
        self.scale = math.sqrt(d) if cfg.scale_embeddings else 1.0
        self.embed = nn.Embedding(cfg.tgt_vocab_size, d, padding_idx=cfg.pad_id)
        with torch.no_grad():  # as transformer.positional.TokenEmbedding: N(0, 1/d_model)
            nn.init.normal_(self.embed.weight, std=d ** -0.5)
            self.embed.weight[cfg.pad_id] = 0
        if cfg.positional == "learned":
            self.pos = nn.Embedding(cfg.max_len, d)
            nn.init.normal_(self.pos.weight, std=0.02)
        else:
            self.register_buffer("positions", torch.from_numpy(sinusoidal_table(cfg.max_len, d)),
                                 persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        layer = nn.TransformerEncoderLayer(
            d, cfg.nhead, cfg.dim_feedforward, cfg.dropout, ACTIVATIONS[cfg.activation],
            cfg.layer_norm_eps, batch_first=True, norm_first=cfg.norm_first)
        norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps) if cfg.final_norm else None
        self.blocks = nn.TransformerEncoder(layer, cfg.num_decoder_layers, norm,
                                            enable_nested_tensor=False)
        for name, p in self.blocks.named_parameters():  # the copies start apart (nn.Transformer)
            if p.dim() > 1:
                nn.init.xavier_uniform_(p)
        self.lm_head = nn.Linear(d, cfg.tgt_vocab_size, bias=not cfg.tie_embeddings)
        if cfg.tie_embeddings:
            self.lm_head.weight = self.embed.weight

    def _embed(self, ids, offset: int = 0):
        """ids (batch, n) -> dropout(embedding * scale + positions offset..offset+n)."""
        n = ids.shape[1]
        x = self.embed(ids) * self.scale if self.scale != 1.0 else self.embed(ids)
        if hasattr(self, "pos"):
            x = x + self.pos(torch.arange(offset, offset + n, device=ids.device))
        else:
            x = x + self.positions[offset: offset + n].to(x.dtype)
        return self.drop(x)

    def forward(self, ids):
        n = ids.shape[1]
        causal = nn.Transformer.generate_square_subsequent_mask(  # -inf above the diagonal
            n, ids.device, self.embed.weight.dtype)
        return self.lm_head(self.blocks(self._embed(ids), mask=causal, is_causal=True))

    def loss(self, ids_in, ids_out, label_smoothing: float = 0.0):
        """Mean cross-entropy of the next token over the positions whose target is not padding."""
        logits = self(ids_in)                                         # (batch, len, vocab)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids_out.reshape(-1),
                               ignore_index=self.pad_id, label_smoothing=label_smoothing)

    # -- generation -------------------------------------------------------------------------

    def _cached_step(self, ids, cache: list, offset: int):
        """ids (batch, n): the tokens after the ``offset`` already seen -> logits (batch, n, vocab).
        ``cache``: one [keys, values] list per layer, each (batch, heads, offset, head_dim)."""
        x = self._embed(ids, offset)
        for layer, past in zip(self.blocks.layers, cache):
            x = _cached_block(layer, x, past)
        if self.blocks.norm is not None:
            x = self.blocks.norm(x)
        return self.lm_head(x)

    @torch.no_grad()
    def greedy(self, prompts, steps: int, use_cache: bool = True):
        """prompts (batch, prompt_len) int64, no padding -> (batch, steps) greedy tokens (the pad
        token never chosen, as in transformer.generate; no end-of-sequence: every row runs
        ``steps`` tokens)."""
        prefix, start, seen = prompts, prompts.shape[1], 0
        cache = [[] for _ in self.blocks.layers]
        for _ in range(steps):
            if use_cache:   # only the tokens not seen yet: the prompt, then the last token
                logits = self._cached_step(prefix[:, seen:], cache, seen)[:, -1]
                seen = prefix.shape[1]
            else:           # the whole prefix again
                logits = self(prefix)[:, -1]
            logits[:, self.pad_id] = -torch.inf
            prefix = torch.cat([prefix, logits.argmax(-1, keepdim=True)], dim=1)
        return prefix[:, start:]


def _cached_block(layer: nn.TransformerEncoderLayer, x, past: list):
    """One encoder layer for the new positions x (batch, n, d_model), with the earlier
    positions' keys and values in ``past`` ([] or [k, v], each (batch, heads, seen,
    head_dim)), which it extends. The arithmetic of ``layer.forward`` under a causal mask."""
    def attend(h):
        attn = layer.self_attn
        b, n, d = h.shape
        heads = attn.num_heads
        q, k, v = F.linear(h, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.reshape(b, n, heads, d // heads).transpose(1, 2) for t in (q, k, v))
        if past:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        past[:] = [k, v]
        # new position i (of n) sees every earlier position and the new ones up to itself
        seen = k.shape[2] - n
        mask = torch.ones(n, k.shape[2], dtype=torch.bool, device=h.device).tril(seen)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (b, heads, n, hd)
        return layer.dropout1(attn.out_proj(out.transpose(1, 2).reshape(b, n, d)))

    def feed_forward(h):
        return layer.dropout2(layer.linear2(layer.dropout(layer.activation(layer.linear1(h)))))

    if layer.norm_first:
        x = x + attend(layer.norm1(x))
        return x + feed_forward(layer.norm2(x))
    x = layer.norm1(x + attend(x))
    return layer.norm2(x + feed_forward(x))


#: The twin's top-level names -> ours (DecoderOnly); the blocks' names go through
#: transformer.torch_compat, the same mapping that loads PyTorch's encoder layers into ours.
_TOP_LEVEL = {"embed.weight": "embed.embedding.weight", "pos.weight": "pos.embedding.weight"}


def load_tinytorch_state(twin: TorchLM, ours: dict) -> list[str]:
    """Copy our DecoderOnly's weights ({our name: NumPy array}, e.g. from
    ``{k: v.numpy() for k, v in model.state_dict().items()}``) into the twin, in the
    twin's dtype. Returns our names that were used (every one, for a matching config)."""
    new, used = {}, []
    for key, value in twin.state_dict().items():
        renamed = _TOP_LEVEL.get(key, key)
        # our names for this tensor: one, or q/k/v for PyTorch's stacked in_proj (in order)
        names = list(convert_state_dict({renamed: value.cpu().numpy()}))
        new[key] = torch.from_numpy(np.concatenate([np.asarray(ours[n]) for n in names]))
        used += names
    twin.load_state_dict(new)
    return used
