"""Packing (transformer/packing.py, through transformer/layout.py's Layout): the padding
positions left out of the position-wise layers. pack and unpack are proven like every op
(values, finite differences), and the packed encoder gives the padded one's memory at
every real position."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch as tt
from tinytorch.autograd import gradcheck
from transformer import Transformer, TransformerConfig
from transformer.layout import AttentionMask, Layout


@st.composite
def packing_case(draw):
    batch, length = draw(st.integers(1, 4)), draw(st.integers(1, 5))
    drop = draw(hnp.arrays(np.bool_, (batch, length)))
    feature_shape = draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    return np.random.default_rng(draw(st.integers(0, 2**31))), drop, feature_shape


@given(packing_case())
def test_pack_and_unpack_values_and_gradients(case):
    rng, drop, feature_shape = case
    keep = ~drop
    packing = Layout(packed=True, keep=tt.tensor(keep))
    assert packing.tokens == keep.sum()
    x = tt.tensor(rng.standard_normal(drop.shape + feature_shape), dtype=tt.float64,
                  requires_grad=True)
    packed = packing.pack(x)
    np.testing.assert_array_equal(packed.detach().numpy(), x.detach().numpy()[keep])
    if feature_shape:  # unpack takes (tokens, features...)
        back = packing.unpack(packed).detach().numpy()
        np.testing.assert_array_equal(back[keep], x.detach().numpy()[keep])
        assert not back[drop].any()
        rows = tt.tensor(rng.standard_normal((packing.tokens,) + feature_shape), dtype=tt.float64,
                         requires_grad=True)
        assert gradcheck(packing.unpack, (rows,))
    assert gradcheck(packing.pack, (x,))


def test_pack_works_on_ids_and_keeps_order():
    ids = tt.tensor([[5, 7, 9], [4, 0, 0]])
    packing = Layout.of(ids, 0, packed=True)
    assert packing.pack(ids).tolist() == [5, 7, 9, 4]


def test_nothing_to_leave_out_is_a_reshape():
    packing = Layout(tt.zeros(2, 3, dtype=tt.bool), packed=True)
    x = tt.randn(2, 3, 4, requires_grad=True)
    packed = packing.pack(x)
    assert packed.shape == (6, 4) and packed.grad_fn.name == "ReshapeBackward"  # no copy
    assert packing.unpack(packed).shape == (2, 3, 4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_packed_encoder_gives_the_padded_memory(norm_first):
    rng = np.random.default_rng(0)
    cfg = TransformerConfig(src_vocab_size=13, tgt_vocab_size=13, d_model=8, nhead=2,
                            num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16,
                            dropout=0.0, norm_first=norm_first)
    model = Transformer(cfg).double()
    src = rng.integers(1, 13, (3, 6))
    src[0, 4:] = 0
    src[2, 1:] = 0
    src = tt.tensor(src)
    with tt.no_grad():
        padded, layout = model.encode(src)
        packed, layout2 = model.encode(src, Layout.of(src, 0, packed=True))
    keep = ~layout.pad.numpy()
    np.testing.assert_array_equal(layout.pad.numpy(), layout2.pad.numpy())
    assert packed.shape == (keep.sum(), 8)
    np.testing.assert_allclose(packed.numpy(), padded.numpy()[keep], rtol=1e-12, atol=1e-14)


def test_packed_attention_matches_padded_and_checks_shapes():
    """Cross-attention with packed queries and packed keys/values: the padded result at
    every real query position."""
    from transformer.multi_head_attention import MultiHeadAttention

    rng = np.random.default_rng(1)
    mha = MultiHeadAttention(8, 2).double()
    q_drop = np.array([[False, False, True], [False, True, True]])
    kv_drop = np.array([[False, True, True, True], [False, False, False, True]])
    queries = Layout(tt.tensor(q_drop), packed=True)
    keys = Layout(tt.tensor(kv_drop), packed=True)
    query = tt.tensor(rng.standard_normal((2, 3, 8)))
    memory = tt.tensor(rng.standard_normal((2, 4, 8)))
    with tt.no_grad():
        padded = mha(query, memory, memory, AttentionMask(keys=Layout(tt.tensor(kv_drop))))
        packed_memory = keys.pack(memory)
        packed = mha(queries.pack(query), packed_memory, packed_memory,
                     AttentionMask(queries, keys=keys))
    np.testing.assert_allclose(packed.numpy(), padded.numpy()[~q_drop], rtol=1e-12)
    with pytest.raises(ValueError, match=r"query must be \(3 packed tokens, 8\), got \(2, 3, 8\)"):
        mha(query, memory, memory, AttentionMask(queries))
