"""Typical wrong answers to the exercises, each with the hint its grader must give.

``MISTAKES`` lists (exercise, {function name: wrong function}, hint): the other functions
of the exercise are the library's (exercises/solutions.py), so the wrong one is the only
thing the grader can object to. tests/test_exercises.py grades each one.
"""

from __future__ import annotations

import math

import numpy as np

import tinytorch as tt
from exercises import solutions
from exercises.checks import attention, autograd, losses, training
from exercises.grading import IGNORED_UPSTREAM, Text

#: The hint the shape check gives when a gradient keeps the broadcast shape.
SUM_BROADCAST = "Did you sum over the broadcast dimension?"


# -- 1. mul, pow, exp --------------------------------------------------------------------------

def mul_swapped(grad_output, a, b):
    return grad_output * a, grad_output * b


def pow_without_factor(grad_output, a, b, y):
    return grad_output * a ** (b - 1), grad_output * y * np.log(a)


def pow_power_rule_for_b(grad_output, a, b, y):
    return grad_output * b * a ** (b - 1), grad_output * b * a ** (b - 1)


def exp_without_upstream(grad_output, y):
    return y


# -- 2. broadcasting ---------------------------------------------------------------------------

def unbroadcast_unchanged(grad, shape):
    return grad


def unbroadcast_mean(grad, shape):
    summed = solutions.unbroadcast(grad, shape)
    return summed * (math.prod(shape) / grad.size)


def broadcast_mul_unsummed(grad_output, a, b):
    return grad_output * b, grad_output * a


# -- 3. topological order ----------------------------------------------------------------------

def preorder(output):
    """Depth-first, each node once, appended when first reached: wrong on diamonds."""
    order, seen, stack = [], set(), [output.grad_fn]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        if not node.is_leaf_node:
            stack.extend(p for p in node.parents if p is not None)
    return order


def without_leaves(output):
    return [n for n in solutions.topological_order(output) if not n.is_leaf_node]


def with_repeats(output):
    """Every path visited: a node reached twice appears twice."""
    order, stack = [], [output.grad_fn]
    while stack:
        node = stack.pop()
        order.append(node)
        if not node.is_leaf_node:
            stack.extend(p for p in node.parents if p is not None)
    return order


# -- 4-6. softmax, cross-entropy, layer norm ---------------------------------------------------

def softmax_without_subtraction(grad_output, y, dim):
    return grad_output * y


def softmax_diagonal(grad_output, y, dim):
    return grad_output * y * (1 - y)


def softmax_sum_everything(grad_output, y, dim):
    gy = grad_output * y
    return gy - y * gy.sum()


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _one_hot(target, classes):
    out = np.zeros((len(target), classes))
    rows = np.nonzero(target >= 0)[0]
    out[rows, target[rows]] = 1.0
    return out


def cross_entropy_over_all_rows(grad_output, logits, target, ignore_index=-100):
    valid = (target != ignore_index)[:, None]
    return (_softmax(logits) - _one_hot(target, logits.shape[1])) * valid / len(target) * \
        grad_output


def cross_entropy_sign(grad_output, logits, target, ignore_index=-100):
    valid = (target != ignore_index)[:, None]
    return (_one_hot(target, logits.shape[1]) - _softmax(logits)) * valid / valid.sum() * \
        grad_output


def cross_entropy_not_averaged(grad_output, logits, target, ignore_index=-100):
    valid = (target != ignore_index)[:, None]
    return (_softmax(logits) - _one_hot(target, logits.shape[1])) * valid * grad_output


def layer_norm_without_means(grad_output, xhat, rstd, weight):
    axes = tuple(range(grad_output.ndim - 1))
    return (rstd * grad_output * weight, (grad_output * xhat).sum(axis=axes),
            grad_output.sum(axis=axes))


def layer_norm_without_weight(grad_output, xhat, rstd, weight):
    g = grad_output
    axes = tuple(range(g.ndim - 1))
    gx = rstd * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    return gx, (g * xhat).sum(axis=axes), g.sum(axis=axes)


def layer_norm_unsummed_weight(grad_output, xhat, rstd, weight):
    gx, _, gb = solutions.layer_norm_backward(grad_output, xhat, rstd, weight)
    return gx, grad_output * xhat, gb


# -- 7-9. attention, heads, positions -------------------------------------------------------------

def _attention(q, k, v, mask, scale, blocked=None):
    scores = (q @ k.transpose(-2, -1)) * scale
    if blocked is not None:
        scores = scores.masked_fill(blocked, -1e9)
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


def attention_unscaled(q, k, v, mask=None):
    return _attention(q, k, v, mask, 1.0, mask)


def attention_mask_ignored(q, k, v, mask=None):
    return _attention(q, k, v, mask, 1 / math.sqrt(q.shape[-1]))


def attention_mask_inverted(q, k, v, mask=None):
    return _attention(q, k, v, mask, 1 / math.sqrt(q.shape[-1]),
                      None if mask is None else ~mask)


def attention_in_numpy(q, k, v, mask=None):
    out, weights = solutions.scaled_dot_product_attention(q, k, v, mask)
    return tt.tensor(out.detach().numpy()), weights


def causal_mask_past(size):
    return tt.ones(size, size, dtype=tt.bool).tril(-1)


def causal_mask_diagonal(size):
    return tt.ones(size, size, dtype=tt.bool).triu(0)


def split_plain_reshape(x, num_heads):
    b, n, d = x.shape
    return x.reshape(b, num_heads, n, d // num_heads)


def merge_plain_reshape(x):
    b, h, n, d = x.shape
    return x.reshape(b, n, h * d)


def table_swapped(max_len, d_model):
    return attention._table(max_len, d_model, lambda j: j - j % 2, cos_first=True)


def table_halves(max_len, d_model):
    return attention._table(max_len, d_model, None, halves=True)


def table_column_exponent(max_len, d_model):
    return attention._table(max_len, d_model, lambda j: j)


# -- 10-12. Adam, BPE, decoding -----------------------------------------------------------

def _moments(grad, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * grad, beta2 * v + (1 - beta2) * grad * grad


def adam_without_bias_correction(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9,
                                 beta2=0.999, eps=1e-8):
    m, v = _moments(grad, exp_avg, exp_avg_sq, beta1, beta2)
    return param - lr * m / (np.sqrt(v) + eps), m, v


def adam_eps_inside(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9, beta2=0.999,
                    eps=1e-8):
    m, v = _moments(grad, exp_avg, exp_avg_sq, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * m_hat / np.sqrt(v_hat + eps), m, v


def adam_abs_not_squared(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, beta1=0.9,
                         beta2=0.999, eps=1e-8):
    m = beta1 * exp_avg + (1 - beta1) * grad
    v = beta2 * exp_avg_sq + (1 - beta2) * np.abs(grad)
    m_hat, v_hat = m / (1 - beta1 ** step), v / (1 - beta2 ** step)
    return param - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _merge(words, pair, right_to_left=False):
    out = {}
    for word, freq in words.items():
        new = training._merge_right_to_left(word, pair) if right_to_left else tuple(
            solutions.merge_symbols(list(word), pair[0], pair[1], pair[0] + pair[1]))
        out[new] = out.get(new, 0) + freq
    return out


def bpe_unweighted(words):
    counts = training._counts(words, weighted=False)
    if not counts:
        return None, words
    pair = min(counts, key=lambda p: (-counts[p], p))
    return pair, _merge(words, pair)


def bpe_first_seen_tie(words):
    counts = training._counts(words)
    if not counts:
        return None, words
    pair = max(counts, key=counts.get)
    return pair, _merge(words, pair)


def bpe_right_to_left(words):
    pair, _ = solutions.merge_step(words)
    return (None, words) if pair is None else (pair, _merge(words, pair, right_to_left=True))


def greedy_keeps_eos(next_logits, bos_id, eos_id, max_len):
    tokens = []
    for _ in range(max_len):
        t = int(np.argmax(next_logits([bos_id, *tokens])))
        tokens.append(t)
        if t == eos_id:
            break
    return tokens


def beam_without_length_norm(next_logits, bos_id, eos_id, beam_size, max_len,
                             length_penalty=1.0):
    return solutions.beam_search(next_logits, bos_id, eos_id, beam_size, max_len, 0.0)


def beam_finished_live(next_logits, bos_id, eos_id, beam_size, max_len, length_penalty=1.0):
    return training._beam_eos_live(next_logits, beam_size, max_len, length_penalty)


MISTAKES = [
    (1, {"mul_backward": mul_swapped}, autograd.SWAPPED),
    (1, {"pow_backward": pow_without_factor}, autograd.POW_NO_FACTOR),
    (1, {"pow_backward": pow_power_rule_for_b}, autograd.POW_EXPONENT_RULE),
    (1, {"exp_backward": exp_without_upstream}, IGNORED_UPSTREAM),
    (2, {"unbroadcast": unbroadcast_unchanged}, SUM_BROADCAST),
    (2, {"unbroadcast": unbroadcast_mean}, autograd.MEAN_NOT_SUM),
    (2, {"broadcast_mul_backward": broadcast_mul_unsummed}, SUM_BROADCAST),
    (3, {"topological_order": preorder}, autograd.BEFORE_CONSUMER),
    (3, {"topological_order": without_leaves}, autograd.LEAVES_TOO),
    (3, {"topological_order": with_repeats}, autograd.VISIT_ONCE),
    (4, {"softmax_backward": softmax_without_subtraction}, losses.NO_SUBTRACTION),
    (4, {"softmax_backward": softmax_diagonal}, losses.DIAGONAL_ONLY),
    (4, {"softmax_backward": softmax_sum_everything}, losses.WRONG_AXIS),
    (5, {"cross_entropy_backward": cross_entropy_over_all_rows}, losses.COUNT_VALID),
    (5, {"cross_entropy_backward": cross_entropy_sign}, losses.SIGN),
    (5, {"cross_entropy_backward": cross_entropy_not_averaged}, losses.NOT_AVERAGED),
    (6, {"layer_norm_backward": layer_norm_without_means}, losses.NO_MEAN_TERMS),
    (6, {"layer_norm_backward": layer_norm_without_weight}, losses.NO_WEIGHT),
    (6, {"layer_norm_backward": layer_norm_unsummed_weight}, SUM_BROADCAST),
    (7, {"scaled_dot_product_attention": attention_unscaled}, attention.NO_SCALE),
    (7, {"scaled_dot_product_attention": attention_mask_ignored}, attention.MASK_IGNORED),
    (7, {"scaled_dot_product_attention": attention_mask_inverted}, attention.MASK_INVERTED),
    (7, {"scaled_dot_product_attention": attention_in_numpy}, attention.NOT_IN_GRAPH),
    (7, {"causal_mask": causal_mask_past}, attention.CAUSAL_PAST),
    (7, {"causal_mask": causal_mask_diagonal}, attention.CAUSAL_DIAGONAL),
    (8, {"split_heads": split_plain_reshape}, attention.PLAIN_RESHAPE),
    (8, {"merge_heads": merge_plain_reshape}, attention.MERGE_PLAIN_RESHAPE),
    (9, {"sinusoidal_table": table_swapped}, attention.SWAPPED_SIN_COS),
    (9, {"sinusoidal_table": table_halves}, attention.HALVES),
    (9, {"sinusoidal_table": table_column_exponent}, attention.COLUMN_EXPONENT),
    (10, {"adam_step": adam_without_bias_correction}, training.NO_BIAS_CORRECTION),
    (10, {"adam_step": adam_eps_inside}, training.EPS_INSIDE),
    (10, {"adam_step": adam_abs_not_squared}, training.V_NOT_SQUARED),
    (11, {"merge_step": bpe_unweighted}, training.UNWEIGHTED),
    (11, {"merge_step": bpe_first_seen_tie}, training.TIES),
    (11, {"merge_step": bpe_right_to_left}, training.RIGHT_TO_LEFT),
    (12, {"greedy_decode": greedy_keeps_eos}, training.GREEDY_KEEPS_EOS),
    (12, {"beam_search": beam_without_length_norm}, training.NO_LENGTH_NORM),
    (12, {"beam_search": beam_finished_live}, training.FINISHED_LIVE),
]


def hint_matches(hint: Text | None, expected) -> bool:
    """The grader's hint is ``expected`` (a Text) or contains it (a string)."""
    if hint is None:
        return False
    return (expected.en if isinstance(expected, Text) else expected) in hint.en
