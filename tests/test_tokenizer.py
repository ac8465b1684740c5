"""transformer.tokenizer: BPE training, lossless encode/decode, specials, save/load, errors.

Everything trains on small synthetic text here (no dependency on the Tatoeba data).
"""

import json
import random
from collections import Counter
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from transformer.tokenizer import BPETokenizer, pretokenize

SAMPLE = [
    "Hello world.", "Hola mundo.",
    "Where is the bank?", "¿Dónde está el banco?",
    "I can't swim.", "No sé nadar.",
    "The boy is tired.", "El niño está cansado.",
    "Come here!", "¡Ven aquí!",
    "hola mundo", "hello world",
    "It costs 25 euros.", "Cuesta 25 euros.",
    "She said:\t\"yes\"  and\nleft.", "Ella dijo: «sí» y se fue.",
]
CORPUS = SAMPLE * 20
N_BASE = 4 + 256  # specials + byte tokens


@pytest.fixture(scope="module")
def tok():
    return BPETokenizer.train(CORPUS, vocab_size=400)


# Characters a translator meets, and some it never trained on.
TRICKY = ("abcxyzABC ñÑáéíóúüÜ¿¡«»“”'\"-_.,;:!?0123456789"
          " \t\n\r\x0b\x0c\u00a0\u2009\u3000\u200b\ufeff\x00\x85"
          "\u0301\u0303\u0308"                          # combining acute, tilde, diaeresis
          "😀👍🏽👨‍👩‍👧🇪🇸€ß漢字Ωж\U0010ffff")
texts = st.one_of(st.text(), st.text(alphabet=st.sampled_from(TRICKY)))


# -- lossless ------------------------------------------------------------------------------
@settings(max_examples=max(200, settings.default.max_examples))
@given(texts)
@example("")
@example("   leading and trailing   ")
@example("e\u0301 vs é, n\u0303 vs ñ")
@example("¿Qué?\t¡Sí!\u00a0\n\n  😀 <pad> <0x41> <unk>")
@example("a\ud800b\udfff")  # lone surrogates: legal in a Python str
def test_decode_encode_round_trip(tok, s):
    ids = tok.encode(s)
    assert all(isinstance(i, int) and 0 <= i < len(tok) for i in ids)
    assert tok.unk_id not in ids and tok.pad_id not in ids
    assert tok.decode(ids) == s
    assert tok.decode(tok.encode(s, add_bos=True, add_eos=True)) == s


@given(texts)
def test_pretokenize_covers_every_character(s):
    words = pretokenize(s)
    assert "".join(words) == s
    assert all(words)


def test_pretokenize_keeps_leading_space():
    assert pretokenize("¿Dónde está  el banco?") == ["¿", "Dónde", " está", " ", " el",
                                                     " banco", "?"]
    assert pretokenize("it's 25_000") == ["it", "'s", " 25", "_", "000"]


def test_unseen_characters_fall_back_to_bytes(tok):
    assert tok.tokenize("😀") == ["<0xF0>", "<0x9F>", "<0x98>", "<0x80>"]
    assert tok.tokenize("¿") == ["¿"]  # seen in training: a readable character token


# -- special tokens ------------------------------------------------------------------------
def test_special_token_ids_are_fixed(tok):
    assert (tok.pad_id, tok.bos_id, tok.eos_id, tok.unk_id) == (0, 1, 2, 3)
    assert tok.special_tokens == ("<pad>", "<bos>", "<eos>", "<unk>")
    assert [tok.id_to_token(i) for i in range(4)] == list(tok.special_tokens)
    assert [tok.token_to_id(t) for t in tok.special_tokens] == [0, 1, 2, 3]
    assert tok.token_to_id("<0x00>") == 4 and tok.token_to_id("<0xFF>") == 259


def test_special_token_text_is_not_special(tok):
    assert not set(tok.encode("<pad><bos><eos><unk>")) & {0, 1, 2, 3}


def test_add_bos_eos(tok):
    plain = tok.encode("Hola mundo.")
    assert tok.encode("Hola mundo.", add_bos=True) == [1] + plain
    assert tok.encode("Hola mundo.", add_eos=True) == plain + [2]
    assert tok.encode("Hola mundo.", add_bos=True, add_eos=True) == [1] + plain + [2]
    assert tok.encode("", add_bos=True, add_eos=True) == [1, 2]


def test_decode_skips_specials(tok):
    ids = [1] + tok.encode("Hola mundo.") + [2, 0, 0]
    assert tok.decode(ids) == "Hola mundo."
    assert tok.decode(ids, skip_special=False) == "<bos>Hola mundo.<eos><pad><pad>"
    assert tok.decode([3]) == "<unk>"  # kept: it marks a real gap in the text
    assert tok.decode(np.array(ids, dtype=np.int64)) == "Hola mundo."


def test_decode_tolerates_invalid_bytes(tok):
    # A model can emit a broken UTF-8 sequence; decode must not crash on it.
    ids = [tok.token_to_id("<0xF0>"), tok.token_to_id("<0x9F>")] + tok.encode("ok")
    assert tok.decode(ids) == "\ufffdok"


def test_decode_rejects_out_of_range_ids(tok):
    with pytest.raises(ValueError, match=r"id 9999 is out of range .* 400 tokens"):
        tok.decode([5, 9999])
    with pytest.raises(ValueError, match="out of range"):
        tok.decode([-1])


def test_vocab_accessors(tok):
    assert tok.vocab_size == len(tok) == 400
    for i in range(len(tok)):
        assert tok.token_to_id(tok.id_to_token(i)) == i
    with pytest.raises(KeyError, match="not a token"):
        tok.token_to_id("certainly not a token")
    with pytest.raises(IndexError):
        tok.id_to_token(400)


def test_encode_batch(tok):
    assert tok.encode_batch(SAMPLE, add_eos=True) == [tok.encode(s, add_eos=True)
                                                      for s in SAMPLE]
    with pytest.raises(TypeError, match="single str"):
        tok.encode_batch("Hola")


# -- merges --------------------------------------------------------------------------------
def test_merges_compress_common_words():
    t = BPETokenizer.train(["hola mundo"] * 50 + ["mundo hola"] * 50, vocab_size=300)
    assert t.tokenize("hola mundo") == ["hola", " mundo"]
    assert t.tokenize("mundo hola") == ["mundo", " hola"]
    assert len(t.encode("hola hola mundo")) == 3


def test_training_sample_compresses(tok):
    n_chars = sum(len(s) for s in SAMPLE)
    assert sum(len(tok.encode(s)) for s in SAMPLE) < n_chars / 2
    # Given room, every word seen 20 times becomes one token; then merging runs out of
    # pairs seen twice (min_frequency) before reaching vocab_size.
    full = BPETokenizer.train(CORPUS, vocab_size=1000)
    assert len(full) < 1000
    assert full.tokenize("¿Dónde está el banco?") == ["¿", "Dónde", " está", " el", " banco",
                                                      "?"]
    assert full.tokenize("Hello world.") == ["Hello", " world", "."]


def test_merges_never_cross_words():
    # Every word is one character long: there is nothing to merge inside a word.
    t = BPETokenizer.train(["a.b,c!"] * 100, vocab_size=500)
    assert t.merges == [] and len(t) == N_BASE + 6


def test_min_frequency_stops_early():
    t = BPETokenizer.train(["abcd"] * 3 + ["xy"], vocab_size=1000, min_frequency=2)
    assert ("x", "y") not in t.merges
    assert len(t) < 1000
    assert BPETokenizer.train(["xy"], vocab_size=1000, min_frequency=1).merges == [("x", "y")]


def test_vocab_size_is_respected():
    n_chars = len(set("".join(CORPUS)))
    t = BPETokenizer.train(CORPUS, vocab_size=N_BASE + n_chars + 40)
    assert len(t) == N_BASE + n_chars + 40


def test_training_is_deterministic():
    a = BPETokenizer.train(CORPUS, vocab_size=400)
    shuffled = CORPUS[:]
    random.Random(0).shuffle(shuffled)
    b = BPETokenizer.train(iter(shuffled), vocab_size=400)  # any iterable, any order
    assert a.merges == b.merges and a.get_vocab() == b.get_vocab()


def test_ties_break_by_smallest_pair():
    # Every pair occurs 5 times; the smallest (left, right) in string order wins (" " < "a").
    for text, first in (("cd ab", (" ", "a")), ("ab cd", (" ", "c"))):
        t = BPETokenizer.train([text] * 5, vocab_size=N_BASE + 5 + 1)
        assert t.merges == [first]
    t = BPETokenizer.train(["ab", "cd"] * 5, vocab_size=N_BASE + 4 + 1)
    assert t.merges == [("a", "b")]


def naive_bpe(texts, n_merges, min_frequency):
    """The textbook algorithm: recount every pair of every word for every merge."""
    words = Counter(w for t in texts for w in pretokenize(t))
    spelled = {w: list(w) for w in words}
    merges = []
    for _ in range(n_merges):
        counts = Counter()
        for w, f in words.items():
            s = spelled[w]
            for p in pairwise(s):
                counts[p] += f
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < min_frequency:
            break
        merges.append(best)
        for w in words:
            s, out, i = spelled[w], [], 0
            while i < len(s):
                if i + 1 < len(s) and (s[i], s[i + 1]) == best:
                    out.append(s[i] + s[i + 1])
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            spelled[w] = out
    return merges


@given(st.lists(st.text(alphabet="aab b.", max_size=12), min_size=1, max_size=20),
       st.integers(1, 3))
def test_incremental_training_matches_textbook_bpe(texts, min_frequency):
    if not "".join(texts):
        return
    n_chars = len(set("".join(texts)))
    t = BPETokenizer.train(texts, vocab_size=N_BASE + n_chars + 30, min_frequency=min_frequency)
    expected = naive_bpe(texts, 30, min_frequency)
    # Two merges can spell the same token ("a"+"ab", "aa"+"b"), which costs no vocab slot,
    # so the tokenizer may learn more than 30 merges: compare the first len(expected).
    assert t.merges[: len(expected)] == expected
    for s in texts:
        assert "".join(t.tokenize(s)) == s


# -- save / load ---------------------------------------------------------------------------
def test_save_load_round_trip(tok, tmp_path):
    path = tmp_path / "tok.json"
    tok.save(path)
    loaded = BPETokenizer.load(path)
    assert loaded.merges == tok.merges and loaded.get_vocab() == tok.get_vocab()
    probe = SAMPLE + ["Unseen: Ωmega 😀 e\u0301", "dónde\tbanco  ", ""]
    assert loaded.encode_batch(probe) == tok.encode_batch(probe)
    # Human-readable UTF-8: "ñ" is written as itself, one merge per line.
    text = path.read_text(encoding="utf-8")
    assert "ñ" in text and "\\u00f1" not in text
    d = json.loads(text)
    assert d["format"] == "tinytorch-bpe" and d["version"] == 1
    assert d["special_tokens"] == {"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 3}
    assert [tuple(m) for m in d["merges"]] == tok.merges
    assert d["vocab"] == tok.get_vocab()
    assert f'    {json.dumps(list(tok.merges[0]), ensure_ascii=False)},' in text


def test_to_dict_from_dict(tok):
    d = json.loads(json.dumps(tok.to_dict()))  # what a checkpoint header stores
    again = BPETokenizer.from_dict(d)
    assert again.encode_batch(SAMPLE) == tok.encode_batch(SAMPLE)


def test_untrained_tokenizer_saves(tmp_path):
    t = BPETokenizer.train(["a.b"], vocab_size=N_BASE + 3)
    t.save(tmp_path / "t.json")
    assert BPETokenizer.load(tmp_path / "t.json").get_vocab() == t.get_vocab()


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("corpus", [[], ["", ""], iter([])])
def test_train_on_empty_corpus(corpus):
    with pytest.raises(ValueError, match=r"corpus is empty.*pass an iterable of non-empty"):
        BPETokenizer.train(corpus, vocab_size=1000)


def test_train_on_a_single_string():
    with pytest.raises(TypeError, match=r"not a single string.*\[text\]"):
        BPETokenizer.train("hola mundo", vocab_size=1000)
    with pytest.raises(TypeError, match="text #2 is bytes"):
        BPETokenizer.train(["ok", b"bytes"], vocab_size=1000)


def test_vocab_size_too_small():
    n_chars = len(set("".join(CORPUS)))
    with pytest.raises(ValueError, match=rf"vocab_size=100 is smaller than the base vocabulary "
                                         rf"of {N_BASE + n_chars} tokens .*{n_chars} distinct"):
        BPETokenizer.train(CORPUS, vocab_size=100)
    with pytest.raises(ValueError, match="min_frequency"):
        BPETokenizer.train(CORPUS, vocab_size=1000, min_frequency=0)


def _bad_file(tmp_path, content, name="bad.json"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content),
                        encoding="utf-8")
    return path


def test_load_rejects_corrupt_and_foreign_files(tok, tmp_path):
    good = tok.to_dict()
    cases = [
        ('{"format": "tinytorch-bpe", "merges": [', "invalid JSON"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", "not UTF-8"),
        ({"model": {"type": "BPE"}}, r'expected "format": "tinytorch-bpe"'),
        ([1, 2, 3], "not a tinytorch BPE tokenizer"),
        ({**good, "version": 99}, "unsupported tokenizer version 99"),
        ({**good, "special_tokens": {"<pad>": 1}}, "special_tokens must be"),
        ({**good, "merges": [["zz", "q"]]}, "not a character or an earlier merge"),
        ({**good, "merges": "h e"}, r'"merges" \(a list\) are required'),
        ({**good, "merges": [["h", "e", "y"]]}, r"list of \[left, right\] pairs"),
        ({**good, "vocab": {**good["vocab"], "hola": 0}}, "does not match"),
        ({k: v for k, v in good.items() if k != "vocab"}, '"vocab"'),
    ]
    for i, (content, message) in enumerate(cases):
        path = _bad_file(tmp_path, content, f"bad{i}.json")
        with pytest.raises(ValueError, match=message) as info:
            BPETokenizer.load(path)
        assert str(path) in str(info.value), info.value
    with pytest.raises(FileNotFoundError):
        BPETokenizer.load(tmp_path / "missing.json")
