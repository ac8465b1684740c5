"""``python -m transformer data``: download and prepare a real corpus.

    python -m transformer data tatoeba --out data/tatoeba-eng-spa
    python -m transformer data tatoeba --from-archive ~/Downloads/spa-eng.zip
    python -m transformer train --data data/tatoeba-eng-spa --size base ...

``data tatoeba`` writes ``pairs.tsv``, ``valid.tsv``, ``test.tsv`` and a ``README.md``
with the license's credit (transformer/data/tatoeba.py says how). By default it downloads
the pinned 2018 archive and checks its SHA-256; ``--url`` fetches another one (say which
with ``--sha256``, or skip the check with ``--no-verify``). Mistakes, a wrong checksum, a
damaged archive and an unreachable server are each one line and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from .cli_args import UsageError, directory, existing_file, positive_int

DEFAULT_OUT = "data/tatoeba-eng-spa"


@dataclass(frozen=True)
class Text:
    """A rule (as in cli_args.py) for text of a given form: ``test`` says if it is one."""

    name: str  # the form in words, e.g. "64 hex digits"
    test: Callable[[str], bool]

    def describe(self) -> str:
        return self.name

    def __call__(self, text: str) -> str:
        if not self.test(text):
            raise argparse.ArgumentTypeError(f"expected {self.name}, got {text!r}")
        return text


checksum = Text("64 hex digits (as sha256sum prints them) or 'none'",
                lambda t: t.lower() == "none" or re.fullmatch(r"[0-9a-fA-F]{64}", t) is not None)
url = Text("a URL starting with https://, http://, ftp:// or file://",
           lambda t: urllib.parse.urlsplit(t).scheme in ("https", "http", "ftp", "file"))


def _check_out(out: str, overwrite: bool) -> None:
    """``out`` may be new, empty, or hold a corpus of this command (with --overwrite) and a
    download: the corpus replaces the whole directory, so nothing else may be in it."""
    from .data.tatoeba import FILES, PART  # noqa: PLC0415

    if not os.path.isdir(out):
        return
    there = sorted(os.listdir(out))
    others = [n for n in there if n not in FILES and n != PART]
    if others:
        raise UsageError(f"--out {out} holds other files ({', '.join(others[:3])}); the corpus "
                         f"replaces the whole directory: choose a new or empty one")
    corpus = [n for n in there if n in FILES]
    if corpus and not overwrite:
        raise UsageError(f"--out {out} already holds a corpus ({', '.join(corpus)}); add "
                         f"--overwrite to build it again, or choose another --out")


def cmd_tatoeba(a) -> None:
    from .data.tatoeba import DEFAULT_SHA256, DEFAULT_URL, build  # noqa: PLC0415

    if a.from_archive and a.url:
        raise UsageError(f"--from-archive {a.from_archive} and --url {a.url}: give one of "
                         f"them (the archive is read, nothing is downloaded)")
    given = (a.sha256 or "").lower()  # "": not given
    if a.no_verify and given not in ("", "none"):
        raise UsageError(f"--no-verify and --sha256 {a.sha256}: give one of them")
    skip = a.no_verify or given == "none"
    sha256 = None if skip else given or None
    if a.url and not (sha256 or skip):
        raise UsageError(f"--url {a.url}: also give --sha256 HEX (that file's SHA-256), or "
                         f"--sha256 none (or --no-verify) to skip the check; the pinned "
                         f"SHA-256 is for the default URL only")
    if not (a.url or a.from_archive or skip or sha256):
        sha256 = DEFAULT_SHA256
    _check_out(a.out, a.overwrite)
    build(a.out, archive=a.from_archive, url=a.url or DEFAULT_URL, sha256=sha256,
          test_size=a.test_size, valid_size=a.valid_size, progress=not a.no_progress)
    print(f"train on it: python -m transformer train --data {a.out}")


def add_commands(subparsers) -> None:
    """The ``data`` command and its sub-commands (one for now: ``tatoeba``)."""
    from .data.tatoeba import DEFAULT_URL  # noqa: PLC0415

    d = subparsers.add_parser("data", help="download and prepare a real corpus: data tatoeba")
    commands = d.add_subparsers(dest="data_command", required=True)
    t = commands.add_parser(
        "tatoeba", help="the Tatoeba English-Spanish pairs (manythings.org/anki, CC BY 2.0 FR) as "
             "pairs.tsv, valid.tsv and test.tsv")
    t.add_argument("--out", default=DEFAULT_OUT, type=directory,
                   help=f"the corpus's directory, made or replaced as a whole (default: "
                   f"{DEFAULT_OUT})")
    t.add_argument("--from-archive", metavar="PATH", type=existing_file,
                   help="read this spa-eng.zip instead of downloading (checked only with "
                   "--sha256)")
    t.add_argument("--url", type=url, help=f"download from here (then --sha256 or --no-verify is "
                   f"needed) instead of the pinned archive at {DEFAULT_URL}")
    t.add_argument("--sha256", metavar="HEX", type=checksum,
                   help="the archive's SHA-256, or 'none' (default: the pinned archive's, "
                   "for the default URL)")
    t.add_argument("--no-verify", action="store_true", help="same as --sha256 none")
    t.add_argument("--overwrite", action="store_true",
                   help="replace a corpus that --out already holds")
    t.add_argument("--test-size", type=positive_int, default=1000,
                   help="English sentences held out for test.tsv (default: 1000)")
    t.add_argument("--valid-size", type=positive_int, default=1000,
                   help="English sentences held out for valid.tsv (default: 1000)")
    t.add_argument("--no-progress", action="store_true", help="no download progress bar")
    t.set_defaults(fn=cmd_tatoeba)
