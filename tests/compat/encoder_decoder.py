"""An encoder-decoder in the Annotated Transformer's style: hand-written attention with
masked_fill, subsequent_mask built with .type(torch.uint8), label smoothing through
nn.KLDivLoss with scatter_/nonzero/index_fill_, Adam with the paper's warm-up (LambdaLR),
batches of torch.LongTensor. Plain PyTorch."""
import copy
import math

import numpy as np
import torch
import torch.nn as nn
from torch.nn.functional import log_softmax, pad
from torch.optim.lr_scheduler import LambdaLR

V, D, H, FF, N, PAD = 11, 16, 2, 32, 2, 0


def clones(module, n):
    return nn.ModuleList([copy.deepcopy(module) for _ in range(n)])


def subsequent_mask(size):
    attn_shape = (1, size, size)
    mask = torch.triu(torch.ones(attn_shape), diagonal=1).type(torch.uint8)
    return mask == 0


def attention(query, key, value, mask=None):
    d_k = query.size(-1)
    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    p_attn = scores.softmax(dim=-1)
    return torch.matmul(p_attn, value), p_attn


class MultiHeadedAttention(nn.Module):
    def __init__(self, h, d_model):
        super().__init__()
        self.d_k, self.h = d_model // h, h
        self.linears = clones(nn.Linear(d_model, d_model), 4)

    def forward(self, query, key, value, mask=None):
        if mask is not None:
            mask = mask.unsqueeze(1)
        nbatches = query.size(0)
        query, key, value = [lin(x).view(nbatches, -1, self.h, self.d_k).transpose(1, 2)
                             for lin, x in zip(self.linears, (query, key, value))]
        x, self.attn = attention(query, key, value, mask=mask)
        x = x.transpose(1, 2).contiguous().view(nbatches, -1, self.h * self.d_k)
        return self.linears[-1](x)


class SublayerConnection(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.norm = nn.LayerNorm(size)

    def forward(self, x, sublayer):
        return x + sublayer(self.norm(x))


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = MultiHeadedAttention(H, D)
        self.feed_forward = nn.Sequential(nn.Linear(D, FF), nn.ReLU(), nn.Linear(FF, D))
        self.sublayer = clones(SublayerConnection(D), 2)

    def forward(self, x, mask):
        x = self.sublayer[0](x, lambda x: self.self_attn(x, x, x, mask))
        return self.sublayer[1](x, self.feed_forward)


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn = MultiHeadedAttention(H, D)
        self.src_attn = MultiHeadedAttention(H, D)
        self.feed_forward = nn.Sequential(nn.Linear(D, FF), nn.ReLU(), nn.Linear(FF, D))
        self.sublayer = clones(SublayerConnection(D), 3)

    def forward(self, x, memory, src_mask, tgt_mask):
        m = memory
        x = self.sublayer[0](x, lambda x: self.self_attn(x, x, x, tgt_mask))
        x = self.sublayer[1](x, lambda x: self.src_attn(x, m, m, src_mask))
        return self.sublayer[2](x, self.feed_forward)


class EncoderDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = clones(EncoderLayer(), N), clones(DecoderLayer(), N)
        self.norm_e, self.norm_d = nn.LayerNorm(D), nn.LayerNorm(D)
        self.src_embed, self.tgt_embed = nn.Embedding(V, D), nn.Embedding(V, D)
        self.generator = nn.Linear(D, V)

    def encode(self, src, src_mask):
        x = self.src_embed(src) * math.sqrt(D)
        for layer in self.encoder:
            x = layer(x, src_mask)
        return self.norm_e(x)

    def decode(self, memory, src_mask, tgt, tgt_mask):
        x = self.tgt_embed(tgt) * math.sqrt(D)
        for layer in self.decoder:
            x = layer(x, memory, src_mask, tgt_mask)
        return self.norm_d(x)

    def forward(self, src, tgt, src_mask, tgt_mask):
        out = self.decode(self.encode(src, src_mask), src_mask, tgt, tgt_mask)
        return log_softmax(self.generator(out), dim=-1)


class LabelSmoothing(nn.Module):
    def __init__(self, size, padding_idx, smoothing=0.0):
        super().__init__()
        self.criterion = nn.KLDivLoss(reduction="sum")
        self.padding_idx, self.confidence = padding_idx, 1.0 - smoothing
        self.smoothing, self.size = smoothing, size

    def forward(self, x, target):
        true_dist = x.data.clone()
        true_dist.fill_(self.smoothing / (self.size - 2))
        true_dist.scatter_(1, target.data.unsqueeze(1), self.confidence)
        true_dist[:, self.padding_idx] = 0
        mask = torch.nonzero(target.data == self.padding_idx)
        if mask.dim() > 0:
            true_dist.index_fill_(0, mask.squeeze(), 0.0)
        return self.criterion(x, true_dist.clone().detach())


def rate(step, model_size, factor, warmup):
    step = 1 if step == 0 else step
    return factor * (model_size ** (-0.5) * min(step ** (-0.5), step * warmup ** (-1.5)))


def batches(n):
    rng = np.random.default_rng(0)
    for _ in range(n):
        data = rng.integers(1, V, size=(6, 7))
        data[:, 0] = 1
        data[0, 5:] = PAD                                     # one padded sentence
        src = torch.LongTensor(data)
        tgt = pad(torch.LongTensor(data)[:, :-1], (0, 0), value=PAD)
        tgt_y = torch.LongTensor(data)[:, 1:]
        src_mask = (src != PAD).unsqueeze(-2)
        tgt_mask = (tgt != PAD).unsqueeze(-2) & subsequent_mask(tgt.size(-1)).type_as(src_mask)
        yield src, tgt, tgt_y, src_mask, tgt_mask


def build():
    torch.manual_seed(0)
    model = EncoderDecoder()
    for p in model.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    return model


def train(model, steps):
    criterion = LabelSmoothing(size=V, padding_idx=PAD, smoothing=0.1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1.0, betas=(0.9, 0.98), eps=1e-9)
    scheduler = LambdaLR(optimizer, lr_lambda=lambda step: rate(step, D, 1.0, 4))
    losses = []
    for src, tgt, tgt_y, src_mask, tgt_mask in batches(steps):
        out = model(src, tgt, src_mask, tgt_mask)
        ntokens = (tgt_y != PAD).data.sum()
        loss = criterion(out.contiguous().view(-1, out.size(-1)), tgt_y.contiguous().view(-1))
        loss = loss / ntokens
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        losses.append(loss.item())
    return {"losses": losses, "last_lr": scheduler.get_last_lr()[0]}
