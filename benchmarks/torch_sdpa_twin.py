"""The translator's model in PyTorch, written for speed: the fast twin the benchmarks race
against (next to benchmarks/torch_twin.py, the ``nn.Transformer`` one).

The same function as ``TorchTranslator`` and our ``transformer.Transformer`` with its
defaults (post-LN, ReLU, final stack norms, one embedding tied to the source, the target
and the output, scaled by sqrt(d_model), sinusoidal positions, label-smoothed loss over
the non-padding targets), written the way a speed-minded PyTorch user writes it
(nanoGPT's style): one fused ``qkv`` Linear for self-attention, a ``q`` and a fused ``kv``
Linear for cross-attention, and ``F.scaled_dot_product_attention`` (PyTorch's fused
attention kernels) with ``is_causal=True`` in the decoder and a boolean mask for the
source's padding. No dropout: the benchmarks train without it.

Why the decoder's self-attention needs no padding mask: targets are right-padded, so a
position whose target is a real token sees (under the causal mask) only real tokens
before it; the padded positions' outputs reach nothing but the loss, which ignores them.

``greedy`` decodes with a KV cache: each layer's cross-attention keys and values are
computed once from the encoder's output, and the self-attention keys and values of each
new token are written into a preallocated (batch, heads, steps, head_dim) buffer, so a
step runs the decoder on one position only. Only imported when PyTorch is installed.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .torch_twin import embeddings


def _heads(x, nhead: int):
    """(batch, len, d_model) -> (batch, nhead, len, head_dim)."""
    b, n, d = x.shape
    return x.view(b, n, nhead, d // nhead).transpose(1, 2)


def _merge(x):
    """(batch, nhead, len, head_dim) -> (batch, len, d_model)."""
    b, h, n, hd = x.shape
    return x.transpose(1, 2).reshape(b, n, h * hd)


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused projection for queries, keys and values."""

    def __init__(self, d_model: int, nhead: int):
        super().__init__()
        self.nhead = nhead
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None, is_causal: bool = False):
        """x (batch, len, d_model); mask (batch, 1, 1, len) True at real keys, or None."""
        q, k, v = (_heads(t, self.nhead) for t in self.qkv(x).chunk(3, dim=-1))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)
        return self.out_proj(_merge(out))

    def step(self, x, keys, values, t: int):
        """One new position x (batch, 1, d_model) at index t: its key and value go into
        the caches ``keys``/``values`` (batch, nhead, steps, head_dim), and its query
        attends to positions 0..t (all earlier ones: no mask needed)."""
        q, k, v = (_heads(u, self.nhead) for u in self.qkv(x).chunk(3, dim=-1))
        keys[:, :, t: t + 1], values[:, :, t: t + 1] = k, v
        out = F.scaled_dot_product_attention(q, keys[:, :, : t + 1], values[:, :, : t + 1])
        return self.out_proj(_merge(out))


class CrossAttention(nn.Module):
    """Queries from the decoder, keys and values (one fused projection) from the memory."""

    def __init__(self, d_model: int, nhead: int):
        super().__init__()
        self.nhead = nhead
        self.q = nn.Linear(d_model, d_model)
        self.kv = nn.Linear(d_model, 2 * d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def keys_values(self, memory):
        """memory (batch, src_len, d_model) -> keys, values (batch, nhead, src_len, head_dim)."""
        return (_heads(t, self.nhead) for t in self.kv(memory).chunk(2, dim=-1))

    def forward(self, x, keys, values, mask):
        """x (batch, tgt_len, d_model); mask (batch, 1, 1, src_len) True at real source tokens."""
        out = F.scaled_dot_product_attention(_heads(self.q(x), self.nhead), keys, values,
                                             attn_mask=mask)
        return self.out_proj(_merge(out))


class EncoderBlock(nn.Module):
    def __init__(self, d_model: int, nhead: int, dim_feedforward: int):
        super().__init__()
        self.self_attn = SelfAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)

    def forward(self, x, mask):
        x = self.norm1(x + self.self_attn(x, mask))              # post-LN: norm after the add
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))


class DecoderBlock(nn.Module):
    def __init__(self, d_model: int, nhead: int, dim_feedforward: int):
        super().__init__()
        self.self_attn = SelfAttention(d_model, nhead)
        self.cross_attn = CrossAttention(d_model, nhead)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))

    def _rest(self, x, keys, values, src_mask):
        """Cross-attention and feed-forward, after the self-attention's sub-layer."""
        x = self.norm2(x + self.cross_attn(x, keys, values, src_mask))
        return self.norm3(x + self.linear2(F.relu(self.linear1(x))))

    def forward(self, x, keys, values, src_mask):
        x = self.norm1(x + self.self_attn(x, is_causal=True))
        return self._rest(x, keys, values, src_mask)

    def step(self, x, keys, values, src_mask, cache, t: int):
        """One new position x (batch, 1, d_model); cache: this layer's (keys, values)."""
        x = self.norm1(x + self.self_attn.step(x, *cache, t))
        return self._rest(x, keys, values, src_mask)


class SdpaTranslator(nn.Module):
    """src (batch, src_len), tgt_in (batch, tgt_len) int64 -> logits (batch, tgt_len, vocab).
    The same constructor as ``TorchTranslator`` (dropout must be 0)."""

    def __init__(self, vocab_size: int, d_model: int, nhead: int, num_layers: int,
                 dim_feedforward: int, dropout: float = 0.0, max_len: int = 256, pad_id: int = 0):
        super().__init__()
        if dropout:
            raise ValueError("SdpaTranslator has no dropout; pass dropout=0.0")
        self.pad_id, self.scale, self.nhead = pad_id, math.sqrt(d_model), nhead
        embeddings(self, vocab_size, d_model, max_len, pad_id)
        self.encoder = nn.ModuleList(EncoderBlock(d_model, nhead, dim_feedforward)
                                     for _ in range(num_layers))
        self.decoder = nn.ModuleList(DecoderBlock(d_model, nhead, dim_feedforward)
                                     for _ in range(num_layers))
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        for name, p in self.named_parameters():  # nn.Transformer's init of the blocks
            if p.dim() > 1 and not name.startswith("embed."):
                nn.init.xavier_uniform_(p)

    def _embed(self, ids, offset: int = 0):
        """ids (batch, n) -> embedding * sqrt(d_model) + positions offset..offset+n."""
        pos = self.positions[offset: offset + ids.shape[1]].to(self.embed.weight.dtype)
        return self.embed(ids) * self.scale + pos

    def encode(self, src):
        """src (batch, src_len) -> memory (batch, src_len, d_model) and the mask
        (batch, 1, 1, src_len), True at real tokens: every query may see those keys."""
        mask = (src != self.pad_id)[:, None, None, :]
        x = self._embed(src)
        for block in self.encoder:
            x = block(x, mask)
        return self.encoder_norm(x), mask

    def forward(self, src, tgt_in):
        memory, mask = self.encode(src)
        y = self._embed(tgt_in)
        for block in self.decoder:
            y = block(y, *block.cross_attn.keys_values(memory), mask)
        return F.linear(self.decoder_norm(y), self.embed.weight)  # tied output projection

    def loss(self, src, tgt_in, tgt_out, label_smoothing: float = 0.0):
        logits = self(src, tgt_in)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1),
                               ignore_index=self.pad_id, label_smoothing=label_smoothing)

    @torch.no_grad()
    def greedy(self, src, bos_id: int, steps: int, eos_id: int | None = None):
        """Greedy decoding with a KV cache: (batch, <= steps) ids, the pad token never
        chosen; stops early once every row has produced ``eos_id`` (as TorchTranslator)."""
        memory, mask = self.encode(src)
        b, dtype = src.shape[0], memory.dtype
        cross = [tuple(block.cross_attn.keys_values(memory)) for block in self.decoder]
        head_dim = memory.shape[-1] // self.nhead
        cache = [(memory.new_empty(b, self.nhead, steps, head_dim, dtype=dtype),
                  memory.new_empty(b, self.nhead, steps, head_dim, dtype=dtype))
                 for _ in self.decoder]
        out = torch.empty(b, steps, dtype=torch.long, device=src.device)
        token = torch.full((b, 1), bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(b, dtype=torch.bool, device=src.device)
        for t in range(steps):
            y = self._embed(token, offset=t)                       # (batch, 1, d_model)
            for block, (keys, values), past in zip(self.decoder, cross, cache):
                y = block.step(y, keys, values, mask, past, t)
            logits = F.linear(self.decoder_norm(y[:, 0]), self.embed.weight)
            logits[:, self.pad_id] = -torch.inf
            token = logits.argmax(-1, keepdim=True)
            out[:, t] = token[:, 0]
            if eos_id is not None:
                done |= token[:, 0] == eos_id
                if bool(done.all()):
                    return out[:, : t + 1]
        return out


#: The twin's fused projections and, in order, the ones of ours stacked into each.
_FUSED = ((".qkv.", ("q_proj", "k_proj", "v_proj")), (".kv.", ("k_proj", "v_proj")))


def load_tinytorch_state(twin: SdpaTranslator, ours: dict) -> list[str]:
    """Copy our Transformer's weights ({our name: NumPy array}, as from
    ``{k: v.numpy() for k, v in model.state_dict().items()}`` or
    ``torch_twin.to_tinytorch_state``) into the twin, in the twin's dtype: q/k/v are
    stacked into ``qkv``, k/v into ``kv``. Returns our names that were used."""
    new, used = {}, []
    for key in twin.state_dict():
        names = [_our_name(key)]
        for fused, parts in _FUSED:
            if fused in key:
                names = [_our_name(key.replace(fused, f".{p}.")) for p in parts]
        new[key] = torch.from_numpy(np.concatenate([np.asarray(ours[n]) for n in names]))
        used += names
    twin.load_state_dict(new)
    return used


def _our_name(key: str) -> str:
    """A twin parameter's name (one projection at a time) -> our Transformer's name."""
    if key == "embed.weight":
        return "src_embed.embedding.weight"
    for twin_name, ours in (("encoder.", "encoder.layers."), ("decoder.", "decoder.layers."),
                            ("encoder_norm.", "encoder.norm."), ("decoder_norm.", "decoder.norm.")):
        if key.startswith(twin_name):
            key = ours + key.removeprefix(twin_name)
            break
    key = key.replace(".cross_attn.q.", ".cross_attn.q_proj.")
    return key.replace(".linear1.", ".feed_forward.linear1.").replace(
        ".linear2.", ".feed_forward.linear2.")
