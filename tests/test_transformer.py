"""The transformer's blocks and models: gradients, PyTorch parity, and the model-level
properties that make a seq2seq model correct (causality, padding, tied weights).

- Every block (MultiHeadAttention, LayerNorm, FeedForward, EncoderLayer, DecoderLayer,
  post-LN and pre-LN) passes a float64 gradcheck w.r.t. its inputs, and its parameter
  gradients match central differences on random elements of every parameter.
- Loading ``torch.nn.Transformer`` / ``TransformerEncoderLayer`` / ``DecoderLayer``
  weights (transformer.torch_compat) gives the same outputs (float32, 1e-5) and the same
  parameter gradients (float64, rtol 1e-6).
- The whole ``Transformer``: every parameter gets a gradient; future target tokens do not
  change earlier logits; padded source positions do not change anything.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch as tt
from tinytorch import nn
from tinytorch.autograd import gradcheck
from transformer import (
    Decoder,
    DecoderLayer,
    DecoderOnly,
    Encoder,
    EncoderLayer,
    EncoderOnly,
    MultiHeadAttention,
    Transformer,
    TransformerConfig,
    causal_mask,
    shift_right,
)
from transformer.feedforward import FeedForward
from transformer.layout import AttentionMask, Layout
from transformer.torch_compat import convert_state_dict, torch_state_to_numpy


def _t(a, requires_grad=True):
    return tt.tensor(np.asarray(a, dtype=np.float64), dtype=tt.float64,
                     requires_grad=requires_grad)


def _randomize(module, rng, scale=0.5):
    """Random values in every parameter (LayerNorm's 1s and 0s would hide bugs)."""
    with tt.no_grad():
        for p in module.parameters():
            p.array[...] = rng.standard_normal(p.shape) * scale
    return module


def _param_fd_check(module, fn, inputs, rng, per_param=2, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Parameter gradients of <g, fn(*inputs)> vs central differences, on ``per_param``
    random elements of every parameter (gradcheck itself only perturbs ``inputs``)."""
    out = fn(*inputs)
    g = rng.standard_normal(out.shape)
    module.zero_grad()
    (out * tt.tensor(g)).sum().backward()
    checked = 0
    for name, p in module.named_parameters():
        assert p.grad is not None, f"{name} got no gradient"
        analytic = p.grad.numpy()
        for flat in rng.choice(p.numel(), size=min(per_param, p.numel()), replace=False):
            idx = np.unravel_index(flat, p.shape)
            orig = p.array[idx]
            vals = []
            for delta in (eps, -eps):
                p.array[idx] = orig + delta
                with tt.no_grad():
                    vals.append(float((fn(*inputs).numpy() * g).sum()))
            p.array[idx] = orig
            numeric = (vals[0] - vals[1]) / (2 * eps)
            assert abs(analytic[idx] - numeric) <= atol + rtol * abs(numeric), \
                f"{name}{tuple(int(i) for i in idx)}: analytic {analytic[idx]}, numeric {numeric}"
            checked += 1
    assert checked > 0


@st.composite
def block_case(draw):
    d = draw(st.sampled_from([4, 6, 8]))
    b, t, s = draw(st.integers(1, 2)), draw(st.integers(2, 3)), draw(st.integers(2, 3))
    return d, b, t, s, np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


def _pad(rng, b, s):
    """A random key padding mask that keeps key 0 of every sentence."""
    pad = rng.random((b, s)) < 0.4
    pad[:, 0] = False
    return tt.tensor(pad)


# -- blocks: gradcheck w.r.t. inputs and parameters ----------------------------------------------

@pytest.mark.parametrize("mode", ["self", "causal", "cross"])
@given(case=block_case())
def test_multi_head_attention_gradients(mode, case):
    d, b, t, s, rng = case
    mha = _randomize(MultiHeadAttention(d, 2).double(), rng)
    if mode == "cross":
        pad = _pad(rng, b, s)
        inputs = (_t(rng.standard_normal((b, t, d))), _t(rng.standard_normal((b, s, d))))

        def fn(x, mem):
            return mha(x, mem, mem, AttentionMask(keys=Layout(pad)))
    else:
        inputs = (_t(rng.standard_normal((b, t, d))),)

        def fn(x):
            return mha(x, x, x, AttentionMask(causal=mode == "causal"))

    assert gradcheck(fn, inputs)
    _param_fd_check(mha, fn, inputs, rng)


@given(case=block_case())
def test_layer_norm_gradients(case):
    d, b, t, _, rng = case
    ln = _randomize(nn.LayerNorm(d).double(), rng)
    inputs = (_t(rng.standard_normal((b, t, d)) * 3 + 1),)
    assert gradcheck(ln, inputs)
    _param_fd_check(ln, ln, inputs, rng, per_param=3)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@given(case=block_case())
def test_feed_forward_gradients(activation, case):
    d, b, t, _, rng = case
    ff = _randomize(FeedForward(d, 2 * d, dropout=0.0, activation=activation).double(), rng)
    inputs = (_t(rng.standard_normal((b, t, d))),)
    assert gradcheck(ff, inputs)
    _param_fd_check(ff, ff, inputs, rng, per_param=3)


@pytest.mark.parametrize("norm_first", [False, True])
@given(case=block_case())
def test_encoder_layer_gradients(norm_first, case):
    d, b, t, _, rng = case
    layer = _randomize(EncoderLayer(d, 2, 2 * d, dropout=0.0, norm_first=norm_first).double(), rng)
    pad = _pad(rng, b, t)
    causal = bool(rng.integers(2))

    def fn(x):
        return layer(x, AttentionMask(Layout(pad), causal=causal))

    inputs = (_t(rng.standard_normal((b, t, d))),)
    assert gradcheck(fn, inputs)
    _param_fd_check(layer, fn, inputs, rng)


@pytest.mark.parametrize("norm_first", [False, True])
@given(case=block_case())
def test_decoder_layer_gradients(norm_first, case):
    d, b, t, s, rng = case
    layer = _randomize(DecoderLayer(d, 2, 2 * d, dropout=0.0, norm_first=norm_first).double(), rng)
    self_mask = AttentionMask(attn_mask=causal_mask(t))
    cross_mask = AttentionMask(keys=Layout(_pad(rng, b, s)))

    def fn(y, memory):
        return layer(y, memory, self_mask, cross_mask)

    inputs = (_t(rng.standard_normal((b, t, d))), _t(rng.standard_normal((b, s, d))))
    assert gradcheck(fn, inputs)
    _param_fd_check(layer, fn, inputs, rng)


# -- PyTorch parity ------------------------------------------------------------------------------

D, H, FF = 16, 4, 32


def _torch_transformer(torch, norm_first, seed=0):
    torch.manual_seed(seed)
    model = torch.nn.Transformer(d_model=D, nhead=H, num_encoder_layers=2, num_decoder_layers=2,
                                 dim_feedforward=FF, dropout=0.0, batch_first=True,
                                 norm_first=norm_first)
    with torch.no_grad():  # random everything, biases and LayerNorm affine included
        for p in model.parameters():
            p.normal_(0.0, 0.3)
    return model


def _our_stacks(torch_model, norm_first):
    state = convert_state_dict(torch_state_to_numpy(torch_model))
    enc = Encoder([EncoderLayer(D, H, FF, 0.0, norm_first=norm_first) for _ in range(2)],
                  nn.LayerNorm(D))
    dec = Decoder([DecoderLayer(D, H, FF, 0.0, norm_first=norm_first) for _ in range(2)],
                  nn.LayerNorm(D))
    for prefix, stack in (("encoder.", enc), ("decoder.", dec)):
        stack.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                               if k.startswith(prefix)}, strict=True)
    return enc, dec


def _batch(seed, b=3, s=6, t=5):
    rng = np.random.default_rng(seed)
    src = rng.standard_normal((b, s, D))
    tgt = rng.standard_normal((b, t, D))
    src_pad = np.zeros((b, s), dtype=bool)
    tgt_pad = np.zeros((b, t), dtype=bool)
    src_pad[1, 4:] = True
    src_pad[2, 2:] = True
    tgt_pad[0, 3:] = True
    tgt_pad[2, 4:] = True
    return rng, src, tgt, src_pad, tgt_pad, np.triu(np.ones((t, t), dtype=bool), 1)


def _masks(src_pad, tgt_pad, causal):
    """nn.Transformer's masks as our three AttentionMasks: encoder, decoder, cross."""
    src, tgt = Layout(tt.tensor(src_pad)), Layout(tt.tensor(tgt_pad))
    return (AttentionMask(src), AttentionMask(tgt, attn_mask=tt.tensor(causal)),
            AttentionMask(tgt, keys=src))


def _run_ours(enc, dec, src, tgt, src_pad, tgt_pad, causal, dtype):
    s_t, t_t = tt.tensor(src.astype(dtype)), tt.tensor(tgt.astype(dtype))
    enc_mask, self_mask, cross_mask = _masks(src_pad, tgt_pad, causal)
    return dec(t_t, enc(s_t, enc_mask), self_mask, cross_mask)


def _run_torch(torch, model, src, tgt, src_pad, tgt_pad, causal, dtype):
    f = torch.from_numpy
    return model(f(src.astype(dtype)), f(tgt.astype(dtype)), tgt_mask=f(causal),
                 src_key_padding_mask=f(src_pad), tgt_key_padding_mask=f(tgt_pad),
                 memory_key_padding_mask=f(src_pad))


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("norm_first", [False, True])
def test_matches_torch_transformer_float32(norm_first):
    torch = pytest.importorskip("torch")
    model = _torch_transformer(torch, norm_first)
    enc, dec = _our_stacks(model, norm_first)
    for seed in range(3):
        _, src, tgt, src_pad, tgt_pad, causal = _batch(seed)
        ours = _run_ours(enc, dec, src, tgt, src_pad, tgt_pad, causal, np.float32)
        with torch.no_grad():
            ref = _run_torch(torch, model.eval(), src, tgt, src_pad, tgt_pad, causal, np.float32)
        assert ours.dtype == tt.float32
        diff = np.abs(ours.detach().numpy() - ref.numpy())[~tgt_pad]
        assert diff.max() <= 1e-5, diff.max()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("norm_first", [False, True])
def test_matches_torch_transformer_gradients_float64(norm_first):
    torch = pytest.importorskip("torch")
    model = _torch_transformer(torch, norm_first).double().train()  # dropout=0: no fast path
    enc, dec = _our_stacks(model, norm_first)
    enc.double(), dec.double()
    rng, src, tgt, src_pad, tgt_pad, causal = _batch(7)
    weight = rng.standard_normal(tgt.shape) * (~tgt_pad)[..., None]  # non-padded positions

    ours = _run_ours(enc, dec, src, tgt, src_pad, tgt_pad, causal, np.float64)
    (ours * tt.tensor(weight)).sum().backward()
    ref = _run_torch(torch, model, src, tgt, src_pad, tgt_pad, causal, np.float64)
    (ref * torch.from_numpy(weight)).sum().backward()

    np.testing.assert_allclose(ours.detach().numpy()[~tgt_pad], ref.detach().numpy()[~tgt_pad],
                               rtol=1e-10, atol=1e-10)
    ref_grads = convert_state_dict({n: p.grad.numpy() for n, p in model.named_parameters()})
    ours_grads = {f"{prefix}.{n}": p.grad.numpy()
                  for prefix, stack in (("encoder", enc), ("decoder", dec))
                  for n, p in stack.named_parameters()}
    assert ours_grads.keys() == ref_grads.keys()
    for name, g in ours_grads.items():
        assert np.abs(g).max() > 0, name
        np.testing.assert_allclose(g, ref_grads[name], rtol=1e-6, atol=1e-10, err_msg=name)


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_matches_torch_single_layers(norm_first, activation):
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    kw = {"d_model": D, "nhead": H, "dim_feedforward": FF, "dropout": 0.0, "activation": activation,
              "batch_first": True, "norm_first": norm_first, "dtype": torch.float64}
    t_enc, t_dec = torch.nn.TransformerEncoderLayer(**kw), torch.nn.TransformerDecoderLayer(**kw)
    with torch.no_grad():
        for p in list(t_enc.parameters()) + list(t_dec.parameters()):
            p.normal_(0.0, 0.3)
    enc = EncoderLayer(D, H, FF, 0.0, activation, norm_first).double()
    dec = DecoderLayer(D, H, FF, 0.0, activation, norm_first).double()
    enc.load_state_dict(convert_state_dict(torch_state_to_numpy(t_enc)), strict=True)
    dec.load_state_dict(convert_state_dict(torch_state_to_numpy(t_dec)), strict=True)
    _, src, tgt, src_pad, tgt_pad, causal = _batch(3)
    f = torch.from_numpy
    enc_mask, self_mask, cross_mask = _masks(src_pad, tgt_pad, causal)
    ours_e = enc(_t(src), enc_mask)
    ref_e = t_enc(f(src), src_key_padding_mask=f(src_pad))
    np.testing.assert_allclose(ours_e.detach().numpy()[~src_pad],
                               ref_e.detach().numpy()[~src_pad], rtol=1e-9, atol=1e-10)
    ours_d = dec(_t(tgt), ours_e, self_mask, cross_mask)
    ref_d = t_dec(f(tgt), ref_e, tgt_mask=f(causal), tgt_key_padding_mask=f(tgt_pad),
                  memory_key_padding_mask=f(src_pad))
    np.testing.assert_allclose(ours_d.detach().numpy()[~tgt_pad],
                               ref_d.detach().numpy()[~tgt_pad], rtol=1e-9, atol=1e-10)


# -- the whole model ------------------------------------------------------------------------------

PAD, BOS, EOS, V = 0, 1, 2, 11


def _config(**kw):
    base = {"src_vocab_size": V, "tgt_vocab_size": V, "d_model": 16, "nhead": 2, "num_encoder_layers": 2,
                "num_decoder_layers": 2, "dim_feedforward": 32, "dropout": 0.0, "max_len": 12, "pad_id": PAD}
    base.update(kw)
    return TransformerConfig(**base)


def _ids(rng, b, n, pad_from=None):
    ids = rng.integers(3, V, size=(b, n))
    for i, start in enumerate(pad_from or []):
        ids[i, start:] = PAD
    return tt.tensor(ids)


@pytest.mark.parametrize("kw", [{}, {"tie_embeddings": False, "src_vocab_size": 9},
                                {"positional": "learned", "norm_first": True}])
def test_every_parameter_gets_a_finite_nonzero_gradient(kw):
    rng = np.random.default_rng(0)
    model = Transformer(_config(**kw))
    if kw.get("tie_embeddings", True):
        assert model.generator.weight is model.src_embed.embedding.weight
        assert model.tgt_embed is model.src_embed
    src = tt.tensor(rng.integers(3, model.config.src_vocab_size, size=(3, 7)))
    src[1, 5:] = PAD
    tgt = _ids(rng, 3, 6, pad_from=[None, 4, 2])
    loss = model.loss(src, shift_right(tgt, BOS), tgt)
    loss.backward()
    names = [n for n, _ in model.named_parameters()]
    assert len(names) == len({id(p) for p in model.parameters()})
    for name, p in model.named_parameters():
        g = p.grad
        assert g is not None, name
        assert np.isfinite(g.numpy()).all() and np.abs(g.numpy()).max() > 0, name


def test_model_parameter_gradients_match_finite_differences():
    """float64, tied embeddings: the shared matrix sums gradients from three uses."""
    rng = np.random.default_rng(1)
    model = _randomize(Transformer(_config(d_model=8, dim_feedforward=16)), rng, 0.3).double()
    src = _ids(rng, 2, 5, pad_from=[None, 3])
    tgt = _ids(rng, 2, 4, pad_from=[3, None])
    tgt_in = shift_right(tgt, BOS)
    _param_fd_check(model, lambda: model(src, tgt_in), (), rng, per_param=2)


@pytest.mark.parametrize("tie, norm_first, odd", [(True, False, False), (False, False, False),
                                                  (True, True, False), (True, False, True)])
def test_loss_is_cross_entropy_of_the_logits(tie, norm_first, odd):
    """model.loss packs padding away (transformer/packing.py) and runs the generator and the
    loss fused (F.linear_cross_entropy); it must give the same loss and parameter gradients
    as cross_entropy(model(src, tgt_in)). ``odd``: a position that is padding in tgt_in
    but a real target in tgt_out (not what shift_right makes, but still the same loss)."""
    rng = np.random.default_rng(3)
    kw = {"norm_first": norm_first} if tie else {"tie_embeddings": False}
    model = _randomize(Transformer(_config(**kw)), rng, 0.3).double()
    src = _ids(rng, 3, 5, pad_from=[None, 3, 2])
    tgt = _ids(rng, 3, 4, pad_from=[3, None, 1])
    tgt_in = shift_right(tgt, BOS)
    if odd:
        tgt_in[0, 2] = PAD
    grads = []
    for fused in (True, False):
        model.zero_grad()
        if fused:
            loss = model.loss(src, tgt_in, tgt, label_smoothing=0.1)
        else:
            logits = model(src, tgt_in)
            loss = tt.nn.functional.cross_entropy(logits.reshape(-1, V), tgt.reshape(-1),
                                                  ignore_index=PAD, label_smoothing=0.1)
        loss.backward()
        grads.append((loss.item(), {n: p.grad.numpy().copy() for n, p in model.named_parameters()}))
    (fused_loss, fused_grads), (loss, ref_grads) = grads
    assert fused_loss == pytest.approx(loss, rel=1e-12)
    for name, g in ref_grads.items():
        np.testing.assert_allclose(fused_grads[name], g, rtol=1e-9, atol=1e-12, err_msg=name)


def test_causality_future_targets_do_not_change_earlier_logits():
    rng = np.random.default_rng(2)
    model = _randomize(Transformer(_config()), rng, 0.3).double().eval()
    src = _ids(rng, 2, 6, pad_from=[None, 4])
    tgt = _ids(rng, 2, 7).numpy()
    base = model(src, tt.tensor(tgt)).detach().numpy()
    for i in range(tgt.shape[1] - 1):
        changed = tgt.copy()
        changed[:, i + 1:] = rng.integers(3, V, size=changed[:, i + 1:].shape)
        out = model(src, tt.tensor(changed)).detach().numpy()
        np.testing.assert_allclose(out[:, : i + 1], base[:, : i + 1], rtol=1e-12, atol=1e-12)
        assert not np.allclose(out[:, i + 1:], base[:, i + 1:])  # the future did change


def test_padded_source_positions_change_nothing():
    rng = np.random.default_rng(3)
    model = _randomize(Transformer(_config()), rng, 0.3).double().eval()
    src = _ids(rng, 2, 6, pad_from=[4, None])
    tgt_in = _ids(rng, 2, 5)
    base = model(src, tgt_in).detach().numpy()
    # 1. whatever the encoder left at padded positions, the decoder ignores it
    memory, src_layout = model.encode(src)
    noisy = memory.detach().numpy().copy()
    noisy[0, 4:] = rng.standard_normal(noisy[0, 4:].shape) * 100
    out = model.decode(tgt_in, tt.tensor(noisy), src_layout).detach().numpy()
    np.testing.assert_allclose(out, base, rtol=1e-12, atol=1e-12)
    # 2. more padding at the end of the source changes nothing
    longer = np.concatenate([src.numpy(), np.zeros((2, 3), dtype=np.int64)], axis=1)
    out = model(tt.tensor(longer), tgt_in).detach().numpy()
    np.testing.assert_allclose(out, base, rtol=1e-10, atol=1e-12)
    # 3. while a real token there does change the output (the check above can fail)
    real = src.numpy().copy()
    real[0, 4] = 5
    assert not np.allclose(model(tt.tensor(real), tgt_in).detach().numpy()[0], base[0])


def test_shift_right_doc_table():
    y1, y2, y3 = 7, 8, 9
    tgt = tt.tensor([[y1, y2, y3, EOS], [y3, EOS, PAD, PAD]])
    np.testing.assert_array_equal(shift_right(tgt, BOS).numpy(),
                                  [[BOS, y1, y2, y3], [BOS, y3, EOS, PAD]])
    assert shift_right(tgt, BOS).dtype == tt.int64


def test_decoder_only_shapes_causality_and_backward():
    rng = np.random.default_rng(4)
    model = DecoderOnly(_config())
    ids = _ids(rng, 2, 6).numpy()
    logits = model(tt.tensor(ids))
    assert logits.shape == (2, 6, V)
    logits.sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.isfinite(p.grad.numpy()).all(), name
    base = logits.detach().numpy()
    changed = ids.copy()
    changed[:, 3:] = (changed[:, 3:] - 2) % (V - 3) + 3
    out = model(tt.tensor(changed)).detach().numpy()
    np.testing.assert_allclose(out[:, :3], base[:, :3], rtol=1e-6, atol=1e-6)
    assert not np.allclose(out[:, 3:], base[:, 3:])


def test_encoder_only_shapes_and_backward():
    rng = np.random.default_rng(5)
    model = EncoderOnly(_config(), num_classes=3)
    ids = _ids(rng, 2, 6, pad_from=[None, 4])
    assert model(ids).shape == (2, 6, 16)
    assert model.mlm_logits(ids).shape == (2, 6, V)
    assert model.classify(ids).shape == (2, 3)
    (model.mlm_logits(ids).sum() + model.classify(ids).sum()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and np.isfinite(p.grad.numpy()).all(), name
    # the classification head sees only the first position, and padding is ignored
    more_pad = tt.tensor(np.concatenate([ids.numpy(), np.zeros((2, 2), np.int64)], axis=1))
    np.testing.assert_allclose(model.classify(more_pad).detach().numpy(),
                               model.classify(ids).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_bad_inputs_raise_clear_errors():
    model = Transformer(_config())
    src, tgt = tt.tensor([[3, 4, 5]]), tt.tensor([[1, 3]])
    with pytest.raises(Exception, match=r"embedding: index out of range.*\[0, 10\]"):
        model(tt.tensor([[3, V, 5]]), tgt)
    with pytest.raises(Exception, match="embedding"):
        model(src, tt.tensor([[1, -1]]))
    with pytest.raises(ValueError, match=r"PositionalEncoding.*13.*12 positions"):
        model(tt.tensor(np.full((1, 13), 3)), tgt)
    with pytest.raises(ValueError, match=r"LearnedPositionalEmbedding.*12 positions"):
        DecoderOnly(_config(positional="learned"))(tt.tensor(np.full((1, 13), 3)))
    with pytest.raises(ValueError, match=r"d_model 10 is not divisible by nhead 4"):
        _config(d_model=10, nhead=4)
    with pytest.raises(ValueError, match=r"tie_embeddings needs one joint vocabulary"):
        _config(src_vocab_size=9)
    with pytest.raises(ValueError, match=r"query must be \(batch, len, 16\)"):
        model.decoder(tt.randn(1, 2, 8), tt.randn(1, 3, 16))
