"""The decoder-only (GPT-style) model: its loss and its generation.

- The loss is next-token cross-entropy: the fast path (packed blocks, fused head and
  loss) gives the plain path's number and gradients, with padding at the end of rows
  and label smoothing; right padding changes no real position's logits.
- Generation continues each prompt: the KV cache changes nothing (same tokens, logits
  to 1e-9), a batch of prompts of different lengths equals each prompt alone, beam
  search with one beam is greedy, and generation stops at eos and at the end of the
  positional table.
- GPT-2's settings (pre-LN, GELU tanh, learned positions, unscaled embeddings) build.
- An EncoderOnly (BERT) does not generate: one clear error.
"""

import numpy as np
import pytest

import tinytorch as tt
from transformer import DecoderOnly, EncoderOnly, TransformerConfig, generate
from transformer.generate import DecodingOptionError

PAD, BOS, EOS = 0, 1, 2
VOCAB = 9


def _config(**kw):
    base = dict(src_vocab_size=VOCAB, tgt_vocab_size=VOCAB, d_model=16, nhead=2,
                num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=32, dropout=0.0,
                max_len=24, pad_id=PAD, norm_first=True)
    return TransformerConfig(**{**base, **kw})


def _model(seed, scale=2.0, eos_bias=1.0, **kw):
    """A random model whose continuations depend on the prompt (see test_generate.py)."""
    tt.manual_seed(seed)
    model = DecoderOnly(_config(tie_embeddings=False, **kw))
    rng = np.random.default_rng(seed)
    with tt.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                continue
            fan_in = 1 if "embed" in name else p.shape[-1]
            p.array[...] = rng.standard_normal(p.shape) * scale / np.sqrt(fan_in)
        model.lm_head.bias.array[EOS] = eos_bias
    return model.double().eval()


def _prompts():
    """Four prompts of lengths 5, 3, 1 and 5, right-padded."""
    rng = np.random.default_rng(1)
    ids = rng.integers(3, VOCAB, size=(4, 5))
    ids[:, 0] = BOS
    ids[1, 3:] = PAD
    ids[2, 1:] = PAD
    return ids


# -- the loss ------------------------------------------------------------------------------------

@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("kw", [dict(norm_first=False), dict(
    norm_first=True, activation="gelu_tanh", positional="learned", scale_embeddings=False)])
def test_loss_and_gradients_equal_in_both_modes(tie, kw):
    tt.manual_seed(0)
    model = DecoderOnly(_config(tie_embeddings=tie, **kw)).double()
    rng = np.random.default_rng(0)
    ids = rng.integers(3, VOCAB, size=(3, 10))
    ids[:, 0] = BOS
    ids[1, 7] = EOS
    ids[1, 8:] = PAD
    ids[2, 4] = EOS
    ids[2, 5:] = PAD
    ids_in, ids_out = tt.tensor(ids[:, :-1]), tt.tensor(ids[:, 1:])
    results = []
    for fast in (True, False):
        with tt.fast_paths(fast):
            model.zero_grad()
            loss = model.loss(ids_in, ids_out, label_smoothing=0.1)
            loss.backward()
            results.append((loss.item(), {n: p.grad.numpy().copy()
                                          for n, p in model.named_parameters()}))
    (fast_loss, fast_grads), (plain_loss, plain_grads) = results
    assert fast_loss == pytest.approx(plain_loss, rel=1e-12)
    for name, g in plain_grads.items():
        np.testing.assert_allclose(fast_grads[name], g, rtol=1e-10, atol=1e-12, err_msg=name)


def test_plain_loss_is_cross_entropy_of_the_next_token():
    model = _model(0)
    ids = tt.tensor(_prompts())
    with tt.fast_paths(False), tt.no_grad():
        loss = model.loss(ids[:, :-1], ids[:, 1:]).item()
    with tt.no_grad():
        logits = model(ids[:, :-1]).numpy()
    target = ids[:, 1:].numpy()
    logp = logits - np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
        - logits.max(-1, keepdims=True)
    keep = target != PAD
    picked = np.take_along_axis(logp, target[..., None], axis=-1)[..., 0]
    assert loss == pytest.approx(-picked[keep].mean(), rel=1e-12)


def test_right_padding_changes_no_real_position():
    model = _model(3)
    ids = _prompts()
    with tt.no_grad():
        batch = model(tt.tensor(ids)).numpy()
        for row in range(len(ids)):
            n = int((ids[row] != PAD).sum())
            alone = model(tt.tensor(ids[row: row + 1, :n])).numpy()
            np.testing.assert_allclose(batch[row, :n], alone[0], rtol=0, atol=1e-12)


# -- generation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_cached_equals_uncached(seed):
    model, ids = _model(seed, eos_bias=0.0), tt.tensor(_prompts())
    a, la = generate(model, ids, BOS, EOS, max_len=12, use_cache=True, return_scores=True)
    b, lb = generate(model, ids, BOS, EOS, max_len=12, use_cache=False, return_scores=True)
    assert a == b
    assert any(len(t) > 2 for t in a) and any(len(t) < 12 for t in a)
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-9)


@pytest.mark.parametrize("num_beams", [1, 3])
def test_a_batch_of_prompts_equals_each_prompt_alone(num_beams):
    model, ids = _model(5), _prompts()
    together = generate(model, tt.tensor(ids), BOS, EOS, max_len=10, num_beams=num_beams)
    for row in range(len(ids)):
        n = int((ids[row] != PAD).sum())
        alone = generate(model, tt.tensor(ids[row: row + 1, :n]), BOS, EOS, max_len=10,
                         num_beams=num_beams)
        assert together[row] == alone[0]


def test_greedy_takes_the_argmax_of_the_model_and_stops_at_eos():
    model = _model(2, eos_bias=3.0)
    prompt = _prompts()[:1]
    out, logits = generate(model, tt.tensor(prompt), BOS, EOS, max_len=15, return_scores=True)
    seq = list(prompt[0])
    for i, tok in enumerate(out[0] + [EOS]):
        if i == logits[0].shape[0]:
            break
        with tt.no_grad():
            expected = model(tt.tensor(np.array([seq]))).numpy()[0, -1]
        expected[PAD] = -np.inf
        assert tok == int(np.argmax(expected))
        seq.append(tok)
    assert EOS not in out[0]
    assert len(out[0]) < 15  # eos came (eos_bias makes it likely)


def test_beam_of_one_is_greedy_and_sampling_is_seeded():
    model, ids = _model(4), tt.tensor(_prompts())
    assert generate(model, ids, BOS, EOS, max_len=8, num_beams=1) == \
        generate(model, ids, BOS, EOS, max_len=8)
    draws = [generate(model, ids, BOS, EOS, max_len=8, do_sample=True, temperature=0.8,
                      top_k=5, top_p=0.9, generator=tt.Generator().manual_seed(7))
             for _ in range(2)]
    assert draws[0] == draws[1]


def test_generation_stops_at_the_end_of_the_positional_table():
    model = _model(1, eos_bias=-50.0)  # never eos
    prompt = _prompts()[:1]            # 5 tokens; the table has 24 positions
    out = generate(model, tt.tensor(prompt), BOS, EOS, max_len=100)
    assert len(out[0]) == 24 - 5
    with pytest.raises(DecodingOptionError, match="each prompt needs 1 to 23 tokens"):
        generate(model, tt.tensor(np.full((1, 24), 3)), BOS, EOS)


def test_encoder_only_does_not_generate():
    model = EncoderOnly(_config())
    with pytest.raises(TypeError, match="EncoderOnly fills masked words"):
        generate(model, tt.tensor(_prompts()), BOS, EOS)


def test_gpt2_settings_build_a_gpt2_shaped_model():
    model = DecoderOnly(_config(activation="gelu_tanh", positional="learned",
                                scale_embeddings=False, tie_embeddings=True))
    names = set(dict(model.named_parameters()))
    assert {"embed.embedding.weight", "pos.embedding.weight", "blocks.norm.weight",
            "blocks.layers.0.self_attn.q_proj.weight",
            "blocks.layers.0.feed_forward.linear1.weight"} <= names
    assert model.lm_head.weight is model.embed.embedding.weight and model.lm_head.bias is None
    assert model.embed.scale == 1.0
    assert model.blocks.layers[0].feed_forward.activation.approximate == "tanh"
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu' or 'gelu_tanh'"):
        _config(activation="swish")
