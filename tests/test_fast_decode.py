"""The fast decode step (transformer/fast_decode.py) is the modules' cached step written on
raw arrays: generation with it gives the same tokens and logits as through the modules
(``tinytorch.fast_paths(False)``: the plain path), for both model kinds, post-LN and pre-LN,
each activation, padded sources and beam search's reordering; and it really runs (a step
counter), except where the modules are needed (attention weights recorded, gradients on)."""

from __future__ import annotations

import numpy as np
import pytest

import tinytorch as tt
from transformer import DecoderOnly, Transformer, TransformerConfig, fast_decode, generate

PAD, BOS, EOS = 0, 1, 2
VOCAB = 13


def _random(model, seed, scale=2.0):
    """Large random weights, so that every token depends on the input (as test_generate.py)."""
    rng = np.random.default_rng(seed)
    with tt.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias"):
                p.array[...] = 0.1 * rng.standard_normal(p.shape)
            elif "norm" not in name:
                fan_in = 1 if "embed" in name else p.shape[-1]
                p.array[...] = rng.standard_normal(p.shape) * scale / np.sqrt(fan_in)
    return model.double().eval()


def _config(**kw):
    base = dict(src_vocab_size=VOCAB, tgt_vocab_size=VOCAB, d_model=16, nhead=4,
                num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=24, dropout=0.0,
                max_len=20, pad_id=PAD)
    return TransformerConfig(**{**base, **kw})


SETTINGS = [dict(), dict(norm_first=True, activation="gelu"),
            dict(activation="gelu_tanh", tie_embeddings=False, final_norm=False),
            dict(positional="learned", scale_embeddings=False, norm_first=True)]


def _sources():
    rng = np.random.default_rng(3)
    src = rng.integers(3, VOCAB, size=(4, 6))
    src[1, 4:] = PAD  # padded rows: cross-attention must not read the padding
    src[3, 2:] = PAD
    return tt.tensor(src)


@pytest.fixture
def steps(monkeypatch):
    """How many steps ran on the fast path."""
    count = [0]
    real = fast_decode.step

    def counted(*args, **kwargs):
        count[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(fast_decode, "step", counted)
    return count


def _both(fn):
    """fn() with the fast paths (the fast step among them) and on the plain path."""
    fast = fn()
    with tt.fast_paths(False):
        plain = fn()
    return fast, plain


@pytest.mark.parametrize("settings", SETTINGS)
def test_translator_greedy_equals_the_modules(settings, steps):
    model = _random(Transformer(_config(**settings)), seed=0)
    src = _sources()
    (tokens, logits), (want_tokens, want_logits) = _both(
        lambda: generate(model, src, BOS, EOS, max_len=8, return_scores=True))
    assert tokens == want_tokens and steps[0] == 7  # every step after the first
    np.testing.assert_allclose(logits, want_logits, rtol=1e-10, atol=1e-10)
    assert np.abs(logits[0, :, 1:] - logits[1, :, 1:]).max() > 0.1  # rows differ (0: pad, banned)


@pytest.mark.parametrize("settings", SETTINGS[:2])
def test_translator_beam_search_equals_the_modules(settings, steps):
    model = _random(Transformer(_config(**settings)), seed=1)
    src = _sources()
    (tokens, scores), (want_tokens, want_scores) = _both(
        lambda: generate(model, src, BOS, EOS, max_len=8, num_beams=3, return_scores=True))
    assert tokens == want_tokens and steps[0] > 0
    np.testing.assert_allclose(scores, want_scores, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("settings", SETTINGS)
def test_decoder_only_greedy_and_beam_equal_the_modules(settings, steps):
    tt.manual_seed(0)
    model = _random(DecoderOnly(_config(**settings)), seed=2)
    prompts = [[BOS, 4, 5, 6], [BOS, 7], [BOS, 9, 3]]
    for beams in (1, 2):
        steps[0] = 0
        (tokens, scores), (want_tokens, want_scores) = _both(
            lambda: generate(model, prompts, BOS, EOS, max_len=6, num_beams=beams,
                             return_scores=True))
        assert tokens == want_tokens and steps[0] > 0
        np.testing.assert_allclose(scores, want_scores, rtol=1e-10, atol=1e-10)


def test_float32_matches_too(steps):
    model = _random(Transformer(_config()), seed=4).float()
    (tokens, logits), (want_tokens, want_logits) = _both(
        lambda: generate(model, _sources(), BOS, EOS, max_len=8, return_scores=True))
    assert tokens == want_tokens and steps[0] == 7
    np.testing.assert_allclose(logits, want_logits, rtol=1e-4, atol=1e-4)


def test_the_modules_run_where_they_are_needed(steps):
    model = _random(Transformer(_config()), seed=5)
    src = _sources()
    generate(model, src, BOS, EOS, max_len=6, use_cache=False)  # no cache: nothing to step
    assert steps[0] == 0
    model.decoder.layers[1].cross_attn.record_weights = True   # attention maps: the modules
    generate(model, src, BOS, EOS, max_len=6)
    assert steps[0] == 0 and model.decoder.layers[1].cross_attn.last_weights is not None
    model.decoder.layers[1].cross_attn.record_weights = False
    generate(model, src, BOS, EOS, max_len=6)
    assert steps[0] == 5
