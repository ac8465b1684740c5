"""GPT-2's tokenizer, byte-level BPE, written out by hand (Radford et al., 2019).

Why bytes
---------
A tokenizer built on characters needs an "unknown" token for every character it never
saw (an emoji, a Greek letter). GPT-2 starts instead from the 256 possible *bytes* of
UTF-8: every string is a sequence of bytes, all 256 are in the vocabulary, so every
string encodes and there is no unknown token at all. BPE then glues frequent neighbours
together, as our own tokenizer (transformer/tokenizer.py) does with characters: " the"
and "ing" become single tokens, while "😀" stays four byte tokens.

Three steps turn text into ids:

1. Pre-tokenize with a regex (``GPT2_PATTERN``): cut the text into words, each keeping
   the single space in front of it ("Hello world" -> "Hello", " world"), numbers and
   punctuation apart, and contractions ("'s", "'ll") on their own. Merges never cross
   these boundaries.
2. Spell each word as bytes, each byte shown as one printable character
   (``bytes_to_unicode``): the space is "Ġ", the newline "Ċ", and "é" (two bytes in
   UTF-8) is "Ã©". That is how vocab.json and merges.txt write tokens.
3. Apply the merges of merges.txt by *rank* (``GPT2Tokenizer.bpe``): among the word's
   adjacent pairs take the one learned earliest (lowest line number), glue it everywhere
   in the word, and repeat until no adjacent pair has a merge. Look each piece up in
   vocab.json.

Decoding runs it backwards: ids -> pieces -> characters -> bytes -> UTF-8 text. Ids can
cut a character in the middle (one byte of "é"): those bytes decode to "\ufffd", the
replacement character, as Hugging Face's tokenizer does (``errors="replace"``).

The special token ``<|endoftext|>`` (GPT-2's end of a document) is recognised in the text
before pre-tokenizing, as Hugging Face does, and never split.

    tok = GPT2Tokenizer.from_dir("gpt2")         # vocab.json and merges.txt
    tok.tokenize("Hello, world")                 # ['Hello', ',', 'Ġworld']
    tok.encode("Hello, world")                   # [15496, 11, 995]
    tok.decode([15496, 11, 995])                 # 'Hello, world'
"""

from __future__ import annotations

import json
import math
import os
import re
import unicodedata
from functools import lru_cache
from itertools import pairwise

__all__ = ["GPT2_PATTERN", "GPT2Tokenizer", "bytes_to_unicode", "pretokenize"]

ENDOFTEXT = "<|endoftext|>"

# GPT-2's pre-tokenizing pattern, as OpenAI wrote it (for the `regex` module): contractions,
# then letters, numbers and other symbols (each run with at most one space in front), then
# whitespace. "\s+(?!\S)" takes a run of spaces but leaves the last one, which belongs to
# the next word: "a   b" -> "a", "  ", " b".
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# What `regex` (and Hugging Face's tokenizers) call whitespace: Unicode's White_Space
# property. Python's `re` says \s to four more characters, the separators \x1c-\x1f, so
# the fallback below cannot use \s.
WHITE_SPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000")


def bytes_to_unicode() -> dict[int, str]:
    """Each of the 256 bytes -> one printable character, the table GPT-2's files use.

    Bytes that are printable characters already ("!" to "~", "¡" to "¬", "®" to "ÿ")
    stand for themselves; the other 68 (control characters, the space, ...) are shown as
    the characters from chr(256) on, in order: byte 0 -> "Ā", the space (32) -> "Ġ",
    the newline (10) -> "Ċ". So every token in vocab.json is a visible string with no
    spaces, and merges.txt can separate a pair with a space.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return dict(sorted(table.items()))


def _category_class(prefix: str) -> str:
    """A `re` character class body for every character whose Unicode general category
    starts with ``prefix``: "L" is \\p{L} (Lu, Ll, Lt, Lm, Lo), "N" is \\p{N} (Nd, Nl, No)."""
    ranges, start = [], None
    for code in range(0x110000 + 1):
        inside = code < 0x110000 and unicodedata.category(chr(code)).startswith(prefix)
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            a, b = re.escape(chr(start)), re.escape(chr(code - 1))
            ranges.append(a if start == code - 1 else f"{a}-{b}")
            start = None
    return "".join(ranges)


def re_pattern() -> str:
    """``GPT2_PATTERN`` spelled for Python's `re`, which has no \\p{...}.

    The letter and number classes are listed from ``unicodedata`` (0.2 s to build), so
    they are \\p{L} and \\p{N} exactly, as of Python's Unicode version. Shortcuts are not:
    ``[^\\W\\d_]`` ("a word character but not a digit or _") also takes "²" and "Ⅻ", which
    are numbers (\\p{N}) to GPT-2, and Python's \\s takes \\x1c-\\x1f, which it does not.
    """
    letter, number, space = _category_class("L"), _category_class("N"), WHITE_SPACE
    return (r"'s|'t|'re|'ve|'m|'ll|'d"
            rf"| ?[{letter}]+| ?[{number}]+| ?[^{space}{letter}{number}]+"
            rf"|[{space}]+(?![^{space}])|[{space}]+")


@lru_cache(maxsize=1)
def _compiled():
    """The pre-tokenizer: GPT-2's pattern with `regex` if installed, else ``re_pattern()``.

    The two agree on every character that both Unicode tables know; a letter added to
    Unicode after Python's version (3.11: Unicode 14) is a letter to `regex` and a symbol
    to the fallback. Hugging Face's tokenizers has tables of its own, with the same caveat.
    """
    try:
        import regex  # optional: pip install -e ".[gpt2]"
    except ImportError:
        return re.compile(re_pattern())
    return regex.compile(GPT2_PATTERN)


def pretokenize(text: str) -> list[str]:
    """GPT-2's words: every character lands in one, so ``"".join(pretokenize(s)) == s``.

    >>> pretokenize("I'm here:  2026 👍🏽")
    ['I', "'m", ' here', ':', ' ', ' 2026', ' 👍🏽']
    """
    return _compiled().findall(text)


class GPT2Tokenizer:
    """Byte-level BPE with GPT-2's files: ``encoder`` (vocab.json: piece -> id) and
    ``merges`` (merges.txt: pairs of pieces, most frequent first).

    Names follow Hugging Face's GPT2Tokenizer: ``encoder``/``decoder``, ``bpe_ranks``,
    ``byte_encoder``/``byte_decoder``, ``bpe``, ``tokenize``, ``eos_token_id``.
    """

    def __init__(self, encoder: dict[str, int], merges: list[tuple[str, str]],
                 special_tokens=(ENDOFTEXT,)):
        self.encoder = dict(encoder)
        self.decoder = {i: piece for piece, i in self.encoder.items()}
        if len(self.decoder) != len(self.encoder):
            raise ValueError("vocab: two pieces have the same id")
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {ch: b for b, ch in self.byte_encoder.items()}
        missing = [ch for ch in self.byte_encoder.values() if ch not in self.encoder]
        if missing:  # then some string could not be encoded: no unknown token to fall back on
            raise ValueError(f"vocab: {len(missing)} of the 256 byte pieces are missing "
                             f"(e.g. {missing[0]!r}); a byte-level vocabulary has all of them")
        self.bpe_ranks = {}
        for rank, (a, b) in enumerate(merges):
            if a + b not in self.encoder:
                raise ValueError(f"merge {rank + 1} ({a} {b}) makes {a + b!r}, which is not "
                                 f"in the vocab")
            self.bpe_ranks.setdefault((a, b), rank)
        self.special_tokens = [t for t in special_tokens if t in self.encoder]
        self._special_split = (re.compile("(" + "|".join(map(re.escape, self.special_tokens))
                                          + ")") if self.special_tokens else None)
        self.cache: dict[str, list[str]] = {}

    @classmethod
    def from_dir(cls, path: str) -> GPT2Tokenizer:
        """Read ``path/vocab.json`` and ``path/merges.txt`` (Hugging Face's GPT-2 layout)."""
        return cls.from_files(os.path.join(path, "vocab.json"), os.path.join(path, "merges.txt"))

    @classmethod
    def from_pretrained(cls, path: str) -> GPT2Tokenizer:
        """Hugging Face's name for ``from_dir`` (a local directory only: no download)."""
        return cls.from_dir(path)

    @classmethod
    def from_files(cls, vocab_file: str, merges_file: str) -> GPT2Tokenizer:
        with open(vocab_file, encoding="utf-8") as f:
            try:
                encoder = json.load(f)
            except json.JSONDecodeError as e:
                raise ValueError(f"{vocab_file}: not JSON ({e.msg}, line {e.lineno})") from None
        if not (isinstance(encoder, dict)
                and all(isinstance(i, int) and not isinstance(i, bool) for i in encoder.values())):
            raise ValueError(f"{vocab_file}: expected a JSON object of piece -> id")
        merges = []
        with open(merges_file, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.rstrip("\r\n")
                if (number == 1 and line.startswith("#version")) or not line:
                    continue  # the header, and the empty last line
                pair = line.split(" ")
                if len(pair) != 2 or not all(pair):
                    raise ValueError(f"{merges_file} line {number}: expected two pieces "
                                     f"separated by one space, got {line[:40]!r}")
                merges.append((pair[0], pair[1]))
        try:
            return cls(encoder, merges)
        except ValueError as e:
            raise ValueError(f"{os.path.dirname(vocab_file) or '.'}: {e}") from None

    # -- encoding -----------------------------------------------------------------------------
    def bpe(self, word: str) -> list[str]:
        """One pre-tokenized word, in byte characters ("Ġworld") -> its pieces.

        The classic loop: find the adjacent pair with the lowest rank; merge every
        occurrence of it, left to right; repeat until no pair has a rank.
        """
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            pairs = set(pairwise(parts))
            first, second = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, math.inf))
            if (first, second) not in self.bpe_ranks:  # no pair left to merge
                break
            merged, i = [], 0
            while i < len(parts):
                if i + 1 < len(parts) and parts[i] == first and parts[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        if len(self.cache) > 100_000:  # a long text of all-different words: start again
            self.cache.clear()
        self.cache[word] = parts
        return parts

    def tokenize(self, text: str) -> list[str]:
        """text -> its pieces, as vocab.json writes them ("Ġworld"); special tokens whole."""
        pieces = []
        chunks = self._special_split.split(text) if self._special_split else [text]
        for k, chunk in enumerate(chunks):
            if k % 2:  # re.split puts the separators (the special tokens) at odd positions
                pieces.append(chunk)
                continue
            for word in pretokenize(chunk):
                # a lone surrogate ("\ud800") has no UTF-8 bytes: UnicodeEncodeError here
                pieces += self.bpe("".join(self.byte_encoder[b] for b in word.encode("utf-8")))
        return pieces

    def encode(self, text: str) -> list[int]:
        """text -> token ids. Every string encodes: all 256 bytes are pieces."""
        return [self.encoder[p] for p in self.tokenize(text)]

    def __call__(self, text: str) -> list[int]:
        return self.encode(text)

    # -- decoding -----------------------------------------------------------------------------
    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        """token ids -> text; bytes that do not make whole UTF-8 characters become "\ufffd"."""
        out, pending = [], bytearray()
        for i in ids:
            i = int(i)
            if i not in self.decoder:
                raise ValueError(f"decode: id {i} is not in the vocabulary (0 to "
                                 f"{len(self.encoder) - 1})")
            piece = self.decoder[i]
            if piece in self.special_tokens:
                out.append(pending.decode("utf-8", errors="replace"))
                pending.clear()
                if not skip_special_tokens:
                    out.append(piece)
            else:
                pending += bytes(self.byte_decoder[ch] for ch in piece)
        out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)

    def convert_tokens_to_ids(self, tokens: list[str]) -> list[int]:
        return [self.encoder[t] for t in tokens]

    def convert_ids_to_tokens(self, ids) -> list[str]:
        return [self.decoder[int(i)] for i in ids]

    # -- sizes and special ids ----------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        return len(self.encoder)

    def __len__(self) -> int:
        return len(self.encoder)

    @property
    def eos_token(self) -> str | None:
        return ENDOFTEXT if ENDOFTEXT in self.encoder else None

    @property
    def eos_token_id(self) -> int | None:
        return self.encoder.get(ENDOFTEXT)

    def __repr__(self) -> str:
        return (f"GPT2Tokenizer(vocab_size={self.vocab_size}, merges={len(self.bpe_ranks)}, "
                f"special_tokens={self.special_tokens})")
