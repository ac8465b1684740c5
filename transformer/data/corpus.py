"""Reading a parallel corpus: TSV files of ``english<TAB>spanish`` lines.

``load_corpus(path)`` accepts either

- a directory with ``pairs.tsv`` (training) and optionally ``valid.tsv`` / ``test.tsv``
  (the layout of the Tatoeba corpus in ``shared/data/tatoeba-eng-spa``), or
- a single TSV file, from which a seeded random valid and test set are held out.

Malformed lines are reported with the file and line number; an empty corpus is an
error, not a model trained on nothing.

Two things that spreadsheets and editors add are skipped, not trained on:

- a UTF-8 byte order mark (BOM, U+FEFF) at the start of the file (Windows editors write
  one; read as text it would glue an invisible character to the first sentence);
- a header: a *first* line whose two fields are both column names from ``HEADER_WORDS``
  (``english<TAB>spanish``, ``source<TAB>target``, ``en<TAB>es``, ... in any case). A real
  sentence pair never looks like that, and any other line is a pair.
"""

from __future__ import annotations

import os

import numpy as np


class CorpusError(ValueError):
    """A corpus file that cannot be used, with the file, the line and what to fix."""


#: Column names that make a first line a header (compared in lower case).
HEADER_WORDS = frozenset({"english", "spanish", "en", "es", "eng", "spa", "source", "target",
                          "src", "tgt", "input", "output"})


def is_header(fields: list[str]) -> bool:
    """True for a line like ``english<TAB>spanish``: both fields are column names."""
    return len(fields) == 2 and all(f.strip().lower() in HEADER_WORDS for f in fields)


def read_tsv(path) -> list[tuple[str, str]]:
    """(source, target) pairs from a UTF-8 file of ``source<TAB>target`` lines.

    Blank lines, a BOM and a header line are skipped (see the module's docstring); any
    other line must have exactly one tab and two non-empty sides. Extra columns (e.g. an
    attribution column) are refused rather than silently dropped, so a wrong file is
    noticed.
    """
    pairs = []
    if os.path.isdir(path):
        raise CorpusError(f"{path} is a directory; it must be a TSV file of "
                          f"'english<TAB>spanish' lines")
    first = True  # the first non-blank line: the only one that may be a header
    try:
        with open(path, encoding="utf-8-sig") as f:  # "-sig": a BOM at the start is skipped
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\n").rstrip("\r")
                if not line.strip():
                    continue
                parts = line.split("\t")
                header, first = first and is_header(parts), False
                if header:
                    continue
                if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
                    raise CorpusError(
                        f"{path}:{lineno}: expected 'english<TAB>spanish' (one tab, two non-empty "
                        f"sides), got {len(parts)} field(s): {line[:80]!r}")
                pairs.append((parts[0].strip(), parts[1].strip()))
    except FileNotFoundError:
        raise FileNotFoundError(f"corpus file not found: {path}") from None
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path}: not UTF-8 text ({e}); convert the file to UTF-8") from None
    except OSError as e:  # not readable (permissions, a special file)
        raise CorpusError(f"{path}: cannot be read ({e.strerror})") from None
    if not pairs:
        raise CorpusError(f"{path}: the corpus is empty (no 'english<TAB>spanish' lines "
                          f"besides a header)")
    return pairs


def load_corpus(path, seed: int = 0, holdout: int = 1000) -> dict[str, list[tuple[str, str]]]:
    """{'train', 'valid', 'test'} pairs from a corpus directory or a single TSV file."""
    path = os.fspath(path)
    if os.path.isdir(path):
        train_file = os.path.join(path, "pairs.tsv")
        if not os.path.exists(train_file):
            raise CorpusError(f"{path}: a corpus directory needs a pairs.tsv (and optionally "
                              f"valid.tsv, test.tsv)")
        splits = {"train": read_tsv(train_file)}
        for name in ("valid", "test"):
            f = os.path.join(path, f"{name}.tsv")
            if os.path.exists(f):
                splits[name] = read_tsv(f)
        if "valid" in splits and "test" in splits:
            return splits
        return hold_out(splits["train"], seed, holdout, splits)
    return hold_out(read_tsv(path), seed, holdout, {})


def hold_out(pairs, seed, holdout, splits):
    """Take seeded random valid/test sets out of ``pairs`` (or any list, e.g. sentences)
    where ``splits`` lacks them; the rest, in corpus order, is ``splits["train"]``."""
    missing = [n for n in ("valid", "test") if n not in splits]
    n_out = holdout * len(missing)
    if len(pairs) < 2 * n_out:
        n_out = len(pairs) // 10
        holdout = max(n_out // max(len(missing), 1), 1)
    order = np.random.default_rng(seed).permutation(len(pairs))
    taken = 0
    for name in missing:
        splits[name] = [pairs[i] for i in order[taken: taken + holdout]]
        taken += holdout
    splits["train"] = [pairs[i] for i in sorted(order[taken:])]
    if not splits["train"]:
        raise CorpusError("the corpus is too small to hold out valid and test sets")
    return splits
