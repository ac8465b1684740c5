"""A byte-pair-encoding (BPE) tokenizer, written out so you can read how it works.

Why tokenize at all
-------------------
The model sees integers, not text. Characters make sequences long and leave the model to
learn spelling; whole words make the vocabulary huge and leave every new word unknown.
BPE sits between them: it starts from characters and *learns* which neighbours to glue
together, so that frequent words ("hola", " the") become one token while a rare word is
spelled from a few pieces ("Des" "afortunadamente") and nothing is ever out of vocabulary.

Training (Sennrich et al., 2016)
--------------------------------
1. Pre-tokenize: cut the text into words with a regex (``pretokenize``). A word keeps
   the space before it, GPT-2 style: "Hola mundo." -> ["Hola", " mundo", "."], so
   " mundo" (mid-sentence) and "mundo" (first word) are different words. Merges never
   cross a word boundary, which keeps the search small and the tokens meaningful.
2. Count the words once (a ``Counter``): 230k sentences have only ~40k distinct words,
   and all the work below happens per distinct word, weighted by its count.
3. Spell every word as a list of characters: the starting symbols.
4. Repeat until the vocabulary is full: count every adjacent pair of symbols (weighted
   by word frequency), take the most frequent pair, say ("h", "o"), add the new symbol
   "ho" to the vocabulary, record the *merge* ("h", "o") -> "ho", and rewrite every word
   that contains the pair. Ties are broken by the smallest (left, right) pair in string
   order, so training is deterministic.

Done naively, step 4 recounts every pair of every word for each merge. Here the pair
counts are kept up to date instead: an index ``pair -> words that contain it`` says
which words a merge touches, only those words are rewritten, and only their pairs are
recounted. The most frequent pair comes from a heap with lazy invalidation (a popped
entry whose count is out of date is pushed back with the true count). The simpler
``max()`` over all pair counts at every merge scans 25-40k live pairs ~7,600 times: on
the Tatoeba pairs (vocab 8000) it took over two minutes, the heap about 4 seconds.
Steps 3-4 are ``learn_merges`` in tokenizer_train.py.

Encoding
--------
Pre-tokenize the same way, then for each word apply the learned merges *in the order
they were learned*: among the word's adjacent pairs pick the one with the lowest merge
rank, merge it everywhere in the word, repeat until no pair has a merge. Words repeat a
lot, so each word's ids are cached.

Design choice: characters, with byte fallback
---------------------------------------------
GPT-2 works on UTF-8 *bytes* (shown through a byte-to-unicode table), so "ñ" starts as
two symbols "Ã±" and "¿Dónde" reads "Â¿DÃ³nde": complete, but hard on a learner. Here
the base symbols are the *characters* seen in training (about 110 for English+Spanish),
so tokens read as the text they stand for: "¿", " está", "ñ". A character never seen in
training (an emoji, a Greek letter) is written as its UTF-8 bytes, with 256 byte tokens
``<0x00>`` ... ``<0xFF>`` that are always in the vocabulary (SentencePiece calls this
"byte fallback"). Merges never touch byte tokens. So any string at all, even an empty
one, one with tabs, no-break spaces or combining accents, survives
``decode(encode(s)) == s``; ``<unk>`` exists for the model's sake but ``encode`` never
produces it.

Ids: 0 ``<pad>``, 1 ``<bos>``, 2 ``<eos>``, 3 ``<unk>``, 4..259 the bytes, then the
characters in code-point order, then one id per merge in the order learned, then any
special tokens added later (``add_special_tokens``: a masked language model's ``<mask>``),
so that adding one moves no other id. Special tokens are never produced from text: the
string "<pad>" in a sentence is just the characters "<", "pad", ">".

>>> tok = BPETokenizer.train(["hola mundo"] * 50 + ["hello world"] * 50, vocab_size=300)
>>> tok.tokenize("hola mundo")
['hola', ' mundo']
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import pairwise

from . import tokenizer_file
from .tokenizer_train import learn_merges, merge_symbols

__all__ = ["PRETOKENIZE_PATTERN", "BPETokenizer", "pretokenize"]

# GPT-2's pattern, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
# spelled for Python's `re`, which has no \p{L}: a letter is a word character that is not
# a digit or "_" ([^\W\d_]); "_" is neither letter nor digit, so it joins the punctuation.
PRETOKENIZE_PATTERN = (
    r"'(?:s|t|re|ve|m|ll|d)"      # English contractions: "it's" -> "it", "'s"
    r"| ?[^\W\d_]+"               # a run of letters, with at most one space in front
    r"| ?\d+"                     # a run of digits
    r"| ?(?:[^\s\w]|_)+"          # a run of punctuation / symbols ("¿", "...", "😀")
    r"|\s+(?!\S)"                 # whitespace, leaving the last space for the next word
    r"|\s+"                       # whitespace at the very end
)
_PRETOKENIZE = re.compile(PRETOKENIZE_PATTERN)

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
N_SPECIAL = len(SPECIAL_TOKENS)
BYTE_OFFSET = N_SPECIAL          # byte b has id BYTE_OFFSET + b
N_BYTES = 256
_BYTE_TOKENS = tuple(f"<0x{b:02X}>" for b in range(N_BYTES))
_CACHE_LIMIT = 200_000           # words cached by encode before the cache is cleared


def pretokenize(text: str) -> list[str]:
    """Cut ``text`` into words, each keeping the single space in front of it.

    Every character lands in exactly one word, so ``"".join(pretokenize(s)) == s``.

    >>> pretokenize("¿Dónde está  el banco?")
    ['¿', 'Dónde', ' está', ' ', ' el', ' banco', '?']
    """
    return _PRETOKENIZE.findall(text)


def _utf8(ch: str) -> bytes:
    # "surrogatepass" lets even a lone surrogate ("\ud800", legal in a Python str) through.
    return ch.encode("utf-8", "surrogatepass")


def _is_surrogate(ch: str) -> bool:
    return "\ud800" <= ch <= "\udfff"


class BPETokenizer:
    """Byte-pair encoding over characters, with byte fallback (see the module docstring).

    Build one with ``BPETokenizer.train(texts, vocab_size)`` or ``BPETokenizer.load(path)``.
    """

    special_tokens = SPECIAL_TOKENS
    pretokenize_pattern = PRETOKENIZE_PATTERN
    pad_id, bos_id, eos_id, unk_id = 0, 1, 2, 3
    pad_token, bos_token, eos_token, unk_token = SPECIAL_TOKENS
    mask_token = "<mask>"

    def __init__(self, alphabet: Iterable[str], merges: Sequence[tuple[str, str]]):
        """The vocabulary is rebuilt from ``alphabet`` (single characters) and ``merges``.

        Prefer ``train``/``load``/``from_dict``; this is what they call.
        """
        self._id_to_token: list[str] = list(SPECIAL_TOKENS) + list(_BYTE_TOKENS)
        self._char_to_id: dict[str, int] = {}
        for ch in sorted(set(alphabet)):
            if len(ch) != 1 or _is_surrogate(ch):
                raise ValueError(f"alphabet entry {ch!r} is not a single (non-surrogate) "
                                 "character")
            self._char_to_id[ch] = len(self._id_to_token)
            self._id_to_token.append(ch)
        self._token_to_id: dict[str, int] = {t: i for i, t in enumerate(self._id_to_token)}
        # (left id, right id) -> (rank, merged id); rank = position in the merge list.
        self._ranks: dict[tuple[int, int], tuple[int, int]] = {}
        self._merges: list[tuple[str, str]] = []
        for left, right in merges:
            self._add_merge(left, right)
        self._added: list[str] = []  # special tokens appended after the merges
        self._cache: dict[str, list[int]] = {}

    def add_special_tokens(self, tokens: Sequence[str]) -> list[int]:
        """Append special tokens (``["<mask>"]`` for a masked language model) at the end
        of the vocabulary; return their ids. No other id moves. Like ``<pad>``, they are
        never produced by ``encode`` and ``decode`` leaves them out; ``to_dict`` keeps them.
        """
        if isinstance(tokens, str):
            raise TypeError("add_special_tokens expects a list of strings, e.g. ['<mask>']")
        ids = []
        for token in tokens:
            if not isinstance(token, str) or not token:
                raise ValueError(f"add_special_tokens: {token!r} is not a non-empty string")
            if token in self._token_to_id:
                raise ValueError(f"add_special_tokens: {token!r} is a token already "
                                 f"(id {self._token_to_id[token]})")
            self._token_to_id[token] = len(self._id_to_token)
            self._id_to_token.append(token)
            self._added.append(token)
            ids.append(self._token_to_id[token])
        return ids

    @property
    def mask_id(self) -> int | None:
        """The id of ``<mask>`` if it was added (add_special_tokens), else None."""
        return self._token_to_id[self.mask_token] if self.mask_token in self._added else None

    def _add_merge(self, left: str, right: str) -> int:
        """Record merge (left, right); return the merged token's id (new, or existing)."""
        for part in (left, right):
            i = self._token_to_id.get(part)
            if i is None or i < N_SPECIAL + N_BYTES:
                raise ValueError(f"merge ({left!r}, {right!r}): {part!r} is not a character "
                                 "or an earlier merge's result")
        a, b = self._token_to_id[left], self._token_to_id[right]
        if (a, b) in self._ranks:
            raise ValueError(f"merge ({left!r}, {right!r}) appears twice")
        merged = left + right
        # Two merges can spell the same string: ("a", "bc") and ("ab", "c") both make
        # "abc". The string gets one id; both merges lead to it.
        new = self._token_to_id.get(merged)
        if new is None:
            new = len(self._id_to_token)
            self._id_to_token.append(merged)
            self._token_to_id[merged] = new
        self._ranks[(a, b)] = (len(self._merges), new)
        self._merges.append((left, right))
        return new

    # ------------------------------------------------------------------ training

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int, min_frequency: int = 2,
              show_progress: bool = False) -> BPETokenizer:
        """Learn a vocabulary of ``vocab_size`` tokens from ``texts`` (any iterable of str).

        For a translator, pass both languages together (a joint vocabulary: one embedding
        table, shared subwords like " no", names and numbers). Merging stops early when no
        pair occurs at least ``min_frequency`` times, so the vocabulary can come out
        smaller than asked. ``vocab_size`` counts everything: 4 special tokens, 256 byte
        tokens, one token per distinct character in ``texts``, then the merges.
        """
        if isinstance(texts, (str, bytes)):
            raise TypeError("BPETokenizer.train: `texts` must be an iterable of strings, not "
                            "a single string (iterating it would give characters); pass "
                            "[text] or a list of sentences")
        if not isinstance(vocab_size, int) or isinstance(vocab_size, bool):
            raise TypeError(f"BPETokenizer.train: vocab_size must be an int, got "
                            f"{vocab_size!r}")
        if not isinstance(min_frequency, int) or min_frequency < 1:
            raise ValueError(f"BPETokenizer.train: min_frequency must be an int >= 1, got "
                             f"{min_frequency!r}")
        start = time.perf_counter()

        # Step 1-2: count distinct words (with their leading space).
        word_counts: Counter[str] = Counter()
        for n_texts, text in enumerate(texts, 1):
            if not isinstance(text, str):
                raise TypeError(f"BPETokenizer.train: text #{n_texts} is "
                                f"{type(text).__name__}, expected str")
            word_counts.update(_PRETOKENIZE.findall(text))
        if not word_counts:
            raise ValueError("BPETokenizer.train: the corpus is empty (no text, or only "
                             "empty strings); pass an iterable of non-empty sentences, e.g. "
                             "both columns of the sentence pairs")

        # The alphabet: every character seen (lone surrogates excepted: they go to bytes).
        alphabet = sorted({ch for word in word_counts for ch in word if not _is_surrogate(ch)})
        tok = cls(alphabet, [])
        base = len(tok)
        if vocab_size < base:
            raise ValueError(
                f"BPETokenizer.train: vocab_size={vocab_size} is smaller than the base "
                f"vocabulary of {base} tokens ({N_SPECIAL} special + {N_BYTES} byte + "
                f"{len(alphabet)} distinct characters in the corpus); use vocab_size >= "
                f"{base}, in practice a few thousand")

        learn_merges(tok, word_counts, vocab_size, min_frequency, show_progress)
        if show_progress:
            print(f"BPE: {len(tok)} tokens ({len(tok._merges)} merges) from "
                  f"{len(word_counts)} distinct words in {time.perf_counter() - start:.1f}s",
                  file=sys.stderr)
        return tok

    # ------------------------------------------------------------------ encoding

    def _pieces(self, word: str) -> list:
        """Split ``word`` into lists of character ids, and bytes for unknown characters."""
        pieces, run = [], []
        for ch in word:
            i = self._char_to_id.get(ch)
            if i is not None:
                run.append(i)
            else:
                if run:
                    pieces.append(run)
                    run = []
                pieces.append(_utf8(ch))
        if run:
            pieces.append(run)
        return pieces

    def _bpe(self, symbols: list[int]) -> list[int]:
        """Apply merges to one run of symbols, lowest rank (= learned earliest) first."""
        ranks = self._ranks
        while len(symbols) > 1:
            best = None
            for pair in pairwise(symbols):
                r = ranks.get(pair)
                if r is not None and (best is None or r[0] < best[0]):
                    best, best_pair = r, pair
            if best is None:
                break
            symbols = merge_symbols(symbols, best_pair[0], best_pair[1], best[1])
        return symbols

    def _encode_word(self, word: str) -> list[int]:
        ids = self._cache.get(word)
        if ids is None:
            ids = []
            for piece in self._pieces(word):
                if isinstance(piece, bytes):  # byte fallback
                    ids.extend(BYTE_OFFSET + b for b in piece)
                else:
                    ids.extend(self._bpe(piece))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[word] = ids
        return ids

    def encode(self, text: str, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids of ``text``, optionally wrapped in ``<bos>`` ... ``<eos>``."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects a str, got {type(text).__name__}")
        ids = [self.bos_id] if add_bos else []
        for word in _PRETOKENIZE.findall(text):
            ids.extend(self._encode_word(word))
        if add_eos:
            ids.append(self.eos_id)
        return ids

    def encode_batch(self, texts: Iterable[str], add_bos: bool = False,
                     add_eos: bool = False) -> list[list[int]]:
        """``encode`` for each text (no padding: sequences keep their own lengths)."""
        if isinstance(texts, str):
            raise TypeError("encode_batch expects an iterable of strings, not a single str; "
                            "use encode(text)")
        return [self.encode(t, add_bos=add_bos, add_eos=add_eos) for t in texts]

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` as strings, to look at: ``['¿', 'D', 'ónde', ' está']``."""
        return [self._id_to_token[i] for i in self.encode(text)]

    def decode(self, ids: Iterable[int], skip_special: bool = True) -> str:
        """The text for ``ids``. With ``skip_special``, ``<pad>``/``<bos>``/``<eos>`` (and
        added special tokens, such as ``<mask>``) vanish.

        Consecutive byte tokens are joined and decoded as UTF-8; bytes that are not valid
        UTF-8 (a model can generate anything) become U+FFFD instead of raising.
        ``<unk>`` is written as "<unk>".
        """
        out: list[str] = []
        pending = bytearray()
        n = len(self._id_to_token)
        for i in ids:
            i = int(i)  # accepts numpy integers
            if not 0 <= i < n:
                raise ValueError(f"decode: id {i} is out of range for a vocabulary of {n} "
                                 "tokens (was the model built with another tokenizer?)")
            if BYTE_OFFSET <= i < BYTE_OFFSET + N_BYTES:
                pending.append(i - BYTE_OFFSET)
                continue
            if pending:
                out.append(self._decode_bytes(pending))
                pending.clear()
            if skip_special and (i in (self.pad_id, self.bos_id, self.eos_id)
                                 or self._id_to_token[i] in self._added):
                continue
            out.append(self._id_to_token[i])
        if pending:
            out.append(self._decode_bytes(pending))
        return "".join(out)

    @staticmethod
    def _decode_bytes(data: bytearray) -> str:
        try:
            return data.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:
            return data.decode("utf-8", "replace")

    # ------------------------------------------------------------------ vocabulary

    @property
    def vocab_size(self) -> int:
        """Number of token ids: the embedding table needs this many rows."""
        return len(self._id_to_token)

    def __len__(self) -> int:
        return len(self._id_to_token)

    def id_to_token(self, i: int) -> str:
        """The string of token ``i`` (``"<0xF0>"`` for a byte token)."""
        i = int(i)
        if not 0 <= i < len(self._id_to_token):
            raise IndexError(f"token id {i} out of range [0, {len(self._id_to_token)})")
        return self._id_to_token[i]

    def token_to_id(self, token: str) -> int:
        """The id of the token spelled ``token``; KeyError if it is not in the vocabulary."""
        try:
            return self._token_to_id[token]
        except KeyError:
            raise KeyError(f"{token!r} is not a token of this vocabulary (to turn text into "
                           "ids use encode())") from None

    @property
    def merges(self) -> list[tuple[str, str]]:
        """The learned merges, in order (rank 0 first)."""
        return list(self._merges)

    def get_vocab(self) -> dict[str, int]:
        """A copy of the token -> id mapping."""
        return dict(self._token_to_id)

    def __repr__(self) -> str:
        return (f"BPETokenizer(vocab_size={len(self)}, characters={len(self._char_to_id)}, "
                f"merges={len(self._merges)})")

    # ------------------------------------------------------------------ saving
    # The file format (JSON, every field checked on reading) is tokenizer_file.py's job.

    @property
    def added_special_tokens(self) -> list[str]:
        """The special tokens added after training (``add_special_tokens``), in order."""
        return list(self._added)

    def to_dict(self) -> dict:
        """A JSON-ready description; ``from_dict`` rebuilds an identical tokenizer."""
        return tokenizer_file.to_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> BPETokenizer:
        """Rebuild from ``to_dict()``'s output, checking it; ValueError says what is wrong."""
        return tokenizer_file.from_dict(cls, d)

    def save(self, path: str | os.PathLike) -> None:
        """Write the tokenizer as UTF-8 JSON, one merge and one vocab entry per line (atomic)."""
        tokenizer_file.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> BPETokenizer:
        """Read a file written by ``save``; ValueError naming the file if it is not one."""
        return tokenizer_file.load(cls, path)
