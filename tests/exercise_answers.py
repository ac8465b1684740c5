"""Answers to the exercises written from their texts alone, without calling the library.

Spoiler: these are solutions. tests/test_exercises.py grades them: they pass, so each
exercise's text says everything its grader checks (beam search's rules included), and
the graders do not depend on how the library happens to write its code.
"""

import math
import numpy as np
import tinytorch


def mul_backward(g, a, b):
    return g * b, g * a


def pow_backward(g, a, b, y):
    return g * b * a ** (b - 1), g * y * np.log(a)


def exp_backward(g, y):
    return g * y


def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for i, n in enumerate(shape):
        if n == 1 and grad.shape[i] != 1:
            grad = grad.sum(axis=i, keepdims=True)
    return grad


def broadcast_mul_backward(g, a, b):
    return unbroadcast(g * b, a.shape), unbroadcast(g * a, b.shape)


def topological_order(output):
    post, seen = [], set()
    stack = [(output.grad_fn, False)]
    while stack:
        node, done = stack.pop()
        if done:
            post.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        if not node.is_leaf_node:
            for p in node.parents:
                if p is not None and p not in seen:
                    stack.append((p, False))
    return post[::-1]


def softmax_backward(g, y, dim):
    gy = g * y
    return gy - y * gy.sum(axis=dim, keepdims=True)


def cross_entropy_backward(g, logits, target, ignore_index=-100):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    valid = target != ignore_index
    rows = np.nonzero(valid)[0]
    p[rows, target[rows]] -= 1
    p[~valid] = 0
    return p / valid.sum() * g


def layer_norm_backward(g, xhat, rstd, w):
    h = g * w
    gx = rstd * (h - h.mean(-1, keepdims=True) - xhat * (h * xhat).mean(-1, keepdims=True))
    axes = tuple(range(g.ndim - 1))
    return gx, (g * xhat).sum(axis=axes), g.sum(axis=axes)


def scaled_dot_product_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(mask, -1e9)
    w = scores.softmax(dim=-1)
    return w @ v, w


def causal_mask(size):
    return tinytorch.ones(size, size, dtype=tinytorch.bool).triu(1)


def split_heads(x, num_heads):
    b, n, d = x.shape
    return x.reshape(b, n, num_heads, d // num_heads).transpose(1, 2)


def merge_heads(x):
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


def sinusoidal_table(max_len, d_model):
    pos = np.arange(max_len)[:, None]
    two_i = np.arange(0, d_model, 2)[None, :]
    angle = pos / 10000 ** (two_i / d_model)
    t = np.zeros((max_len, d_model))
    t[:, 0::2] = np.sin(angle)
    t[:, 1::2] = np.cos(angle[:, : d_model // 2])
    return t


def adam_step(param, grad, m, v, step, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    mh, vh = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * mh / (np.sqrt(vh) + eps), m, v


def merge_step(words):
    counts = {}
    for w, f in words.items():
        for p in zip(w, w[1:]):
            counts[p] = counts.get(p, 0) + f
    if not counts:
        return None, words
    best = min(counts, key=lambda p: (-counts[p], p))
    out = {}
    for w, f in words.items():
        new, i = [], 0
        while i < len(w):
            if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                new.append(w[i] + w[i + 1])
                i += 2
            else:
                new.append(w[i])
                i += 1
        out[tuple(new)] = out.get(tuple(new), 0) + f
    return best, out


def greedy_decode(next_logits, bos_id, eos_id, max_len):
    tokens = []
    for _ in range(max_len):
        t = int(np.argmax(next_logits([bos_id] + tokens)))
        if t == eos_id:
            break
        tokens.append(t)
    return tokens


def log_softmax(x):
    x = np.asarray(x, dtype=np.float64)
    s = x - x.max()
    return s - np.log(np.exp(s).sum())


def beam_search(next_logits, bos_id, eos_id, beam_size, max_len, length_penalty=1.0):
    live, finished = [([], 0.0)], []              # (tokens, sum of log p), (score, tokens)
    for s in range(1, max_len + 1):
        candidates = [(score + logp, tokens, tok) for tokens, score in live
                      for tok, logp in enumerate(log_softmax(next_logits([bos_id] + tokens)))]
        live = []
        for score, tokens, tok in sorted(candidates, key=lambda c: -c[0])[: 2 * beam_size]:
            if tok == eos_id:
                finished.append((score / s ** length_penalty, tokens))
                continue
            live.append((tokens + [tok], score))
            if len(live) == beam_size:
                break
        if len(finished) >= beam_size:
            kth_best = sorted((f for f, _ in finished), reverse=True)[beam_size - 1]
            if not live or max(sc for _, sc in live) / s ** length_penalty <= kth_best:
                return max(finished, key=lambda f: f[0])[1]
    finished += [(score / len(tokens) ** length_penalty, tokens) for tokens, score in live]
    return max(finished, key=lambda f: f[0])[1]
