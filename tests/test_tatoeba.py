"""``python -m transformer data tatoeba``: a synthetic spa-eng.zip, built here and served
through a file:// URL, a local HTTP server or --from-archive, becomes pairs/valid/test TSVs
and a README with the license's credit. No test touches the network."""

from __future__ import annotations

import hashlib
import http.server
import re
import shlex
import threading
import unicodedata
import zipfile
from pathlib import Path

import pytest

from transformer.__main__ import main
from transformer.data import tatoeba
from transformer.data.corpus import load_corpus, read_tsv

NUMBERS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
ANIMALS = [("cat", "gato"), ("dog", "perro"), ("bird", "pájaro"), ("fish", "pez")]
PLACES = [("house", "casa"), ("garden", "jardín"), ("car", "coche"), ("room", "habitación")]
ATTRIBUTION = "CC-BY 2.0 (France) Attribution: tatoeba.org #{} (CK) & #{} (x)"


def raw_lines(copies: int = 2) -> list[tuple[str, str]]:
    """Synthetic spa.txt lines (english, spanish), with everything the cleanup handles."""
    lines = []
    for k in range(copies):
        for n in NUMBERS:
            for en, es in ANIMALS:
                for place, lugar in PLACES:
                    lines.append((f"The {en} {k} saw {n} things in the {place}.",
                                  f"El {es} {k} vio {n} cosas en la {lugar}."))
    lines += [
        ("The cat 0 saw one things in the house.", "El gato 0 vio una cosa en la casa."),  # 2nd
        ("the cat 0 saw one things in the house!", "¡El gato 0 vio cosas en la casa!"),  # key
        ("Go\u00a0away\u200b!", "  Vete   de aquí. "),  # NBSP, zero-width space, runs
        ("Go away!", "Vete de aquí."),  # the same pair once cleaned: a repeat
        ("I ate a cre\u0301pe.", "Comí un cre\u0301pe."),  # NFD accents -> NFC "é"
        ("Dinner.", "\u200b"),  # an empty side once cleaned
        (" ".join(["word"] * 13) + ".", "Trece palabras."),  # too long to hold out
    ]
    lines += lines[:5]  # exact repeats
    return lines


def make_archive(path: Path, columns: int = 2, lines=None, folder="spa-eng/") -> Path:
    """spa-eng.zip as manythings.org writes it: spa.txt (2 or 3 columns) and _about.txt."""
    lines = raw_lines() if lines is None else lines
    rows = [f"{en}\t{es}" + (f"\t{ATTRIBUTION.format(i, i + 1)}" if columns == 3 else "")
            for i, (en, es) in enumerate(lines)]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{folder}spa.txt", "\n".join(rows) + "\n")
        z.writestr(f"{folder}_about.txt", "Tab-delimited Bilingual Sentence Pairs\n")
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def data(out, *extra):
    return ["data", "tatoeba", "--out", str(out), "--test-size", "40", "--valid-size", "30",
            "--no-progress", *extra]


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.splitlines()) == 1, err
    return err


@pytest.fixture
def archive(tmp_path):
    return make_archive(tmp_path / "spa-eng.zip")


def test_a_file_url_and_from_archive_give_the_same_corpus(archive, tmp_path, capsys):
    by_url, by_file = tmp_path / "a", tmp_path / "b"
    assert main(data(by_url, "--url", archive.as_uri(), "--sha256", sha(archive))) == 0
    assert main(data(by_file, "--from-archive", str(archive))) == 0
    assert set(files(by_url)) == {"pairs.tsv", "valid.tsv", "test.tsv", "README.md"}
    for name in ("pairs.tsv", "valid.tsv", "test.tsv"):
        assert files(by_url)[name] == files(by_file)[name]
    splits = load_corpus(str(by_url))
    assert [len(splits["valid"]), len(splits["test"])] == [30, 40]
    readme = (by_url / "README.md").read_text(encoding="utf-8")
    assert tatoeba.CREDIT in readme and "CC BY 2.0 FR" in readme
    assert sha(archive) in readme and "20180513" in readme
    assert f"pairs.tsv` | {len(splits['train']):,}" in readme
    assert "train --data" in capsys.readouterr().out


def test_the_cleanup(archive, tmp_path):
    out = tmp_path / "corpus"
    assert main(data(out, "--from-archive", str(archive))) == 0
    rows = [pair for name in ("pairs", "valid", "test") for pair in read_tsv(out / f"{name}.tsv")]
    text = "".join(en + es for en, es in rows)
    assert "\u00a0" not in text and "\u200b" not in text and "  " not in text
    assert unicodedata.normalize("NFC", text) == text
    assert ("I ate a cr\u00e9pe.", "Com\u00ed un cr\u00e9pe.") in rows
    assert rows.count(("Go away!", "Vete de aquí.")) == 1        # a repeat once cleaned
    assert len(rows) == len(set(rows))                            # exact repeats removed
    assert not any(en == "Dinner." for en, _ in rows)             # an empty side
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "first kept), 6;" in readme and "empty side, 1." in readme  # 5 + "Go away!"


def test_three_columns_lose_the_attribution(archive, tmp_path):
    three = make_archive(tmp_path / "new.zip", columns=3, folder="")  # newer layout
    assert main(data(tmp_path / "two", "--from-archive", str(archive))) == 0
    assert main(data(tmp_path / "three", "--from-archive", str(three))) == 0
    for name in ("pairs.tsv", "valid.tsv", "test.tsv"):
        assert (tmp_path / "two" / name).read_bytes() == (tmp_path / "three" / name).read_bytes()
    assert "Attribution" not in (tmp_path / "three" / "pairs.tsv").read_text(encoding="utf-8")


def test_the_split_holds_out_whole_english_sentences():
    pairs, counts = tatoeba.clean_pairs(raw_lines())
    first = tatoeba.split_pairs(pairs, test_size=40, valid_size=30)
    assert tatoeba.split_pairs(pairs, test_size=40, valid_size=30) == first  # deterministic
    other = tatoeba.split_pairs(pairs, test_size=40, valid_size=30, seed=1)
    assert other["test"] != first["test"]                                    # seeded
    key = tatoeba.english_key
    test_keys = [key(en) for en, _ in first["test"]]
    valid_keys = [key(en) for en, _ in first["valid"]]
    assert len(set(test_keys)) == 40 and len(set(valid_keys)) == 30
    assert not set(test_keys) & set(valid_keys)
    held = set(test_keys) | set(valid_keys)
    assert all(len(en.split()) <= tatoeba.MAX_WORDS for en, _ in first["test"] + first["valid"])
    assert all(p in pairs for p in first["test"] + first["valid"])
    # pairs.tsv: every pair whose key is not held out, in the source's order
    assert first["pairs"] == [p for p in pairs if key(p[0]) not in held]
    assert not {key(en) for en, _ in first["pairs"]} & held
    # the held-out pairs are the first distinct keys of the shuffled short pairs
    import random
    short = [p for p in pairs if len(p[0].split()) <= 12]
    random.Random(tatoeba.SEED).shuffle(short)
    drawn = list(dict.fromkeys(key(en) for en, _ in short))[:70]
    assert test_keys + valid_keys == drawn


def test_the_key_ignores_case_and_punctuation():
    key = tatoeba.english_key
    assert key("Go away!") == key("go away.") == key("GO  AWAY") == "go away"
    assert key("Don’t go!") == key("Don't go.") == "don't go"
    assert key("Tom is my fiancé.") == "tom is my fiancé" != key("Tom is my fiance.")
    assert key("It's 5 o'clock.") == "it's 5 o'clock"


def test_default_sizes_and_the_readme_recipe(tmp_path, monkeypatch, capsys):
    """The README's command, from a clean directory, with the default URL served from a
    file:// URL (the pinned archive's place, SHA-256 and size are the only difference)."""
    lines = [(f"Sentence number {i}.", f"Frase número {i}.") for i in range(2300)]
    archive = make_archive(tmp_path / "spa-eng.zip", lines=lines)
    monkeypatch.setattr(tatoeba, "DEFAULT_URL", archive.as_uri())
    monkeypatch.setattr(tatoeba, "DEFAULT_SHA256", sha(archive))
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    command = re.search(r"^python -m transformer (data tatoeba .*)$", readme, re.MULTILINE)
    argv = shlex.split(command.group(1))
    assert "--url" not in argv and "--sha256" not in argv and "--from-archive" not in argv
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    out = tmp_path / argv[argv.index("--out") + 1]
    assert [len(read_tsv(out / f)) for f in ("pairs.tsv", "valid.tsv", "test.tsv")] == \
        [300, 1000, 1000]
    assert not (out / tatoeba.PART).exists()  # the download is gone with the corpus written
    assert "pinned 2018-05-13 release" in (out / "README.md").read_text(encoding="utf-8")
    assert "spa-eng.zip" in capsys.readouterr().err  # the progress bar (or its lines)


def test_the_corpus_trains(archive, tmp_path):
    out = tmp_path / "corpus"
    assert main(data(out, "--from-archive", str(archive))) == 0
    run = tmp_path / "run"
    assert main(["train", "--data", str(out), "--out", str(run), "--size", "tiny", "--steps",
                 "5", "--vocab-size", "300", "--batch-tokens", "300", "--warmup", "5",
                 "--eval-every", "1000", "--no-progress"]) == 0
    assert (run / "checkpoint.npz").exists()


# ------------------------------------------------------------------- one-line mistakes

def test_a_wrong_checksum_is_one_line(archive, tmp_path, capsys):
    out = tmp_path / "corpus"
    wrong = "0" * 64
    assert main(data(out, "--url", archive.as_uri(), "--sha256", wrong)) == 2
    err = one_line_error(capsys)
    assert wrong in err and sha(archive) in err and f"--sha256 {sha(archive)}" in err
    assert not out.exists()  # nothing left behind
    assert main(data(out, "--from-archive", str(archive), "--sha256", wrong)) == 2
    assert sha(archive) in one_line_error(capsys) and not out.exists()


def test_the_default_url_is_checked_against_the_pinned_sha256(archive, tmp_path, monkeypatch,
                                                             capsys):
    monkeypatch.setattr(tatoeba, "DEFAULT_URL", archive.as_uri())
    assert main(data(tmp_path / "corpus")) == 2
    assert tatoeba.DEFAULT_SHA256 in one_line_error(capsys)


def test_a_truncated_archive_is_one_line(archive, tmp_path, capsys):
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    assert main(data(tmp_path / "a", "--from-archive", str(cut))) == 2
    assert "not a whole zip archive" in one_line_error(capsys)
    assert main(data(tmp_path / "b", "--url", cut.as_uri(), "--no-verify")) == 2
    assert cut.as_uri() in one_line_error(capsys)
    assert not (tmp_path / "b").exists()


@pytest.mark.parametrize("url", ["file:///nonexistent/spa-eng.zip", "http://127.0.0.1:9/x.zip"])
def test_an_unreachable_server_is_one_line(url, tmp_path, capsys):
    assert main(data(tmp_path / "corpus", "--url", url, "--sha256", "none")) == 2
    err = one_line_error(capsys)
    assert "cannot reach" in err and "--from-archive PATH" in err
    assert not (tmp_path / "corpus").exists()


def test_other_mistakes_are_one_line(archive, tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(data(out, "--url", archive.as_uri())) == 2
    assert "--sha256 none" in one_line_error(capsys)
    assert main(data(out, "--url", archive.as_uri(), "--from-archive", str(archive))) == 2
    assert "give one of them" in one_line_error(capsys)
    assert main(data(out, "--sha256", "abc")) == 2
    assert "64 hex digits" in one_line_error(capsys)
    assert main(data(out, "--url", "spa-eng.zip", "--no-verify")) == 2
    assert "a URL starting with" in one_line_error(capsys)
    assert main(data(out, "--no-verify", "--sha256", sha(archive))) == 2
    assert "give one of them" in one_line_error(capsys)
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("eng.txt", "nothing")
    assert main(data(out, "--from-archive", str(empty))) == 2
    assert "no spa.txt" in one_line_error(capsys)
    assert main(data(out, "--from-archive", str(archive), "--test-size", "1000")) == 2
    assert "give smaller sizes" in one_line_error(capsys)
    assert not out.exists()


def test_every_option_declares_its_values():
    """As tests/test_cli_validation.py checks for the other commands."""
    from transformer.__main__ import build_parser
    from transformer.cli_args import Number, Path
    from transformer.data_cli import Text

    def subcommands(parser):
        return next(a for a in parser._actions if a.dest.endswith("command")).choices

    tatoeba_parser = subcommands(subcommands(build_parser())["data"])["tatoeba"]
    options = [a for a in tatoeba_parser._actions if a.option_strings and a.nargs != 0]
    assert len(options) == 6
    assert all(isinstance(a.type, Number | Path | Text) for a in options)


def test_an_existing_corpus_needs_overwrite(archive, tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(data(out, "--from-archive", str(archive))) == 0
    before = files(out)
    assert main(data(out, "--from-archive", str(archive), "--test-size", "10")) == 2
    assert "--overwrite" in one_line_error(capsys)
    assert files(out) == before
    assert main(data(out, "--from-archive", str(archive), "--test-size", "10",
                     "--overwrite")) == 0
    assert len(read_tsv(out / "test.tsv")) == 10
    (out / "notes.txt").write_text("mine")
    assert main(data(out, "--from-archive", str(archive), "--overwrite")) == 2
    assert "notes.txt" in one_line_error(capsys)
    assert (out / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------- resuming over HTTP

class Server(http.server.BaseHTTPRequestHandler):
    """Serves ``body``; honours ``Range: bytes=N-`` when ``ranges``; with ``cut``, promises
    the whole body but sends only its first half (a dropped connection)."""

    body, ranges, cut, seen = b"", True, False, []

    def do_GET(self):
        asked = self.headers.get("Range")
        self.seen.append(asked)
        start = int(asked[len("bytes="):-1]) if asked and self.ranges else 0
        if start >= len(self.body) > 0:
            self.send_response(416)
            self.end_headers()
            return
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(self.body) - start))
        self.end_headers()
        self.wfile.write(self.body[start:len(self.body) // 2 if self.cut else None])

    def log_message(self, *args):
        pass


@pytest.fixture
def serve(archive):
    handler = type("Handler", (Server,), {"body": archive.read_bytes(), "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/spa-eng.zip"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("ranges", [True, False])
def test_an_interrupted_download_resumes(serve, archive, tmp_path, capsys, ranges):
    handler, url = serve
    out = tmp_path / "corpus"
    handler.cut, handler.ranges = True, ranges
    assert main(data(out, "--url", url, "--sha256", sha(archive))) == 2
    assert "run the same command again to resume" in one_line_error(capsys)
    half = archive.stat().st_size // 2
    assert (out / tatoeba.PART).read_bytes() == archive.read_bytes()[:half]
    handler.cut = False
    assert main(data(out, "--url", url, "--sha256", sha(archive))) == 0
    assert handler.seen == [None, f"bytes={half}-"]  # asked for the rest
    assert main(data(tmp_path / "whole", "--from-archive", str(archive))) == 0
    for name in ("pairs.tsv", "valid.tsv", "test.tsv"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()


def test_a_finished_download_is_not_fetched_again(serve, archive, tmp_path):
    handler, url = serve
    out = tmp_path / "corpus"
    out.mkdir()
    (out / tatoeba.PART).write_bytes(archive.read_bytes())  # a run stopped after the download
    assert main(data(out, "--url", url, "--sha256", sha(archive))) == 0
    assert handler.seen == []
    (out / ".download.part").write_bytes(archive.read_bytes())
    assert main(data(out, "--url", url, "--no-verify", "--overwrite")) == 0
    assert handler.seen == [f"bytes={archive.stat().st_size}-"]  # answered 416: it is whole
