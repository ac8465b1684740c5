"""The Tatoeba English-Spanish corpus: download the archive, clean it, split it.

    python -m transformer data tatoeba --out data/tatoeba-eng-spa

writes ``pairs.tsv`` (training), ``valid.tsv`` and ``test.tsv`` (1,000 pairs each) and a
``README.md`` with the credit the license asks for, from manythings.org's ``spa-eng.zip``
(sentence pairs of the Tatoeba Project, tatoeba.org, CC BY 2.0 FR). The steps:

1. **Download** (``download``): the archive goes to ``<out>/.download.part``; an
   interrupted download is resumed with an HTTP ``Range`` request where the server allows
   it, else started again. Its SHA-256 is checked against a pinned value before it is read.
2. **Read** (``read_archive``): ``spa.txt`` holds ``english<TAB>spanish`` lines; newer
   releases add a third column naming the sentences' authors, which is dropped.
3. **Clean** (``clean``): Unicode NFC, zero-width spaces deleted, no-break spaces made
   ordinary spaces, runs of whitespace collapsed, the ends trimmed. Exact repeats of a
   whole pair are removed, the first kept.
4. **Split** (``split_pairs``): among the pairs whose English side has at most 12 words,
   shuffled with ``random.Random(20180513)``, the first 1,000 distinct English sentences
   are the test set and the next 1,000 the validation set. ``pairs.tsv`` is every other
   pair, in the file's order, minus every pair whose English side equals a held-out one
   up to case and punctuation (``english_key``): a test sentence is never trained on.
5. **Write** (``write_corpus``): into a temporary directory, renamed to ``<out>`` at the
   end, so ``<out>`` holds either the whole corpus or nothing new.

This follows, step by step, the recipe in the README of the corpus prepared on the
project's development machines (``shared/data/tatoeba-eng-spa``), so from the same archive
its ``test.tsv`` and ``valid.tsv`` should come out byte for byte the same (checking it
needs the real archive: compare the SHA-256 sums that README lists). That copy then held
out 1,000 more English sentences for a private evaluation set, so its ``pairs.tsv`` has
114,777 pairs where ours should have 116,141.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import sys
import tempfile
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from http.client import HTTPException

from .corpus import CorpusError

#: The 2018-05-13 release, as the TensorFlow translation tutorials download it: its
#: ``spa.txt`` has two columns and 118,964 lines. (manythings.org's own
#: https://www.manythings.org/anki/spa-eng.zip is newer, changes over time and has a
#: third, attribution column: use it with --url and --sha256.)
DEFAULT_URL = "https://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
DEFAULT_SHA256 = "0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f"

SEED = 20180513      # the shuffle that draws the held-out sentences
MAX_WORDS = 12       # held-out English sentences have at most this many words
CREDIT = ("Sentence pairs from the Tatoeba Project (tatoeba.org), CC BY 2.0 FR, compiled by "
          "www.manythings.org/anki.")
FILES = ("pairs.tsv", "valid.tsv", "test.tsv", "README.md")
PART = ".download.part"  # an unfinished (or unused) download, inside <out>


class TatoebaError(CorpusError):
    """The archive cannot be fetched or used: one line that says what to do."""


def sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------- download

def download(url: str, part: str, sha256: str | None, progress: bool = True) -> str:
    """Fetch ``url`` into the file ``part`` and return its SHA-256.

    A ``part`` left by an interrupted run is continued: the request asks for the bytes
    after it (``Range: bytes=N-``); a server that answers 206 sends only those, any other
    answer is the whole file, which replaces it. ``sha256`` (64 hex digits, or None for no
    check) is compared with the finished file, which is deleted if they differ.
    """
    if os.path.exists(part) and sha256 and sha256_of(part) == sha256:
        return sha256  # finished by an earlier run that stopped after the download
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"User-Agent": "tinytorch-transformer"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    place = urllib.parse.urlsplit(url).hostname or url
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # "nothing after byte N": the part is whole already
            return _checked(part, url, sha256)
        raise TatoebaError(f"{url}: HTTP {e.code} {e.reason}; check --url, or download the "
                           f"archive by hand and use --from-archive PATH") from None
    except (urllib.error.URLError, OSError, HTTPException) as e:
        reason = getattr(e, "reason", e)
        raise TatoebaError(f"cannot reach {place}: {reason}; download the archive by hand "
                           f"and use --from-archive PATH") from None
    with response:
        resumed = getattr(response, "status", None) == 206
        start = have if resumed else 0
        length = response.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        got = start
        try:
            with (open(part, "ab" if resumed else "wb") as f,
                  _Progress(total, start, progress, os.path.basename(url)) as bar):
                for block in iter(lambda: response.read(1 << 16), b""):
                    f.write(block)
                    got += len(block)
                    bar.update(len(block))
        except (OSError, HTTPException) as e:
            if got == 0 and os.path.exists(part):
                os.remove(part)  # (nothing to resume)
            raise TatoebaError(f"the download from {place} stopped after {got:,} bytes ({e}); "
                               f"run the same command again to resume it") from None
    if total is not None and got < total:
        raise TatoebaError(f"the download from {place} stopped after {got:,} of {total:,} "
                           f"bytes; run the same command again to resume it")
    return _checked(part, url, sha256)


def _checked(part: str, url: str, sha256: str | None) -> str:
    got = sha256_of(part)
    if sha256 and got != sha256:
        os.remove(part)  # (a resumed download glued to a changed file must not be resumed)
        raise TatoebaError(f"{url}: SHA-256 {got}, expected {sha256}: not the file expected "
                           f"(deleted it); if you trust it, run again with --sha256 {got}")
    return got


class _Progress:
    """tqdm's bar when tqdm is installed, else one line on stderr every 5 seconds."""

    def __init__(self, total, start, show, name):
        self.total, self.done, self.show, self.bar = total, start, show, None
        self.last = time.monotonic()
        if show:
            try:
                from tqdm import tqdm  # noqa: PLC0415 (optional)
                self.bar = tqdm(total=total, initial=start, unit="B", unit_scale=True,
                                desc=name, file=sys.stderr)
            except ImportError:
                pass

    def __enter__(self):
        return self

    def update(self, n):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.show and time.monotonic() - self.last >= 5:
            self.last = time.monotonic()
            of = f" of {self.total:,}" if self.total else ""
            print(f"downloaded {self.done:,}{of} bytes", file=sys.stderr)

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------------------- reading

def read_archive(path: str, name: str | None = None) -> list[tuple[str, str]]:
    """The (english, spanish) lines of the archive's ``spa.txt``, as written (not cleaned).

    A third column (newer releases: the sentences' Tatoeba IDs and authors) is dropped.
    ``name`` is the archive in error messages (default: ``path``), e.g. its URL.
    """
    name = name or path
    try:
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.rsplit("/", 1)[-1] == "spa.txt"]
            if not names:
                held = ", ".join(z.namelist())[:200] or "nothing"
                raise TatoebaError(f"{name} has no spa.txt (it holds {held}); use the "
                                   f"English-Spanish archive of manythings.org/anki")
            text = z.read(names[0]).decode("utf-8-sig")  # (a BOM at the start is dropped)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise TatoebaError(f"{name} is not a whole zip archive ({e}): it was cut short or "
                           f"damaged; download it again") from None
    except UnicodeDecodeError as e:
        raise TatoebaError(f"{name}: spa.txt is not UTF-8 text ({e.reason} at byte "
                           f"{e.start}); download the archive again") from None
    pairs = []
    for lineno, line in enumerate(text.split("\n"), 1):  # (as `wc -l` counts lines)
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) not in (2, 3):
            raise TatoebaError(f"{name}: spa.txt line {lineno}: expected english<TAB>spanish "
                               f"(and maybe an attribution), got {len(fields)} field(s): "
                               f"{line[:80]!r}")
        pairs.append((fields[0], fields[1]))
    return pairs


def clean(text: str) -> str:
    """One side of a pair, cleaned: Unicode NFC (an accent typed as a separate combining
    mark, "e" + U+0301, becomes the one character "é", so equal words are equal strings),
    zero-width spaces deleted, no-break spaces made spaces, whitespace runs collapsed."""
    text = unicodedata.normalize("NFC", text).replace("\u200b", "").replace("\u00a0", " ")
    return " ".join(text.split())


_WORD = re.compile(r"(?:[^\W_]|')+")  # a run of letters, digits and apostrophes


def english_key(english: str) -> str:
    """The sentence up to case and punctuation: "Go away!" and "go away." share a key.

    Lower case, the curly apostrophe as ', and only the runs of letters, digits and
    apostrophes, joined by single spaces: "Don’t go!" -> "don't go".
    """
    return " ".join(_WORD.findall(english.lower().replace("\u2019", "'")))


def clean_pairs(raw: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], dict]:
    """Cleaned pairs without exact repeats (the first kept) or an empty side, in order,
    and how many of each were removed."""
    seen, pairs, counts = set(), [], {"lines": len(raw), "repeats": 0, "empty": 0}
    for english, spanish in raw:
        pair = (clean(english), clean(spanish))
        if not pair[0] or not pair[1]:
            counts["empty"] += 1
        elif pair in seen:
            counts["repeats"] += 1
        else:
            seen.add(pair)
            pairs.append(pair)
    return pairs, counts


def split_pairs(pairs: list[tuple[str, str]], test_size: int = 1000, valid_size: int = 1000,
                seed: int = SEED, max_words: int = MAX_WORDS) -> dict[str, list]:
    """{"pairs", "valid", "test"}: the held-out sets drawn from ``pairs``, and the rest.

    The pairs whose English side has at most ``max_words`` words are shuffled with
    ``random.Random(seed)``; reading the shuffled list from its start, a pair is taken
    when its English key is new, until ``test_size + valid_size`` are taken: the first
    ``test_size`` are the test set, the rest the validation set, in the order drawn. So each
    held-out English sentence appears once, with one of its translations. "pairs" is every
    pair whose key was not taken, in the order of ``pairs``.
    """
    eligible = [p for p in pairs if len(p[0].split()) <= max_words]
    random.Random(seed).shuffle(eligible)
    held, taken = [], set()
    for pair in eligible:
        if len(held) == test_size + valid_size:
            break
        key = english_key(pair[0])
        if key not in taken:
            taken.add(key)
            held.append(pair)
    if len(held) < test_size + valid_size:
        raise TatoebaError(f"only {len(held):,} different English sentences of at most "
                           f"{max_words} words, and --test-size {test_size} + --valid-size "
                           f"{valid_size} need {test_size + valid_size:,}; give smaller sizes")
    train = [p for p in pairs if english_key(p[0]) not in taken]
    return {"pairs": train, "valid": held[test_size:], "test": held[:test_size]}


# ---------------------------------------------------------------------------- writing

def write_corpus(out: str, splits: dict, readme: str) -> None:
    """``pairs.tsv``, ``valid.tsv``, ``test.tsv`` and ``README.md`` in a new directory
    beside ``out``, which then replaces ``out`` (one rename: a reader never sees half)."""
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    new = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.new-", dir=parent)
    try:
        for name in ("pairs", "valid", "test"):
            with open(os.path.join(new, f"{name}.tsv"), "w", encoding="utf-8",
                      newline="\n") as f:
                f.writelines(f"{en}\t{es}\n" for en, es in splits[name])
        with open(os.path.join(new, "README.md"), "w", encoding="utf-8", newline="\n") as f:
            f.write(readme)
        os.chmod(new, 0o755)  # (mkdtemp makes it private to the user)
        if os.path.exists(out):  # only our files and the download: checked by the caller
            old = os.path.join(parent, os.path.basename(new).replace(".new-", ".old-"))
            os.rename(out, old)
            os.rename(new, out)
            shutil.rmtree(old)
        else:
            os.rename(new, out)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise


def readme_text(source: str, sha256: str, checked: bool, counts: dict, splits: dict,
                test_size: int, valid_size: int) -> str:
    """The corpus's README.md: the credit, the source, what was changed, the counts."""
    pinned = sha256 == DEFAULT_SHA256
    check = ("checked" if checked else "the pinned release's" if pinned
             else "not checked")
    same = ("This is the pinned 2018-05-13 release, so with the default sizes `test.tsv` and "
            "`valid.tsv` equal those of the copy prepared on the project's development "
            "machines (`shared/data/tatoeba-eng-spa`); that copy also held out 1,000 more "
            "English sentences for a private evaluation set, so its `pairs.tsv` is smaller."
            if pinned else
            "This is not the pinned 2018-05-13 release, so the sets differ from those of the "
            "copy prepared on the project's development machines.")
    n = {name: f"{len(rows):,}" for name, rows in splits.items()}
    held_keys = test_size + valid_size
    others = len(splits["pairs"]) + held_keys
    dropped = counts["lines"] - counts["repeats"] - counts["empty"] - others
    return f"""# Tatoeba English-Spanish sentence pairs

{CREDIT}

Made by `python -m transformer data tatoeba` (transformer/data/tatoeba.py).

| file | pairs |
| --- | ---: |
| `pairs.tsv` | {n["pairs"]} |
| `valid.tsv` | {n["valid"]} |
| `test.tsv` | {n["test"]} |

UTF-8, one `english<TAB>spanish` pair per line, no header. `pairs.tsv` keeps the source
order, which is roughly by length: shuffle before training (the trainer does).

## Source

- `{source}`, SHA-256 `{sha256}` ({check}).
- {same}

## License

The sentences come from the Tatoeba Project (https://tatoeba.org), under Creative Commons
Attribution 2.0 France (CC BY 2.0 FR); manythings.org/anki compiled the pairs and releases
them under the same license. Wherever this data or material made from it is shared, credit:
"{CREDIT}" and say what was changed (below).

## Changes

1. `spa.txt`, {counts["lines"]:,} lines: the attribution column (if any) dropped; each side
   in Unicode NFC, zero-width spaces deleted, no-break spaces made spaces, runs of
   whitespace collapsed and the ends trimmed. Removed: exact repeats of a whole pair (the
   first kept), {counts["repeats"]:,}; pairs with an empty side, {counts["empty"]:,}.
2. The pairs whose English side has at most {MAX_WORDS} words, shuffled with Python's
   `random.Random({SEED}).shuffle`: the first {held_keys:,} pairs with different English
   keys held out (the key: lower case, the curly apostrophe as ', only the runs of letters,
   digits and apostrophes), the first {test_size:,} as `test.tsv`, the next
   {valid_size:,} as `valid.tsv`, in the order drawn.
3. `pairs.tsv`: every pair whose English key is not held out, in the source's order. The
   {dropped:,} other pairs with a held-out key (other translations of a held-out sentence,
   or the same sentence with other case or punctuation) were discarded.
"""


# ---------------------------------------------------------------------------- the command

def build(out: str, archive: str | None = None, url: str = DEFAULT_URL,
          sha256: str | None = DEFAULT_SHA256, test_size: int = 1000, valid_size: int = 1000,
          progress: bool = True, log=print) -> dict:
    """Download (unless ``archive`` is a local file), clean, split and write the corpus to
    ``out``; ``sha256`` None skips the check. Returns the splits. The caller checks that
    ``out`` holds nothing but an earlier corpus (``FILES``) and ``PART``."""
    made = not os.path.exists(out)
    try:
        if archive is None:
            os.makedirs(out, exist_ok=True)
            path, source = os.path.join(out, PART), url
            log(f"downloading {url}")
            got = download(url, path, sha256, progress)
        else:
            path, source = archive, os.path.abspath(archive)
            got = sha256_of(archive)
            if sha256 and got != sha256:
                raise TatoebaError(f"{archive}: SHA-256 {got}, expected {sha256}: not the file "
                                   f"expected; if you trust it, give --sha256 {got}")
        log(f"archive SHA-256 {got}" + (" (the pinned 2018-05-13 release)"
                                        if got == DEFAULT_SHA256 else ""))
        try:
            raw = read_archive(path, name=source)
        except TatoebaError:
            if archive is None:
                os.remove(path)  # (not to be resumed: the next run downloads it again)
            raise
        pairs, counts = clean_pairs(raw)
        splits = split_pairs(pairs, test_size, valid_size)
    except TatoebaError:
        if made and os.path.isdir(out) and not os.listdir(out):
            os.rmdir(out)  # leave no empty directory behind
        raise
    write_corpus(out, splits, readme_text(source, got, sha256 is not None, counts, splits,
                                          test_size, valid_size))
    log(f"{counts['lines']:,} lines, {counts['repeats']:,} repeats and {counts['empty']:,} "
        f"with an empty side removed -> {out}: pairs.tsv {len(splits['pairs']):,}, "
        f"valid.tsv {len(splits['valid']):,}, test.tsv {len(splits['test']):,}, README.md")
    return splits
