"""Learning BPE merges: steps 3-4 of training, and the merge step encoding uses too.

tokenizer.py's docstring ("Training") explains the algorithm and why the pair counts are
kept up to date instead of recounted; ``BPETokenizer.train`` counts the words (steps 1-2)
and calls ``learn_merges`` here. tokenizer.py applies the merges (encode, decode).
"""

from __future__ import annotations

import heapq
import sys
from collections import Counter
from itertools import pairwise


def merge_symbols(symbols: list[int], a: int, b: int, new: int) -> list[int]:
    """``symbols`` with every non-overlapping (a, b), scanned left to right, replaced by new."""
    out = []
    i, n = 0, len(symbols)
    while i < n:
        if i + 1 < n and symbols[i] == a and symbols[i + 1] == b:
            out.append(new)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def learn_merges(tok, word_counts: Counter, vocab_size: int, min_frequency: int,
                 show_progress: bool) -> None:
    """Add merges to ``tok`` (a BPETokenizer holding its alphabet) until it has
    ``vocab_size`` tokens or no pair occurs ``min_frequency`` times. ``word_counts``:
    each distinct pre-token (a word with its leading space) and how often it occurs."""
    # Step 3: each distinct word as a list of symbol ids. A character that is not in
    # the alphabet (only a lone surrogate) splits the word: merges never cross it.
    words: list[list[int]] = []
    freqs: list[int] = []
    for word, freq in word_counts.items():
        for piece in tok._pieces(word):
            if isinstance(piece, list) and len(piece) > 1:  # 1 symbol: nothing to merge
                words.append(piece)
                freqs.append(freq)

    # Pair counts, and the index pair -> words containing it.
    pair_counts: dict[tuple[int, int], int] = {}
    where: dict[tuple[int, int], set[int]] = {}
    for w, (symbols, freq) in enumerate(zip(words, freqs)):
        for pair in pairwise(symbols):
            pair_counts[pair] = pair_counts.get(pair, 0) + freq
            where.setdefault(pair, set()).add(w)

    names = tok._id_to_token

    def entry(pair, count):
        # heapq pops the smallest: most frequent first, then the smallest strings.
        return (-count, names[pair[0]], names[pair[1]], pair)

    heap = [entry(p, c) for p, c in pair_counts.items() if c >= min_frequency]
    heapq.heapify(heap)

    # Step 4: merge the most frequent pair until the vocabulary is full.
    while len(tok) < vocab_size and heap:
        neg, _, _, pair = heapq.heappop(heap)
        count = pair_counts.get(pair, 0)
        if count != -neg:   # stale entry: the count dropped since it was pushed
            if count >= min_frequency:
                heapq.heappush(heap, entry(pair, count))
            continue
        a, b = pair
        new = tok._add_merge(names[a], names[b])
        touched = set()     # pairs involving `new`: they did not exist before
        for w in where.pop(pair):
            old = words[w]
            if len(old) < 2:
                continue
            merged = merge_symbols(old, a, b, new)
            if len(merged) == len(old):  # stale index entry: pair no longer here
                continue
            freq = freqs[w]
            # Update only this word's pairs: remove its old pairs, add its new ones.
            for p in pairwise(old):
                pair_counts[p] -= freq
            for p in pairwise(merged):
                pair_counts[p] = pair_counts.get(p, 0) + freq
                if new in p:
                    where.setdefault(p, set()).add(w)
                    touched.add(p)
            words[w] = merged
        del pair_counts[pair]
        # Only pairs containing `new` can have gained count; every other pair only
        # lost some, which the stale-entry check above takes care of.
        for p in touched:
            if pair_counts[p] >= min_frequency:
                heapq.heappush(heap, entry(p, pair_counts[p]))
        if show_progress and len(tok._merges) % 500 == 0:
            print(f"  merge {len(tok._merges):>6}: {names[a]!r} + {names[b]!r} "
                  f"({count}x), vocab {len(tok)}/{vocab_size}", file=sys.stderr)
