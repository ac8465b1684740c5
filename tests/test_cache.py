"""The KV cache's preallocated buffers (transformer/cache.py): each step writes its keys
and values into the same buffers (no per-step reallocation or concatenation), past the
capacity they grow and keep what they held, beam search's reorder gathers rows, and
with gradients on the cache concatenates (differentiable). That cached decoding gives the
uncached tokens and logits is tests/test_generate.py's, test_decoder_only.py's and
test_gpt2.py's."""

from __future__ import annotations

import numpy as np

import tinytorch as tt
from transformer.cache import AttentionCache, KVCache
from transformer.generate import _LanguageModelStepper, _top_candidates
from transformer.model import DecoderOnly, TransformerConfig


def _kv(rng, batch=2, heads=3, new=1, head_dim=4):
    return (tt.tensor(rng.standard_normal((batch, heads, new, head_dim)).astype(np.float32)),
            tt.tensor(rng.standard_normal((batch, heads, new, head_dim)).astype(np.float32)))


def _appended(steps):
    """What concatenation would hold: each step's keys (values) joined on the length axis."""
    return (np.concatenate([k.numpy() for k, _ in steps], axis=2),
            np.concatenate([v.numpy() for _, v in steps], axis=2))


def test_steps_write_into_one_buffer():
    rng = np.random.default_rng(0)
    cache = AttentionCache(capacity=8)
    steps = [_kv(rng, new=3)] + [_kv(rng) for _ in range(5)]
    buffers = set()
    with tt.no_grad():
        for i, (k, v) in enumerate(steps):
            got_k, got_v = cache.append(k, v)
            buffers.add((id(cache.k_buffer), id(cache.v_buffer)))
            want_k, want_v = _appended(steps[:i + 1])
            np.testing.assert_array_equal(got_k.numpy(), want_k)
            np.testing.assert_array_equal(got_v.numpy(), want_v)
            assert np.shares_memory(got_k.numpy(), cache.k_buffer)  # a view, not a copy
    assert len(buffers) == 1 and cache.k_buffer.shape == (2, 3, 8, 4) and len(cache) == 8


def test_growth_past_the_capacity_keeps_the_positions():
    rng = np.random.default_rng(1)
    cache = AttentionCache(capacity=2)
    steps = [_kv(rng) for _ in range(7)]
    sizes = []
    with tt.no_grad():
        for k, v in steps:
            cache.append(k, v)
            sizes.append(cache.k_buffer.shape[2])
    assert sizes == [2, 2, 4, 4, 8, 8, 8]  # doubled when full: O(1) copying per position
    want_k, want_v = _appended(steps)
    np.testing.assert_array_equal(cache.k.numpy(), want_k)
    np.testing.assert_array_equal(cache.v.numpy(), want_v)


def test_reorder_gathers_the_kept_rows():
    rng = np.random.default_rng(2)
    cache = AttentionCache(capacity=6)
    steps = [_kv(rng, batch=3) for _ in range(3)]
    with tt.no_grad():
        for k, v in steps:
            cache.append(k, v)
        rows = np.array([2, 0, 0])  # a beam kept twice, one dropped
        cache.reorder(tt.tensor(rows))
        k, v = _kv(rng, batch=3)
        cache.append(k, v)
    want_k, want_v = _appended(steps)
    np.testing.assert_array_equal(cache.k.numpy()[:, :, :3], want_k[rows])
    np.testing.assert_array_equal(cache.v.numpy()[:, :, :3], want_v[rows])
    np.testing.assert_array_equal(cache.k.numpy()[:, :, 3:], k.numpy())


def test_under_grad_the_cache_concatenates_and_gradients_flow():
    rng = np.random.default_rng(3)
    cache = AttentionCache(capacity=4)
    k1, v1 = _kv(rng)
    k2, v2 = _kv(rng)
    k1.requires_grad_(True)
    cache.append(k1, v1)
    k, _ = cache.append(k2, v2)
    assert cache.k_buffer is None
    k.sum().backward()
    np.testing.assert_array_equal(k1.grad.numpy(), np.ones(k1.shape))


def test_static_cache_keeps_the_first_step():
    rng = np.random.default_rng(4)
    cache = AttentionCache(static=True)
    k, v = _kv(rng, new=5)
    with tt.no_grad():
        cache.append(k, v)
    assert cache.filled and cache.k is k and cache.k_buffer is None


def test_a_decode_preallocates_prompt_plus_new_tokens():
    cfg = TransformerConfig(src_vocab_size=11, tgt_vocab_size=11, d_model=8, nhead=2,
                            num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16,
                            dropout=0.0, max_len=32, pad_id=0)
    tt.manual_seed(0)
    model = DecoderOnly(cfg).eval()
    step = _LanguageModelStepper(model, use_cache=True, capacity=3 + 5)
    tokens = np.array([[1, 4, 5], [1, 6, 7]])
    ids = set()
    with tt.no_grad():
        for _ in range(5):
            nxt = step(tokens).argmax(axis=-1)
            tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
            ids.add(tuple(id(layer.self_attn.k_buffer) for layer in step.cache.layers))
    assert len(ids) == 1
    assert step.cache.layers[0].self_attn.k_buffer.shape == (2, 2, 8, 4)
    assert isinstance(step.cache, KVCache) and step.cache.length == 7



def test_beam_candidates_are_the_stable_sorts_first():
    """generate._top_candidates (a partition) picks what a stable argsort of the whole row
    would, ties included, less the -inf entries the beam search skips."""
    rng = np.random.default_rng(5)
    cand = rng.integers(0, 4, size=(50, 40)).astype(np.float64)  # many ties
    cand[rng.random(cand.shape) < 0.3] = -np.inf
    cand[0] = -np.inf                                            # a closed row
    cand[1, 3:] = -np.inf                                        # fewer finite than n
    for n in (1, 4, 8, 40):
        got = _top_candidates(cand, n)
        want = np.argsort(-cand, axis=-1, kind="stable")[:, :n]
        for row, g, w in zip(cand, got, want):
            np.testing.assert_array_equal(g, w[np.isfinite(row[w])])
