"""GPT-2 on our code (transformer/gpt2/): the tokenizer by hand, the weights, the CLI.

Without optional packages: the bytes-to-unicode table, GPT-2's pre-tokenizer, and a
hand-made merges file (ranks, special tokens, round trips, refused files).

With the compare extra (torch, transformers, tokenizers, safetensors), on a tiny random
GPT-2 made on the spot (tests/gpt2_fixture.py; nothing is downloaded):

- our ids are `tokenizers`' (and transformers' GPT2Tokenizer's) on accents, emoji,
  digits, runs of spaces, tabs and newlines, and on any text hypothesis finds;
- our logits are GPT2LMHeadModel's (float32: 1e-5; float64: 1e-10), greedy generation
  gives its tokens, and the KV cache changes nothing;
- the original gpt2 files' layout (no "transformer." prefix, mask buffers) loads too;
- ``python -m transformer gpt2 generate`` prints text; a directory with only
  pytorch_model.bin, a missing directory, a missing model.safetensors, a damaged file:
  one line and exit status 2. The conversion command the error names works.
"""

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinytorch as tt
from transformer.__main__ import main
from transformer.generate import generate
from transformer.gpt2 import GPT2LMHeadModel, GPT2Tokenizer, ModelFilesError, bpe, from_pretrained
from transformer.gpt2.bpe import bytes_to_unicode, pretokenize, re_pattern

B2U = bytes_to_unicode()

# Text a tokenizer can get wrong: accents (composed and combining), ñ ü, emoji with a skin
# tone and a variation selector, digits and decimals, runs of spaces, tabs, newlines,
# contractions (and capitalised ones, which GPT-2's pattern does not treat as such),
# "²" and "Ⅻ" (numbers, not letters), the separators \x1c-\x1f (not whitespace to GPT-2).
TEXTS = ["Hello, I'm a language model,", "¿Dónde está el niño? Ñandú, pingüino.",
         "café vs cafe\u0301", "🙂👍🏽 ok 🌶️", "In 2026, π ≈ 3.14159 (1,000,000).",
         "a   b", "  leading and trailing  ", "tabs\tand\t\ttabs", "new\nlines\n\n\r\nend",
         "I'm sure they'll say we've, you'd, it's, I'M, THEY'LL", "x² + Ⅻ = 10³",
         "unit\x1cseparator\x1f", "<|endoftext|>Second document<|endoftext|>", "", " ", "\n"]


# -- the tokenizer, no optional packages -----------------------------------------------------

def test_bytes_to_unicode_is_a_table_of_256_visible_characters():
    assert sorted(B2U) == list(range(256))
    chars = list(B2U.values())
    assert len(set(chars)) == 256
    assert all(c.isprintable() and not c.isspace() for c in chars)
    assert all(B2U[b] == chr(b) for b in range(ord("!"), ord("~") + 1))  # ASCII stays
    assert B2U[ord(" ")] == "Ġ" and B2U[ord("\n")] == "Ċ" and B2U[0] == "Ā"
    assert "".join(B2U[b] for b in "é".encode()) == "Ã©"


@pytest.mark.parametrize("text, words", [
    ("Hello world", ["Hello", " world"]),
    ("I'm here:  2026 👍🏽", ["I", "'m", " here", ":", " ", " 2026", " 👍🏽"]),
    ("a   b", ["a", "  ", " b"]),
    ("x² Ⅻ", ["x", "²", " Ⅻ"]),
    ("end  \n", ["end", "  \n"]),
    ("a\x1cb", ["a", "\x1c", "b"]),
])
def test_pretokenize(text, words):
    assert pretokenize(text) == words


@given(st.text())
def test_pretokenize_keeps_every_character(text):
    assert "".join(pretokenize(text)) == text


def test_the_re_fallback_is_gpt2s_pattern_on_every_character():
    """The `re` spelling equals GPT-2's pattern run by `regex` on every character that
    Python's Unicode table knows (a newer letter is a letter to one only), each one in
    the company that decides its class: after a letter, a space, itself, a digit."""
    regex = pytest.importorskip("regex")
    import unicodedata

    ours, theirs = re.compile(re_pattern()), regex.compile(bpe.GPT2_PATTERN)
    chars = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) not in ("Cn", "Cs")]
    for start in range(0, len(chars), 20_000):
        text = "".join(f"a{c} {c}{c}1{c}" for c in chars[start:start + 20_000])
        assert ours.findall(text) == theirs.findall(text)


def test_the_docstring_examples_run():
    import doctest

    result = doctest.testmod(bpe)
    assert result.attempted >= 1 and result.failed == 0


def test_without_regex_the_fallback_runs(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "regex", None)  # `import regex` fails
    bpe._compiled.cache_clear()
    try:
        assert isinstance(bpe._compiled(), re.Pattern)
        assert pretokenize("I'm here:  2026 👍🏽") == ["I", "'m", " here", ":", " ", " 2026",
                                                      " 👍🏽"]
    finally:
        bpe._compiled.cache_clear()


def _write_tokenizer(path, merges, extra=("<|endoftext|>",), header=True):
    """vocab.json (the 256 bytes, then each merge's result, then ``extra``) and merges.txt."""
    pieces = [B2U[b] for b in range(256)] + [a + b for a, b in merges] + list(extra)
    vocab = {p: i for i, p in enumerate(dict.fromkeys(pieces))}
    (path / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    lines = ["#version: 0.2"] * header + [f"{a} {b}" for a, b in merges]
    (path / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return vocab


HAND_MERGES = [("b", "c"), ("a", "b"), ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("Ã", "±")]


@pytest.fixture
def hand_tokenizer(tmp_path):
    vocab = _write_tokenizer(tmp_path, HAND_MERGES)
    return GPT2Tokenizer.from_dir(str(tmp_path)), vocab


def test_merges_apply_by_rank_not_left_to_right(hand_tokenizer):
    tok, vocab = hand_tokenizer
    # "bc" was learned before "ab": a left-to-right merger would say "ab", "c"
    assert tok.bpe("abc") == ["a", "bc"]
    assert tok.tokenize("abc the") == ["a", "bc", "Ġthe"]
    assert tok.tokenize("ñ") == ["Ã±"]  # one merged piece for the two bytes of ñ
    assert tok.encode(" the") == [vocab["Ġthe"]]
    assert tok.tokenize("x<|endoftext|>y") == ["x", "<|endoftext|>", "y"]
    assert tok.eos_token_id == vocab["<|endoftext|>"] == len(tok) - 1


@pytest.mark.parametrize("text", TEXTS)
def test_hand_tokenizer_round_trip(hand_tokenizer, text):
    tok, _ = hand_tokenizer
    assert tok.decode(tok.encode(text)) == text


@given(st.text(st.characters(exclude_categories=["Cs"])))  # (a lone surrogate has no UTF-8)
def test_every_string_encodes_and_decodes_back(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("tok")
    _write_tokenizer(path, HAND_MERGES)
    tok = GPT2Tokenizer.from_dir(str(path))
    assert tok.decode(tok.encode(text)) == text


def test_decode_half_a_character_and_special_tokens(hand_tokenizer):
    tok, vocab = hand_tokenizer
    first_byte_of_e_acute = vocab[B2U["é".encode()[0]]]
    assert tok.decode([vocab["a"], first_byte_of_e_acute]) == "a\ufffd"
    ids = tok.encode("hi<|endoftext|>there")
    assert tok.decode(ids, skip_special_tokens=True) == "hithere"
    with pytest.raises(ValueError, match="id 9999 is not in the vocabulary"):
        tok.decode([9999])


@pytest.mark.parametrize("damage, words", [
    (lambda p: (p / "merges.txt").write_text("#version: 0.2\na b c\n", encoding="utf-8"),
     "line 2: expected two pieces"),
    (lambda p: (p / "merges.txt").write_text("q z\n", encoding="utf-8"), "not in the vocab"),
    (lambda p: (p / "vocab.json").write_text('{"a": 0}', encoding="utf-8"),
     "256 byte pieces are missing"),
    (lambda p: (p / "vocab.json").write_text("[1, 2", encoding="utf-8"), "not JSON"),
    (lambda p: (p / "vocab.json").write_text('{"a": "zero"}', encoding="utf-8"),
     "piece -> id"),
])
def test_damaged_tokenizer_files_are_refused(tmp_path, damage, words):
    _write_tokenizer(tmp_path, HAND_MERGES)
    damage(tmp_path)
    with pytest.raises(ValueError, match=words):
        GPT2Tokenizer.from_dir(str(tmp_path))


def test_merges_file_without_header(tmp_path):
    _write_tokenizer(tmp_path, HAND_MERGES, header=False)
    assert GPT2Tokenizer.from_dir(str(tmp_path)).tokenize(" the") == ["Ġthe"]


def test_without_safetensors_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "safetensors", None)
    (tmp_path / "config.json").write_text('{"model_type": "gpt2", "n_layer": 1, "n_embd": 8, '
                                          '"n_head": 2, "vocab_size": 300}', encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelFilesError, match=re.escape("needs the safetensors package: "
                                                        "pip install -e '.[gpt2]'")):
        GPT2LMHeadModel.from_pretrained(str(tmp_path))


# -- against Hugging Face (the compare extra) ------------------------------------------------

@pytest.fixture(scope="session")
def tiny_gpt2(tmp_path_factory):
    """(directory, tokenizers.Tokenizer, transformers.GPT2LMHeadModel): a tiny GPT-2."""
    for name in ("torch", "transformers", "tokenizers", "safetensors"):
        pytest.importorskip(name)
    from gpt2_fixture import make_gpt2_dir

    path = tmp_path_factory.mktemp("gpt2")
    hf_tok, hf_model = make_gpt2_dir(path)
    return str(path), hf_tok, hf_model


@pytest.fixture(scope="session")
def ours(tiny_gpt2):
    return from_pretrained(tiny_gpt2[0])


def test_ids_equal_tokenizers_and_transformers(tiny_gpt2, ours):
    from transformers import AutoTokenizer

    path, hf_tok, _ = tiny_gpt2
    _, tok = ours
    hf_gpt2 = AutoTokenizer.from_pretrained(path)  # transformers' GPT2Tokenizer(Fast)
    assert GPT2Tokenizer.from_pretrained(path).encoder == tok.encoder
    for text in TEXTS:
        ids = tok.encode(text)
        assert ids == hf_tok.encode(text).ids, text
        assert ids == hf_gpt2(text)["input_ids"], text
        assert tok.tokenize(text) == hf_tok.encode(text).tokens
        assert tok.decode(ids) == text
    assert len(tok) == hf_tok.get_vocab_size() and tok.eos_token_id == hf_gpt2.eos_token_id
    merged = [t for t in tok.tokenize(" ".join(TEXTS)) if len(t) > 1 and t != "<|endoftext|>"]
    assert len(merged) > 20  # the merges were used, not just the bytes


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
       | st.lists(st.sampled_from([" ", "  ", "\n", "\t", "é", "ñ", "🙂", "👍🏽", "2026", "3.14",
                                   "el", " la", "'s", "'ll", "Hola", " mundo", "<|endoftext|>"]),
                  max_size=15).map("".join))
def test_ids_equal_tokenizers_on_any_text(tiny_gpt2, ours, text):
    assert ours[1].encode(text) == tiny_gpt2[1].encode(text).ids


@given(st.lists(st.integers(0, 499), max_size=20))
def test_decode_equals_tokenizers_decode(tiny_gpt2, ours, ids):
    """Any ids, even ones that cut a character's bytes (both write "\ufffd")."""
    assert ours[1].decode(ids) == tiny_gpt2[1].decode(ids, skip_special_tokens=False)


def _hf_logits(hf_model, ids, dtype="float32"):
    import torch

    model = hf_model.double() if dtype == "float64" else hf_model.float()
    with torch.no_grad():
        out = model(torch.tensor(ids)).logits.numpy()
    hf_model.float()
    return out


def test_logits_equal_gpt2lmheadmodel(tiny_gpt2, ours):
    _, _, hf_model = tiny_gpt2
    model, tok = ours
    assert model.lm_head.weight is model.embed.embedding.weight  # tied, as GPT-2's
    texts = ["Hello, I'm a language model,", "¿Dónde está el banco? 🙂 2026",
             "El perro duerme.\nThe cat sleeps.\t\tOk" * 2]
    batch = [tok.encode(t) for t in texts] + [tok.encode(texts[0])[::-1]]
    for ids in [*([i] for i in batch), [batch[0], batch[3]]]:  # and a batch of two rows
        ref = _hf_logits(hf_model, ids)
        with tt.no_grad():
            got = model(tt.tensor(ids)).numpy()
        assert got.dtype == np.float32 and got.shape == ref.shape
        assert np.abs(got - ref).max() <= 1e-5
        assert np.abs(ref).max() > 1  # logits of order 1: the tolerance means something


def test_logits_equal_in_float64(tiny_gpt2):
    path, _, hf_model = tiny_gpt2
    model = GPT2LMHeadModel.from_pretrained(path, dtype=tt.float64)
    ids = [list(range(1, 60, 2))]
    with tt.no_grad():
        got = model(tt.tensor(ids)).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, _hf_logits(hf_model, ids, "float64"), rtol=0, atol=1e-10)


# "<|endoftext|>" alone is GPT-2's unconditional prompt; GPT-2's pad_id is that token too,
# and a prompt that ends with it is still taken whole.
PROMPTS = ["Hello, I'm a language model,", "Hola mundo.", "El gato", "🙂 2026", "They'll",
           "<|endoftext|>", "Hola<|endoftext|>"]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_greedy_generation_equals_transformers(tiny_gpt2, ours, prompt):
    import torch

    _, _, hf_model = tiny_gpt2
    model, tok = ours
    ids = tok.encode(prompt)
    with torch.no_grad():
        hf = hf_model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids)),
                               do_sample=False, max_new_tokens=20,
                               pad_token_id=tok.eos_token_id)[0, len(ids):].tolist()
    # transformers stops after eos (keeping it); ours stops before it
    hf = hf[:hf.index(tok.eos_token_id)] if tok.eos_token_id in hf else hf
    for use_cache in (True, False):
        got = generate(model, tt.tensor([ids]), bos_id=tok.eos_token_id,
                       eos_id=tok.eos_token_id, max_len=20, use_cache=use_cache)[0]
        assert got == hf
    assert len(set(hf)) >= 2  # a continuation that varies: the comparison means something


def test_prompts_of_different_lengths_in_one_call_equal_each_alone(ours):
    model, tok = ours
    prompts = [tok.encode(p) for p in PROMPTS]
    eos = tok.eos_token_id
    together = generate(model, prompts, bos_id=eos, eos_id=eos, max_len=12)
    for ids, got in zip(prompts, together):
        assert got == generate(model, [ids], bos_id=eos, eos_id=eos, max_len=12)[0]


def test_the_kv_cache_changes_nothing(ours):
    model, tok = ours
    ids = tt.tensor([tok.encode("Hola mundo, hello world")])
    eos = tok.eos_token_id
    a, la = generate(model, ids, eos, eos, max_len=30, use_cache=True, return_scores=True)
    b, lb = generate(model, ids, eos, eos, max_len=30, use_cache=False, return_scores=True)
    assert a == b
    np.testing.assert_allclose(np.stack(la[0]), np.stack(lb[0]), atol=1e-5, rtol=0)


def test_the_original_gpt2_files_layout_loads(tiny_gpt2, tmp_path):
    """openai-community/gpt2's model.safetensors names its tensors "h.0.attn.c_attn.weight"
    (no "transformer."), and keeps the causal-mask buffers ("h.0.attn.bias")."""
    from safetensors.numpy import load_file, save_file

    path, _, hf_model = tiny_gpt2
    for name in ("config.json", "vocab.json", "merges.txt"):
        shutil.copy(os.path.join(path, name), tmp_path)
    tensors = {k.removeprefix("transformer."): v
               for k, v in load_file(os.path.join(path, "model.safetensors")).items()}
    n = hf_model.config.n_positions
    for i in range(hf_model.config.n_layer):
        tensors[f"h.{i}.attn.bias"] = np.tril(np.ones((n, n), np.uint8))[None, None]
        tensors[f"h.{i}.attn.masked_bias"] = np.array(-1e4, np.float32)
    save_file(tensors, str(tmp_path / "model.safetensors"))
    model, tok = from_pretrained(str(tmp_path))
    ids = [tok.encode("Hello, I'm a language model,")]
    with tt.no_grad():
        got = model(tt.tensor(ids)).numpy()
    assert np.abs(got - _hf_logits(hf_model, ids)).max() <= 1e-5


# -- files that are not right -----------------------------------------------------------------

def _copy_dir(src, dst, skip=()):
    os.makedirs(dst, exist_ok=True)
    for name in os.listdir(src):
        if name not in skip:
            shutil.copy(os.path.join(src, name), dst)
    return str(dst)


def test_a_pickle_is_refused_and_the_named_conversion_works(tiny_gpt2, tmp_path):
    import torch

    path, _, hf_model = tiny_gpt2
    d = _copy_dir(path, tmp_path / "bin", skip=("model.safetensors",))
    torch.save(hf_model.state_dict(), os.path.join(d, "pytorch_model.bin"))
    with pytest.raises(ModelFilesError) as e:
        GPT2LMHeadModel.from_pretrained(d)
    message = str(e.value)
    assert "\n" not in message and "pytorch_model.bin (a pickle" in message
    command = re.search(r'python -c "(.*)"', message).group(1)
    exec(command, {})  # noqa: S102 (the conversion the message tells the user to run)
    assert os.path.exists(os.path.join(d, "model.safetensors"))
    model, tok = from_pretrained(d)
    ids = [tok.encode("Hola")]
    with tt.no_grad():
        assert np.abs(model(tt.tensor(ids)).numpy() - _hf_logits(hf_model, ids)).max() <= 1e-5


def _edit_config(d, **changes):
    file = os.path.join(d, "config.json")
    with open(file, encoding="utf-8") as f:
        config = json.load(f)
    config.update(changes)
    with open(file, "w", encoding="utf-8") as f:
        json.dump(config, f)


def _add_piece(d, piece, i):
    file = os.path.join(d, "vocab.json")
    with open(file, encoding="utf-8") as f:
        vocab = json.load(f)
    with open(file, "w", encoding="utf-8") as f:
        json.dump({**vocab, piece: i}, f)


@pytest.mark.parametrize("spoil, words", [
    (lambda d: _edit_config(d, model_type="bert"), "model_type is 'bert'"),
    (lambda d: _edit_config(d, n_layer=3), "no tensor 'transformer.h.2.attn.c_attn.weight'"),
    (lambda d: _edit_config(d, n_layer=1), "has tensors a GPT-2 of config.json's size does not"),
    (lambda d: _edit_config(d, n_embd=32), "shape"),
    (lambda d: _edit_config(d, n_head=3), "not divisible by nhead 3"),
    (lambda d: _edit_config(d, activation_function="swish"), "activation_function"),
    (lambda d: _edit_config(d, tie_word_embeddings=False), "tie_word_embeddings"),
    (lambda d: _edit_config(d, vocab_size=100), "wte.weight has shape (500, 64), but"),
    (lambda d: _add_piece(d, "zzz", 600), "vocab.json has id 600 but the model has 500"),
    (lambda d: os.remove(os.path.join(d, "config.json")), "config.json: no such file"),
    (lambda d: Path(d, "config.json").write_text("{"), "not a JSON file"),
    (lambda d: Path(d, "model.safetensors").write_bytes(b"\x08" * 64), "not a safetensors file"),
    (lambda d: os.remove(os.path.join(d, "vocab.json")), "vocab.json: no such file"),
])
def test_damaged_directories_are_one_clear_error(tiny_gpt2, tmp_path, spoil, words):
    d = _copy_dir(tiny_gpt2[0], tmp_path / "model")
    spoil(d)
    with pytest.raises(ModelFilesError, match=re.escape(words)) as e:
        from_pretrained(d)
    assert "\n" not in str(e.value)


# -- the command line ---------------------------------------------------------------------------

def test_cli_generates(tiny_gpt2, ours, capsys):
    path = tiny_gpt2[0]
    model, tok = ours
    assert main(["gpt2", "generate", "--model", path, "Hello, I'm a language model,"]) == 0
    sampled = capsys.readouterr().out
    assert sampled.startswith("Hello, I'm a language model,")
    assert len(sampled) > len("Hello, I'm a language model,") + 5
    assert main(["gpt2", "generate", "--model", path, "Hello, I'm a language model,"]) == 0
    assert capsys.readouterr().out == sampled  # seed 0 by default: the same text
    assert main(["gpt2", "generate", "--model", path, "Hola", "mundo", "--greedy",
                 "--max-new-tokens", "12"]) == 0
    ids = tok.encode("Hola mundo")
    expected = generate(model, tt.tensor([ids]), 0, tok.eos_token_id, max_len=12)[0]
    assert capsys.readouterr().out == tok.decode(ids + expected) + "\n"
    assert main(["gpt2", "generate", "--model", path, "Hola", "--num-return-sequences", "3",
                 "--seed", "1", "--temperature", "1.5", "--top-k", "100", "--top-p", "1"]) == 0
    texts = capsys.readouterr().out.split("\n---\n")
    assert len(texts) == 3 and len(set(texts)) == 3 and all(t.startswith("Hola") for t in texts)


def test_cli_errors_are_one_line_and_exit_2(tiny_gpt2, tmp_path, capsys):
    import torch

    path, _, hf_model = tiny_gpt2
    pickle_only = _copy_dir(path, tmp_path / "bin", skip=("model.safetensors",))
    torch.save(hf_model.state_dict(), os.path.join(pickle_only, "pytorch_model.bin"))
    no_weights = _copy_dir(path, tmp_path / "none", skip=("model.safetensors",))
    cases = [
        ([pickle_only, "Hi"], ("pytorch_model.bin (a pickle, which this project never loads): "
                               "convert it to model.safetensors first")),
        ([str(tmp_path / "missing"), "Hi"], "no such directory"),
        ([os.path.join(path, "config.json"), "Hi"], "not a directory"),
        ([no_weights, "Hi"], "no model.safetensors in it"),
        ([path, "Hi", "--greedy", "--top-p", "0.5"], "--top-p only changes sampling"),
        ([path, "Hi", "--greedy", "--num-return-sequences", "2"], "greedy decoding has one"),
        ([path, "Hi", "--top-p", "0"], "--top-p: expected a float in (0, 1]"),
        ([path, ""], "the prompt is empty"),
        ([path, "Hola " * 70], "reads at most 64 positions"),
    ]
    for args, words in cases:
        assert main(["gpt2", "generate", "--model", *args]) == 2, words
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
    assert main(["gpt2"]) == 2
    assert capsys.readouterr().err == "error: the following arguments are required: generate\n"
    long_prompt = "Hola " * 8
    n = len(GPT2Tokenizer.from_dir(path).encode(long_prompt))
    assert 24 < n < 64  # with the 40 new tokens, past the 64 positions: a warning
    assert main(["gpt2", "generate", "--model", path, long_prompt, "--greedy"]) == 0
    assert f"at most {64 - n} new tokens" in capsys.readouterr().err
