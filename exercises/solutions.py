"""The library's own answers, in the exercises' signatures.

Each function below calls the code of tinytorch or transformer that does the exercise's
job (the Function's ``backward``, the engine's ``sum_to``, ``MultiHeadAttention.split_heads``,
``_adam_math``...), with the exercise's arguments. The graders compare a student's
answer with these, and the tests plug them in as answers: every exercise must pass with
the library's solution.

``solution_functions(n)`` gives exercise n's functions by name.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from tinytorch.autograd import engine
from tinytorch.ops.arithmetic import Mul, Pow
from tinytorch.ops.dims import normalize_dim
from tinytorch.ops.loss import CrossEntropy
from tinytorch.ops.normalization import LayerNorm
from tinytorch.ops.softmax import Softmax
from tinytorch.ops.unary import Exp
from tinytorch.optim.adam import _adam_math
from transformer import attention, positional
from transformer.generate import _beam_search, _greedy_or_sample
from transformer.multi_head_attention import MultiHeadAttention
from transformer.tokenizer_train import merge_symbols

#: Any non-None value marks an input as needing its gradient (Function.needs_grad).
_WANTED = (True, True, True)


def _node(cls, *saved, parents=_WANTED):
    """An op's node with what its forward would have saved, ready for ``backward``."""
    node = cls()
    node.saved = saved
    node.parents = parents
    return node


# -- 1. mul, pow, exp -----------------------------------------------------------------------

def mul_backward(grad_output, a, b):
    return _node(Mul, a, b).backward(grad_output)


def pow_backward(grad_output, a, b, y):
    return _node(Pow, a, b, y).backward(grad_output)


def exp_backward(grad_output, y):
    return _node(Exp, y).backward(grad_output)


# -- 2. broadcasting ---------------------------------------------------------------------------

#: The engine's own (the grader of exercise 2 puts the student's in its place for a while).
_sum_to = engine.sum_to


def unbroadcast(grad, shape):
    return _sum_to(grad, shape)


def broadcast_mul_backward(grad_output, a, b):
    ga, gb = mul_backward(grad_output, a, b)  # in the broadcast shape, as Mul returns them
    return _sum_to(ga, a.shape), _sum_to(gb, b.shape)


# -- 3. topological order ------------------------------------------------------------------------

def topological_order(output):
    """The order in which engine.backward runs the nodes: it counts each node's consumers
    (``_count_consumers``) and runs a node once all of them have run."""
    root = output if output.grad_fn is None else output.grad_fn
    counts = engine._count_consumers(root)
    order, ready = [], [root]
    while ready:
        node = ready.pop()
        order.append(node)
        if node.is_leaf_node:
            continue
        for parent in node.parents:
            if parent is None:
                continue
            counts[parent] -= 1
            if counts[parent] == 0:
                ready.append(parent)
    return order


# -- 4-6. softmax, cross-entropy, layer norm -----------------------------------------------------

def softmax_backward(grad_output, y, dim):
    node = _node(Softmax, y)
    node.axis = normalize_dim(dim, y.ndim, "softmax")
    return node.backward(grad_output)


def cross_entropy_backward(grad_output, logits, target, ignore_index=-100):
    node = CrossEntropy()
    node.forward(logits, target, ignore_index=ignore_index)
    grad, _ = node.backward(np.asarray(grad_output, dtype=logits.dtype))
    return grad


def layer_norm_backward(grad_output, xhat, rstd, weight):
    n = xhat.shape[-1]
    node = _node(LayerNorm, xhat.reshape(-1, n), rstd.reshape(-1, 1), weight)
    node.n = n
    return node.backward(grad_output)


# -- 7-9. attention, heads, positions ------------------------------------------------------------

def scaled_dot_product_attention(q, k, v, mask=None):
    return attention.attention_composed(q, k, v, attn_mask=mask)


def causal_mask(size):
    return attention.causal_mask(size)


def split_heads(x, num_heads):
    head_dim = x.shape[-1] // num_heads
    return MultiHeadAttention.split_heads(SimpleNamespace(num_heads=num_heads,
                                                          head_dim=head_dim), x)


def merge_heads(x):
    return MultiHeadAttention.merge_heads(SimpleNamespace(embed_dim=x.shape[1] * x.shape[3]), x)


def sinusoidal_table(max_len, d_model):
    return positional.sinusoidal_table(max_len, d_model)


# -- 10-12. Adam, BPE, decoding -----------------------------------------------------------------

def adam_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999,
              eps=1e-8):
    w, m, v = param.copy(), exp_avg.copy(), exp_avg_sq.copy()
    _adam_math(w, grad, m, v, None, None, beta1, beta2, eps, lr / (1 - beta1 ** step),
               math.sqrt(1 - beta2 ** step))
    return w, m, v


def merge_step(words):
    """One step of BPETokenizer.train: the most frequent adjacent pair (counted over the
    words, each weighted by its count; ties to the smallest (left, right)), merged with
    the tokenizer's ``merge_symbols`` in every word."""
    counts = {}
    for word, freq in words.items():
        for pair in zip(word, word[1:]):
            counts[pair] = counts.get(pair, 0) + freq
    if not counts:
        return None, dict(words)
    best = min(counts, key=lambda pair: (-counts[pair], pair))
    merged = {}
    for word, freq in words.items():
        new = tuple(merge_symbols(list(word), best[0], best[1], best[0] + best[1]))
        merged[new] = merged.get(new, 0) + freq
    return best, merged


class _Rows:
    """generate.py's decoders ask a model for the next-token logits of a batch of
    prefixes; this asks the exercise's ``next_logits`` for each row."""

    def __init__(self, next_logits):
        self.next_logits = next_logits

    def __call__(self, prefix):
        """prefix (rows, t) NumPy int64 -> logits (rows, vocab), as generate.py's steppers."""
        rows = np.asarray(prefix)
        return np.stack([np.asarray(self.next_logits([int(t) for t in row]), dtype=np.float64)
                         for row in rows])

    def reorder(self, index):
        """Nothing to reorder: ``next_logits`` reads the whole prefix every time."""


def greedy_decode(next_logits, bos_id, eos_id, max_len):
    out = _greedy_or_sample(_Rows(next_logits), np.array([[bos_id]]), eos_id, max_len, False,
                            1.0, None, None, False, None)
    return out[0]


def beam_search(next_logits, bos_id, eos_id, beam_size, max_len, length_penalty=1.0):
    out = _beam_search(_Rows(next_logits), np.array([[bos_id]]), eos_id, max_len, beam_size,
                       length_penalty, False)
    return out[0]


_BY_EXERCISE = {
    1: (mul_backward, pow_backward, exp_backward),
    2: (unbroadcast, broadcast_mul_backward),
    3: (topological_order,),
    4: (softmax_backward,),
    5: (cross_entropy_backward,),
    6: (layer_norm_backward,),
    7: (scaled_dot_product_attention, causal_mask),
    8: (split_heads, merge_heads),
    9: (sinusoidal_table,),
    10: (adam_step,),
    11: (merge_step,),
    12: (greedy_decode, beam_search),
}


def solution_functions(number: int) -> dict:
    """{name: function} of exercise ``number``, answered with the library's code."""
    return {fn.__name__: fn for fn in _BY_EXERCISE[number]}

