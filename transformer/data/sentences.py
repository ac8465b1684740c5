"""Sentences for the language models: one per line of a text file, or one column of a TSV.

``load_sentences(path, column, seed)`` gives {"train", "valid", "test"} lists of
sentences from

- ``None``: the built-in English-Spanish corpus (synthetic.py), its Spanish side by
  default (columns ``english``/0 and ``spanish``/1);
- a text file, one sentence per line (a file whose first line holds no tab);
- a TSV file (a tab in the first line): the column ``column``, by 0-based index or by
  the name in a header line; by default the column named spanish/es/spa, else the second
  (the Spanish side of an ``english<TAB>spanish`` file). A first line that holds the
  name asked for (or only column names such as english, spanish) is a header. A
  header-less two-column file also answers to english/en/eng (0) and spanish/es/spa (1);
- a corpus directory with ``pairs.tsv`` and optionally ``valid.tsv`` / ``test.tsv`` (the
  layout of the Tatoeba corpus), each file read as a TSV.

Valid and test sentences come from the directory's files where it has them, else they
are held out of the training sentences, seeded (corpus.hold_out). Blank lines (and blank
cells) are skipped; a file with no sentence at all is a CorpusError.
"""

from __future__ import annotations

import os

from .corpus import HEADER_WORDS, CorpusError, hold_out

#: Column names that mean the English / the Spanish side.
ENGLISH_NAMES = ("english", "en", "eng")
SPANISH_NAMES = ("spanish", "es", "spa")


def load_sentences(path, column: str | None = None, seed: int = 0,
                   holdout: int = 1000) -> dict[str, list[str]]:
    """{"train", "valid", "test"} sentences from ``path`` (see the module docstring)."""
    if path is None:
        return _built_in(column, seed)
    path = os.fspath(path)
    if os.path.isdir(path):
        train_file = os.path.join(path, "pairs.tsv")
        if not os.path.exists(train_file):
            raise CorpusError(f"{path}: a corpus directory needs a pairs.tsv (and optionally "
                              f"valid.tsv, test.tsv)")
        splits = {"train": read_sentences(train_file, column)}
        for name in ("valid", "test"):
            f = os.path.join(path, f"{name}.tsv")
            if os.path.exists(f):
                splits[name] = read_sentences(f, column)
        if "valid" in splits and "test" in splits:
            return splits
        return hold_out(splits["train"], seed, holdout, splits)
    return hold_out(read_sentences(path, column), seed, holdout, {})


def _built_in(column, seed) -> dict[str, list[str]]:
    from .synthetic import make_splits  # noqa: PLC0415

    side = 1 if column is None else _named_side(column)
    if side is None:
        raise CorpusError(f"--column {column}: the built-in corpus has two columns, english "
                          f"(0) and spanish (1)")
    return {name: [pair[side] for pair in pairs] for name, pairs in make_splits(seed).items()}


def _named_side(column: str) -> int | None:
    """0 or 1 for the names and indexes of an english<TAB>spanish file's columns."""
    name = column.strip().lower()
    if name in ("0",) + ENGLISH_NAMES:
        return 0
    if name in ("1",) + SPANISH_NAMES:
        return 1
    return None


def read_sentences(path, column: str | None = None) -> list[str]:
    """The sentences of a text file (one per line) or of one column of a TSV file."""
    try:
        with open(path, encoding="utf-8-sig") as f:  # "-sig": a BOM at the start is skipped
            lines = [(n, line.rstrip("\n").rstrip("\r")) for n, line in enumerate(f, 1)]
    except UnicodeDecodeError as e:
        raise CorpusError(f"{path}: not UTF-8 text ({e}); convert the file to UTF-8") from None
    except OSError as e:  # not readable (permissions, a special file)
        raise CorpusError(f"{path}: cannot be read ({e.strerror})") from None
    lines = [(n, line) for n, line in lines if line.strip()]
    if not lines:
        raise CorpusError(f"{path}: no sentences in it (every line is blank)")
    if "\t" not in lines[0][1]:
        if column is not None:
            raise CorpusError(f"--column {column}: {path} is a text file (no tab in its first "
                              f"line), one sentence per line; leave --column out")
        return [line.strip() for _, line in lines]
    return _tsv_column(path, lines, column)


def _tsv_column(path, lines, column) -> list[str]:
    """The non-blank cells of one column of a TSV's lines [(line number, text)]."""
    first = lines[0][1].split("\t")
    names = [f.strip().lower() for f in first]
    wanted = None if column is None else column.strip().lower()
    # The first line is a header if it names the column asked for, or if every field is a
    # column name (english<TAB>spanish, as corpus.py reads them).
    header = wanted in names or all(name in HEADER_WORDS for name in names)
    if column is None:                      # the Spanish side
        index = next((i for i, name in enumerate(names) if header and name in SPANISH_NAMES),
                     1)
    elif wanted.isdigit():
        index = int(wanted)
    elif wanted in names:
        index = names.index(wanted)
    elif not header and len(first) == 2 and _named_side(column) is not None:
        index = _named_side(column)
    else:
        has = f"its first line names {', '.join(first)}" if header else "no header line"
        raise CorpusError(f"--column {column}: {path} has no column of that name ({has}); "
                          f"give a 0-based column index, e.g. --column 1")
    sentences = []
    for n, line in lines[1:] if header else lines:
        cells = line.split("\t")
        if index >= len(cells):
            raise CorpusError(f"{path}:{n}: {len(cells)} column(s), but --column "
                              f"{column if column is not None else index} needs {index + 1} "
                              f"(columns count from 0): {line[:80]!r}")
        if cells[index].strip():
            sentences.append(cells[index].strip())
    if not sentences:
        raise CorpusError(f"{path}: column {index} holds no sentences (every cell is blank)")
    return sentences
