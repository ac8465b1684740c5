"""Corpus reading and batching: clear errors, reproducible and resumable order."""

import numpy as np
import pytest

from transformer.data.batching import BatchIterator, bucket, eval_batches, make_batch
from transformer.data.corpus import CorpusError, load_corpus, read_tsv


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_read_tsv_and_malformed_lines_name_file_and_line(tmp_path):
    f = _write(tmp_path / "c.tsv", "Hello world.\tHola mundo.\n\nGood night.\tBuenas noches.\n")
    assert read_tsv(f) == [("Hello world.", "Hola mundo."), ("Good night.", "Buenas noches.")]
    bad = _write(tmp_path / "bad.tsv", "Hello.\tHola.\nno tab here\n")
    with pytest.raises(CorpusError, match=r"bad.tsv:2: expected 'english<TAB>spanish'"):
        read_tsv(bad)
    three = _write(tmp_path / "three.tsv", "a\tb\tc\n")
    with pytest.raises(CorpusError, match="three.tsv:1"):
        read_tsv(three)


def test_empty_and_missing_corpus_are_clear_errors(tmp_path):
    with pytest.raises(CorpusError, match="empty"):
        read_tsv(_write(tmp_path / "e.tsv", "\n\n"))
    with pytest.raises(FileNotFoundError, match="nope.tsv"):
        read_tsv(tmp_path / "nope.tsv")
    (tmp_path / "dir").mkdir()
    with pytest.raises(CorpusError, match="pairs.tsv"):
        load_corpus(tmp_path / "dir")


def test_load_corpus_directory_and_single_file_holdout(tmp_path):
    d = tmp_path / "corpus"
    d.mkdir()
    lines = "".join(f"s{i}.\tt{i}.\n" for i in range(50))
    _write(d / "pairs.tsv", lines)
    _write(d / "valid.tsv", "v.\tv.\n")
    _write(d / "test.tsv", "t.\tt.\n")
    splits = load_corpus(d)
    assert len(splits["train"]) == 50 and splits["test"] == [("t.", "t.")]
    single = load_corpus(d / "pairs.tsv", seed=1, holdout=5)
    assert len(single["valid"]) == 5 and len(single["test"]) == 5 and len(single["train"]) == 40
    assert not set(single["test"]) & set(single["train"])
    assert load_corpus(d / "pairs.tsv", seed=1, holdout=5) == single  # seeded


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    src = [rng.integers(4, 50, size=rng.integers(2, 12)) for _ in range(n)]
    tgt = [np.concatenate([[1], rng.integers(4, 50, size=rng.integers(1, 12)), [2]])
           for _ in range(n)]
    return src, tgt


def test_batches_respect_the_token_budget_and_cover_every_pair():
    src, tgt = _data()
    lengths = np.array([len(s) + len(t) for s, t in zip(src, tgt)])
    batches = bucket(lengths, np.arange(len(src)), batch_tokens=60)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(src)))
    for b in batches:
        assert lengths[b].max() * len(b) <= 60
    b = make_batch(src, tgt, batches[0])
    assert b.tgt_in.shape == b.tgt_out.shape
    np.testing.assert_array_equal(b.tgt_in[:, 1:], b.tgt_out[:, :-1])  # teacher forcing shift
    assert sum(len(x.index) for x in eval_batches(src, tgt, 60)) == len(src)


def test_batch_order_is_reproducible_and_resumes_exactly():
    src, tgt = _data()
    a = BatchIterator(src, tgt, batch_tokens=80, seed=3)
    first = [next(a).index.tolist() for _ in range(40)]  # crosses an epoch boundary
    b = BatchIterator(src, tgt, batch_tokens=80, seed=3)
    assert [next(b).index.tolist() for _ in range(40)] == first
    c = BatchIterator(src, tgt, batch_tokens=80, seed=3)
    for _ in range(17):
        next(c)
    state = c.state_dict()
    d = BatchIterator(src, tgt, batch_tokens=80, seed=3)
    d.load_state_dict(state)
    assert [next(d).index.tolist() for _ in range(23)] == first[17:]
    other = BatchIterator(src, tgt, batch_tokens=80, seed=4)
    assert [next(other).index.tolist() for _ in range(5)] != first[:5]


def test_batch_tokens_too_small_is_a_clear_error():
    src, tgt = _data()
    with pytest.raises(ValueError, match="batch_tokens"):
        BatchIterator(src, tgt, batch_tokens=5)


def test_a_bom_and_a_header_line_are_skipped(tmp_path):
    """A UTF-8 BOM (from Windows editors) is not glued to the first sentence, and a first
    line of column names is a header, not a pair; a header alone is an empty corpus."""
    bom = tmp_path / "bom.tsv"
    bom.write_bytes("\ufeffGo.\tVe.\nHi.\tHola.\n".encode("utf-8"))
    assert read_tsv(bom) == [("Go.", "Ve."), ("Hi.", "Hola.")]
    for header in ("english\tspanish", "Source\tTarget", "EN\tES", "\ufeffsrc\ttgt"):
        f = _write(tmp_path / "h.tsv", f"{header}\nGo.\tVe.\n")
        assert read_tsv(f) == [("Go.", "Ve.")], header
    # only the first line can be a header: later, the same words are a pair
    f = _write(tmp_path / "later.tsv", "Go.\tVe.\nsource\ttarget\n")
    assert read_tsv(f) == [("Go.", "Ve."), ("source", "target")]
    # a first line that is a sentence stays a pair
    f = _write(tmp_path / "pair.tsv", "English.\tInglés.\n")
    assert read_tsv(f) == [("English.", "Inglés.")]
    with pytest.raises(CorpusError, match="empty"):
        read_tsv(_write(tmp_path / "only.tsv", "english\tspanish\n"))


def test_a_directory_where_a_file_should_be_is_a_clear_error(tmp_path):
    d = tmp_path / "corpus"
    (d / "pairs.tsv").mkdir(parents=True)
    with pytest.raises(CorpusError, match=r"pairs.tsv is a directory"):
        load_corpus(d)
    with pytest.raises(CorpusError, match="is a directory"):
        read_tsv(d)
