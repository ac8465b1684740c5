"""The masked language model (BERT-style): its loss, the masking rule, fill-mask.

- ``EncoderOnly.loss`` counts the chosen positions only; its fast path (packed encoder,
  head fused with the loss on the chosen rows) gives the plain path's number and every
  gradient (float64, rtol 1e-10).
"""

import numpy as np
import pytest

import tinytorch as tt
from transformer import EncoderOnly, TransformerConfig
from tinytorch.nn import functional as F

PAD = 0
VOCAB = 13


def _encoder(**kw):
    tt.manual_seed(0)
    base = dict(src_vocab_size=VOCAB, tgt_vocab_size=VOCAB, d_model=16, nhead=2,
                num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=32, max_len=16,
                dropout=0.0, pad_id=PAD)
    return EncoderOnly(TransformerConfig(**{**base, **kw})).double()


def _masked_batch():
    """ids (3, 8) with padding at the end of rows 1 and 2; labels at ~40% of the real
    positions (the original token), pad elsewhere."""
    rng = np.random.default_rng(0)
    ids = rng.integers(4, VOCAB, size=(3, 8))
    ids[1, 5:] = PAD
    ids[2, 3:] = PAD
    labels = np.where((rng.random(ids.shape) < 0.4) & (ids != PAD), ids, PAD)
    labels[0, 0] = ids[0, 0]  # (at least one chosen position)
    return ids, labels


@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_only_loss_fast_path_equals_the_plain_path(tie, norm_first):
    model = _encoder(tie_embeddings=tie, norm_first=norm_first)
    ids, labels = _masked_batch()
    results = []
    for fast in (True, False):
        with tt.fast_paths(fast):
            model.zero_grad()
            loss = model.loss(tt.tensor(ids), tt.tensor(labels), label_smoothing=0.1)
            loss.backward()
            grads = {n: p.grad.numpy().copy() for n, p in model.named_parameters()
                     if not n.startswith("cls_head")}  # (the classifier takes no part)
            results.append((loss.item(), grads))
    (fast_loss, fast_grads), (plain_loss, plain_grads) = results
    np.testing.assert_allclose(fast_loss, plain_loss, rtol=1e-10)
    assert fast_grads.keys() == plain_grads.keys()
    for name in plain_grads:
        np.testing.assert_allclose(fast_grads[name], plain_grads[name], rtol=1e-10, atol=1e-14,
                                   err_msg=name)


def test_encoder_only_loss_counts_the_chosen_positions_only():
    """The loss is the mean cross-entropy over the labelled positions: changing a label
    that is pad (not chosen) changes nothing; the number is the textbook formula."""
    model = _encoder().eval()
    ids, labels = _masked_batch()
    with tt.no_grad():
        logits = model.mlm_logits(tt.tensor(ids)).numpy()
        loss = model.loss(tt.tensor(ids), tt.tensor(labels)).item()
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    chosen = labels != PAD
    expected = -np.mean(logp[chosen, labels[chosen]])
    np.testing.assert_allclose(loss, expected, rtol=1e-10)
    with tt.no_grad():  # the same ids with every unchosen label pad: F.cross_entropy agrees
        plain = F.cross_entropy(tt.tensor(logits.reshape(-1, VOCAB)),
                                tt.tensor(labels.reshape(-1)), ignore_index=PAD).item()
    np.testing.assert_allclose(loss, plain, rtol=1e-10)


def test_the_mask_token_is_appended_and_moves_no_other_id(tmp_path):
    from transformer.tokenizer import BPETokenizer

    tok = BPETokenizer.train(["hola mundo"] * 20 + ["el banco está cerca"] * 20, 300)
    before = tok.get_vocab()
    assert tok.mask_id is None
    assert tok.add_special_tokens(["<mask>"]) == [len(before)]
    assert tok.mask_id == len(before) == len(tok) - 1
    assert {t: i for t, i in tok.get_vocab().items() if t != "<mask>"} == before
    ids = tok.encode("hola") + [tok.mask_id] + tok.encode(" mundo")
    assert tok.decode(ids) == "hola mundo"                   # decode leaves it out
    assert tok.decode(ids, skip_special=False) == "hola<mask> mundo"
    assert tok.mask_id not in tok.encode("hola <mask>")       # never produced from text
    for again in (BPETokenizer.from_dict(tok.to_dict()), _saved_and_loaded(tok, tmp_path)):
        assert again.mask_id == tok.mask_id and again.get_vocab() == tok.get_vocab()
    with pytest.raises(ValueError, match="is a token already"):
        tok.add_special_tokens(["<mask>"])
    plain = BPETokenizer.train(["hola mundo"] * 20, 300)
    assert "added_special_tokens" not in plain.to_dict()      # older files stay as they were
    damaged = dict(tok.to_dict(), added_special_tokens="<mask>")
    with pytest.raises(ValueError, match="added_special_tokens"):
        BPETokenizer.from_dict(damaged)


def _saved_and_loaded(tok, tmp_path):
    from transformer.tokenizer import BPETokenizer

    tok.save(tmp_path / "tok.json")
    return BPETokenizer.load(tmp_path / "tok.json")
