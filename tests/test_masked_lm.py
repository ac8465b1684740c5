"""The masked language model (BERT-style): its loss, the masking rule, mlm train and
fill-mask.

- ``EncoderOnly.loss`` counts the chosen positions only; its fast path (packed encoder,
  head fused with the loss on the chosen rows) gives the plain path's number and every
  gradient (float64, rtol 1e-10).
- ``mask_tokens``: over many tokens ~15% are chosen, never a special one; of those ~80%
  become <mask>, ~10% a random (non-special) token, ~10% stay; labels only where chosen.
- The <mask> token is appended to the vocabulary, saved and loaded with it.
- ``mlm train`` resumes exactly (the masks of a step come from the seed and the step);
  ``mlm fill-mask`` prints the top 5 with their probabilities; mistakes are one line.
"""

import json

import numpy as np
import pytest
from tiny_corpus import write_corpus

import tinytorch as tt
from tinytorch.nn import functional as F
from transformer import EncoderOnly, TransformerConfig
from transformer.__main__ import main
from transformer.checkpoint import checkpoint_path, load_checkpoint, model_from_checkpoint
from transformer.masked_lm import MaskedLMTrainer, MLMTrainArgs, fill_mask, mask_tokens

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


# -- the masking rule ----------------------------------------------------------------------------

SPECIAL = [0, 1, 2, 3, 99]  # pad, bos, eos, unk, mask


def _sentences(rng, rows=400, length=60):
    """Rows [bos w .. w eos pad ..] of random ordinary tokens (ids 4..98)."""
    ids = rng.integers(4, 99, size=(rows, length))
    ends = rng.integers(5, length, size=rows)
    ids[:, 0] = 1
    for r, end in enumerate(ends):
        ids[r, end] = 2
        ids[r, end + 1:] = 0
    return ids


def test_mask_tokens_follows_bert_rule():
    rng = np.random.default_rng(0)
    ids = _sentences(rng)
    inputs, labels = mask_tokens(ids, mask_id=99, vocab_size=100, special_ids=SPECIAL,
                                 rng=np.random.default_rng(1))
    ordinary = ~np.isin(ids, SPECIAL)
    chosen = labels != 0
    n = ordinary.sum()                                          # ~13,000 tokens
    assert abs(chosen.sum() / n - 0.15) < 0.01                  # 15% chosen (3 sigma: 0.009)
    assert not (chosen & ~ordinary).any()                       # never pad, bos, eos
    assert (labels[chosen] == ids[chosen]).all()                # labels: the original token
    assert (inputs[~chosen] == ids[~chosen]).all()              # the rest is untouched
    masked = (inputs == 99) & chosen
    kept = (inputs == ids) & chosen
    replaced = chosen & ~masked & ~kept
    c = chosen.sum()
    assert abs(masked.sum() / c - 0.8) < 0.03
    assert abs((replaced.sum() + kept.sum()) / c - 0.2) < 0.03
    # a random token is an ordinary one, and equals the original 1 time in 95: so a
    # tenth of the chosen are kept, plus ~0.1% drawn equal
    assert abs(kept.sum() / c - 0.1) < 0.02 and abs(replaced.sum() / c - 0.1) < 0.02
    assert not np.isin(inputs[replaced], SPECIAL).any()
    assert len(np.unique(inputs[replaced])) > 50                # spread over the vocabulary


def test_mask_tokens_is_reproducible_and_always_chooses_something():
    ids = _sentences(np.random.default_rng(0), rows=3, length=8)
    a = mask_tokens(ids, 99, 100, SPECIAL, np.random.default_rng([0, 0, 5]))
    b = mask_tokens(ids, 99, 100, SPECIAL, np.random.default_rng([0, 0, 5]))
    assert all((x == y).all() for x, y in zip(a, b))            # same seed and step: same masks
    short = np.array([[1, 7, 2]])                               # one ordinary token
    for seed in range(20):
        inputs, labels = mask_tokens(short, 99, 100, SPECIAL, np.random.default_rng(seed),
                                     mask_prob=0.01)
        assert labels.tolist() == [[0, 7, 0]]                   # (else the loss is 0 / 0)
    only_special = np.array([[1, 2, 0]])
    inputs, labels = mask_tokens(only_special, 99, 100, SPECIAL, np.random.default_rng(0))
    assert (labels == 0).all() and (inputs == only_special).all()


# -- mlm train and fill-mask ---------------------------------------------------------------------

TINY = ["--size", "tiny", "--vocab-size", "300", "--batch-tokens", "200", "--warmup", "5",
        "--no-progress"]


def _args(corpus, out, steps, **kw):
    return MLMTrainArgs(data=str(corpus), out=str(out), size="tiny", vocab_size=300, steps=steps,
                        minutes=None, batch_tokens=200, warmup=5, eval_every=1000,
                        progress=False, **kw)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A tiny masked language model, trained 40 steps from the command line."""
    root = tmp_path_factory.mktemp("mlm")
    corpus = write_corpus(root / "pairs.tsv")
    out = root / "run"
    assert main(["mlm", "train", "--data", str(corpus), "--out", str(out), *TINY, "--steps", "40",
                 "--eval-every", "20", "--lr", "3e-3"]) == 0
    return out


def test_mlm_train_writes_masked_accuracy(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [20, 40]
    assert all(0 <= r["valid_accuracy"] <= 1 for r in rows)
    assert rows[1]["valid_loss"] < rows[0]["valid_loss"]
    scores = json.loads((run / "test_scores.json").read_text())
    assert 0 <= scores["test_accuracy"] <= 1
    assert "El [MASK] está cerca del río." in scores["examples"]
    state = load_checkpoint(checkpoint_path(run))
    assert state["kind"] == "mlm"
    model, tok = model_from_checkpoint(state)
    assert type(model).__name__ == "EncoderOnly" and tok.mask_id == len(tok) - 1 == 299


def test_fill_mask_prints_the_top_5_with_probabilities(run, capsys):
    assert main(["mlm", "fill-mask", "--out", str(run), "El [MASK] está cerca del río."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5
    probs = [float(line.split()[0]) for line in lines]
    assert all(0 < p <= 1 for p in probs) and probs == sorted(probs, reverse=True)
    model, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(run)))
    fills = fill_mask(model, tok, "El [MASK] está cerca del río.")[0]
    assert [round(f.probability, 3) for f in fills] == probs
    for f, line in zip(fills, lines):
        assert line.endswith(f.text) and f.text.endswith(" está cerca del río.")
        assert f.text == "El" + tok.decode([tok.token_to_id(f.token)]) + " está cerca del río." \
            or f.text == "El " + tok.decode([tok.token_to_id(f.token)]) + " está cerca del río."
    argv = ["mlm", "fill-mask", "--out", str(run), "--top-k", "2", "<mask> perro duerme."]
    assert main(argv) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_fill_mask_reads_the_text_as_training_did(run):
    """"El [MASK] duerme." is read as [bos, "El", <mask>, " duerme", ".", eos]: the space
    goes with the masked token; the probabilities are a softmax over the ordinary tokens."""
    model, tok = model_from_checkpoint(load_checkpoint(checkpoint_path(run)))
    ids = [tok.bos_id] + tok.encode("El") + [tok.mask_id] + tok.encode(" duerme.") + [tok.eos_id]
    with tt.no_grad():
        logits = model.mlm_logits(tt.tensor([ids]))[0, len(tok.encode("El")) + 1].numpy()
    logits = logits.astype(np.float64)
    logits[[0, 1, 2, 3, tok.mask_id]] = -np.inf
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    fills = fill_mask(model, tok, "El [MASK] duerme.", top_k=len(tok))[0]
    assert len(fills) == len(tok) - 5                           # every ordinary token, once
    np.testing.assert_allclose([f.probability for f in fills], np.sort(probs)[::-1][:len(fills)],
                               rtol=1e-6)
    two = fill_mask(model, tok, "[MASK] perro [MASK].", top_k=3)
    assert len(two) == 2 and all(f.text.endswith(" perro [MASK].") for f in two[0])
    assert all(f.text.startswith("[MASK] perro") for f in two[1])


def test_mlm_resume_gives_the_weights_of_an_uninterrupted_run(corpus, tmp_path):
    quiet = dict(log=lambda *a: None)
    straight = MaskedLMTrainer(_args(corpus, tmp_path / "a", 6), **quiet)
    straight.run()
    MaskedLMTrainer(_args(corpus, tmp_path / "b", 3), **quiet).run()
    tt.manual_seed(12345)
    resumed = MaskedLMTrainer(_args(corpus, tmp_path / "b", 6, resume=True), **quiet)
    assert resumed.step == 3
    resumed.run()
    for (k, a), (_, b) in zip(straight.model.state_dict().items(),
                              resumed.model.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert [m["valid_loss"] for m in resumed.metrics][-1] == straight.metrics[-1]["valid_loss"]


@pytest.mark.parametrize("argv, words", [
    (["El perro duerme."], "no mask in 'El perro duerme.': write [MASK]"),
    (["--top-k", "0", "El [MASK]."], "--top-k: expected an int >= 1"),
    ([" ".join(["perro"] * 80) + " [MASK]"], "give a shorter text"),
])
def test_fill_mask_mistakes_are_one_line(run, capsys, argv, words):
    assert main(["mlm", "fill-mask", "--out", str(run), *argv]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and words in err, err


def test_the_wrong_kind_of_checkpoint_is_one_line(run, capsys):
    for argv, words in ((["lm", "generate", "--out", str(run), "El"],
                         f"{run} holds a masked language model, not a language model: use "
                         f"`python -m transformer mlm fill-mask --out {run}`"),
                        (["translate", "--out", str(run), "Hi."], "holds a masked language"),
                        (["attention", "--out", str(run), "Hi."], "holds a masked language")):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1 and words in err, err
