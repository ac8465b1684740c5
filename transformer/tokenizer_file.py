"""The tokenizer's file: a ``BPETokenizer`` as UTF-8 JSON, and back, with every field checked.

    {
      "format": "tinytorch-bpe", "version": 1,
      "pretokenize_pattern": "...", "byte_fallback": true,
      "special_tokens": {"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 3},
      "added_special_tokens": ["<mask>"],          (only when some were added)
      "merges": [["h", "o"], ...],                 (in the order learned: rank 0 first)
      "vocab": {"<pad>": 0, ..., "ho": 371, ...}
    }

The vocabulary is stored although the alphabet and the merges determine it: reading
rebuilds it and checks that both agree, so a hand-edited or damaged file is refused with
what is wrong instead of encoding differently. One merge and one vocab entry per line
keeps the file readable and its diffs small. Writing is atomic (a temporary file, then a
rename). ``BPETokenizer.to_dict / from_dict / save / load`` call these.
"""

from __future__ import annotations

import json
import os
import tempfile

FORMAT = "tinytorch-bpe"
VERSION = 1


def to_dict(tok) -> dict:
    """A JSON-ready description of ``tok``; ``from_dict`` rebuilds an identical tokenizer."""
    d = {
        "format": FORMAT,
        "version": VERSION,
        "pretokenize_pattern": tok.pretokenize_pattern,
        "byte_fallback": True,
        "special_tokens": {t: i for i, t in enumerate(tok.special_tokens)},
        "merges": [[a, b] for a, b in tok.merges],
        "vocab": tok.get_vocab(),
    }
    if tok.added_special_tokens:  # (only then: a tokenizer without them is written as before)
        d["added_special_tokens"] = tok.added_special_tokens
    return d


def _show(x) -> str:
    """File content, quoted briefly (for error messages)."""
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def from_dict(cls, d: dict):
    """A ``cls`` (BPETokenizer) rebuilt from ``to_dict()``'s output, checking it;
    ValueError says what is wrong.

    ``d`` may come from a damaged file, so every field's type is checked before it is
    used (comparing a NumPy array with ``==`` would raise its own, puzzling error).
    """
    show, is_int = _show, _is_int
    found = d.get("format") if isinstance(d, dict) else type(d).__name__
    if not (isinstance(found, str) and found == FORMAT and isinstance(d, dict)):
        raise ValueError(f"not a tinytorch BPE tokenizer (expected \"format\": "
                         f"\"{FORMAT}\", found {show(found)})")
    version = d.get("version")
    if not (is_int(version) and version == VERSION):
        raise ValueError(f"unsupported tokenizer version {show(version)} (this code "
                         f"reads version {VERSION})")
    pattern = d.get("pretokenize_pattern", cls.pretokenize_pattern)
    if not (isinstance(pattern, str) and pattern == cls.pretokenize_pattern):
        raise ValueError("the tokenizer was saved with a different pre-tokenization "
                         "pattern; it would not encode the same way here")
    specials = d.get("special_tokens")
    expected = {t: i for i, t in enumerate(cls.special_tokens)}
    if not (isinstance(specials, dict) and all(is_int(i) for i in specials.values())
            and specials == expected):
        raise ValueError(f"special_tokens must be {expected}, found {show(specials)}")
    vocab, merges = d.get("vocab"), d.get("merges")
    if not isinstance(vocab, dict) or not isinstance(merges, list):
        raise ValueError(  # noqa: TRY004 (bad file content: ValueError, like the rest)
            "\"vocab\" (an object) and \"merges\" (a list) are required")
    if not all(isinstance(t, str) and is_int(i) for t, i in vocab.items()):
        bad = next(t for t, i in vocab.items() if not (isinstance(t, str) and is_int(i)))
        raise ValueError(f"\"vocab\" must map token strings to int ids, found "
                         f"{show(bad)}: {show(vocab[bad])}")
    for pair in merges:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise ValueError(f"\"merges\" must be a list of [left, right] pairs, found "
                             f"{show(pair)}")
        if not all(isinstance(s, str) for s in pair):
            raise ValueError(f"\"merges\" must be a list of [left, right] string pairs, "
                             f"found {show(pair)}")
    added = d.get("added_special_tokens", [])
    if not (isinstance(added, list) and all(isinstance(t, str) for t in added)):
        raise ValueError(f"\"added_special_tokens\" must be a list of strings, found "
                         f"{show(added)}")
    alphabet = [t for t in vocab if len(t) == 1]
    tok = cls(alphabet, [(a, b) for a, b in merges])  # ValueError on a merge of unknown tokens
    tok.add_special_tokens(added)
    rebuilt = tok.get_vocab()
    if vocab != rebuilt:
        bad = next((t for t, i in vocab.items() if rebuilt.get(t) != i), None)
        hint = (f"e.g. {show(bad)} -> {vocab[bad]}, expected {rebuilt.get(bad)!r}"
                if bad is not None else "some tokens are missing")
        raise ValueError(f"\"vocab\" does not match the alphabet and merges ({hint})")
    return tok


def dumps(tok) -> str:
    """The file's text: JSON with one merge and one vocab entry per line."""
    d = to_dict(tok)

    def dump(x):
        return json.dumps(x, ensure_ascii=False)

    lines = ["{"]
    for key in ("format", "version", "pretokenize_pattern", "byte_fallback",
                "special_tokens", "added_special_tokens"):
        if key in d:
            lines.append(f"  {dump(key)}: {dump(d[key])},")
    merges = [f"    {dump(m)}" for m in d["merges"]]
    lines.append('  "merges": [' + ("\n" + ",\n".join(merges) + "\n  ]," if merges else "],"))
    vocab = [f"    {dump(t)}: {i}" for t, i in d["vocab"].items()]
    lines.append('  "vocab": {\n' + ",\n".join(vocab) + "\n  }")
    lines.append("}\n")
    return "\n".join(lines)


def save(tok, path: str | os.PathLike) -> None:
    """Write ``dumps(tok)`` to ``path``: a temporary file next to it, then a rename, so
    that a reader never sees a half-written file."""
    text = dumps(tok)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tokenizer.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def load(cls, path: str | os.PathLike):
    """Read a file written by ``save`` as a ``cls``; ValueError naming the file if it is
    not one."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not a tokenizer file: not UTF-8 text ({e})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a tokenizer file: invalid JSON ({e})") from None
    try:
        return from_dict(cls, d)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
