"""Damaged and hostile checkpoints: each one is a one-line CheckpointError, fast, small in memory.

The first half tests one finding each (issue 15: a header claiming 37 GiB, a zip bomb, a
header nested 800 deep, a translator checkpoint with a bad config or tokenizer, ...).

The second half fuzzes: hypothesis mutates the bytes of two small valid checkpoints (a state
dict, and a real translator checkpoint from a tiny training run) and asserts that
``tinytorch.load``, and for the translator ``load_checkpoint`` + ``model_from_checkpoint``,
either succeed or raise ``CheckpointError``, with a short one-line message, within 2 s and
64 MB. A raw flipped byte almost always just fails the zip's CRC-32, so the mutations are
made at three depths: the file's bytes (the zip structure: local headers, central
directory), one entry's bytes re-packed with a correct CRC (the ``.npy`` headers and the
numbers), and the JSON header's text re-packed as a valid entry (config, tokenizer, tree).

Memory is measured with ``tracemalloc``, which NumPy reports its array allocations to (an
``np.empty`` of 37 GiB shows up as 37 GiB even before it is touched): the peak during one
load must stay under 64 MB. That catches an oversized allocation wherever it happens, in
our reader, in NumPy or in the zip module, without relying on which function allocates.
"""

import io
import json
import os
import re
import stat
import threading
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tiny_corpus import write_corpus

import tinytorch
from tinytorch.serialization import HEADER_ENTRY, MAX_HEADER_DEPTH, CheckpointError
from transformer.checkpoint import load_checkpoint, model_from_checkpoint

MAX_SECONDS = 2.0
MAX_BYTES = 64 << 20
MAX_MESSAGE = 500  # characters, besides the path


# -- building files ------------------------------------------------------------------------
def npy_bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def zip_bytes(members: dict, compression=zipfile.ZIP_STORED) -> bytes:
    """A zip of ``{name: bytes}`` with correct sizes and CRCs."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def members_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def header_of(data: bytes) -> str:
    """The JSON header's text."""
    raw = members_of(data)[HEADER_ENTRY + ".npy"]
    return np.load(io.BytesIO(raw), allow_pickle=False).tobytes().decode()


def with_header(data: bytes, text: str) -> bytes:
    """``data`` with its JSON header replaced by ``text`` (a valid entry, correct CRC)."""
    members = members_of(data)
    members[HEADER_ENTRY + ".npy"] = npy_bytes(np.frombuffer(text.encode("latin-1"), np.uint8))
    return zip_bytes(members)


def small_state_bytes() -> bytes:
    buf = io.BytesIO()
    tinytorch.save({"w": tinytorch.arange(12.0).reshape(3, 4).requires_grad_(),
                    "opt": {"step": 3, "lr": 1e-3, "m": np.ones(5, np.float64)},
                    "ids": tinytorch.tensor([1, 2, 3]), "name": "tiny", "nested": [[(1.5,)]]},
                   buf)
    return buf.getvalue()


class Samples(dict):
    """{name: valid checkpoint bytes} and ``scratch``, the file each example is written to."""

    def __repr__(self):  # hypothesis prints the arguments of a failing example: keep it short
        return "Samples(state, translator)"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The valid checkpoints the tests damage, with their zip members and JSON headers."""
    from transformer.train import TrainArgs, Trainer

    root = tmp_path_factory.mktemp("fuzz")
    corpus = root / "pairs.tsv"
    write_corpus(corpus)
    args = TrainArgs(data=str(corpus), out=str(root / "run"), size="tiny", d_model=16, nhead=2,
                     layers=1, dim_feedforward=32, vocab_size=300, steps=1, minutes=None,
                     batch_tokens=200, warmup=5, eval_every=1000, progress=False)
    Trainer(args, log=lambda *a: None).run()  # saves with transformer.checkpoint.save_checkpoint
    samples = Samples(state=small_state_bytes(),
                      translator=(root / "run" / "checkpoint.npz").read_bytes())
    for name in ("state", "translator"):
        samples[name + " members"] = members_of(samples[name])
        samples[name + " header"] = header_of(samples[name])
    samples["scratch"] = root / "x.ckpt"
    return samples


def load_everything(path, target: str):
    if target == "state":
        return tinytorch.load(path)
    return model_from_checkpoint(load_checkpoint(path), str(path))


def check_outcome(data: bytes, target: str, path):
    """Load ``data``: success or a short one-line CheckpointError, in bounded time and memory.

    tracemalloc runs only during the load (it slows Python down several times), so its peak
    is what loading allocated, NumPy arrays included.
    """
    path.write_bytes(data)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        load_everything(path, target)
        error = None
    except CheckpointError as e:
        error = e
    finally:
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert seconds < MAX_SECONDS, f"took {seconds:.1f} s"
    assert peak < MAX_BYTES, f"allocated {peak / 2**20:.0f} MiB"
    if error is not None:
        message = str(error)
        assert "\n" not in message, message
        assert len(message.replace(str(path), "")) < MAX_MESSAGE, message
    return error


def refused(files, data: bytes, target: str = "state", *patterns) -> str:
    error = check_outcome(data, target, files["scratch"])
    assert error is not None, "loaded without complaint"
    for pattern in patterns:
        assert pattern in str(error), str(error)
    return str(error)


# -- paths that are not regular files ------------------------------------------------------
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")


@needs_fifo
def test_save_refuses_to_replace_a_fifo_or_a_directory(tmp_path):
    """os.replace would swap them for a file (as root, save(sd, '/dev/null') would too)."""
    fifo, directory, link = tmp_path / "pipe", tmp_path / "run", tmp_path / "link"
    os.mkfifo(fifo)
    directory.mkdir()
    link.symlink_to(fifo)  # save writes through symlinks: the FIFO behind it counts
    for target, error, kind in [(fifo, FileExistsError, "a FIFO"),
                                (link, FileExistsError, "a FIFO"),
                                (directory, IsADirectoryError, "a directory")]:
        with pytest.raises(error, match=kind) as err:
            tinytorch.save({"v": 1}, target)
        assert "not a regular file" in str(err.value) and "\n" not in str(err.value)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and directory.is_dir()
    assert sorted(os.listdir(tmp_path)) == ["link", "pipe", "run"]  # no temp file left


@needs_fifo
def test_load_refuses_a_fifo_without_waiting_and_a_directory(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome = []

    def load_fifo():  # in a thread: if load opened the FIFO, it would wait for a writer forever
        try:
            tinytorch.load(fifo)
        except CheckpointError as e:
            outcome.append(str(e))

    thread = threading.Thread(target=load_fifo, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive(), "load blocked on a FIFO"
    assert outcome and "a FIFO (named pipe), not a checkpoint file" in outcome[0]
    with pytest.raises(CheckpointError, match="a directory, not a checkpoint file") as err:
        tinytorch.load(tmp_path)
    assert str(tmp_path) in str(err.value)
    if os.path.exists(os.devnull) and os.name == "posix":
        with pytest.raises(CheckpointError, match="character device"):
            tinytorch.load(os.devnull)


# -- one finding each ----------------------------------------------------------------------
def patch_directory(data: bytes, name: str, **fields) -> bytes:
    """Overwrite fields of ``name``'s record in the zip's central directory (a lying zip)."""
    offsets = {"compress_size": 20, "file_size": 24, "header_offset": 42}
    data = bytearray(data)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = int.from_bytes(data[at + 28:at + 30], "little")
        if data[at + 46:at + 46 + length] == name.encode():
            for field, value in fields.items():
                data[at + offsets[field]:at + offsets[field] + 4] = value.to_bytes(4, "little")
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 46 + length)
    raise KeyError(name)


def test_header_claiming_37_gib_is_refused_before_allocating(files):
    """1 KB whose .npy header says (100000, 100000) float32: compared with the zip's sizes."""
    members = members_of(files["state"])
    members["t0.npy"] = members["t0.npy"].replace(b"(3, 4)", b"(100000, 100000)")
    refused(files, zip_bytes(members), "state", "'t0'", "40000000000 bytes")
    # the zip directory lies too, and agrees with the header: the data is not in the file
    members["t0.npy"] = members["t0.npy"].replace(b"(100000, 100000)", b"(1000, 1000)")
    size = 4_000_000 + 128
    lie = patch_directory(zip_bytes(members), "t0.npy", file_size=size, compress_size=size)
    refused(files, lie, "state", "'t0.npy'", "outside the file")


def test_zip_bomb_is_refused(files):
    """A deflated entry may not claim to expand beyond deflate's 1032:1, nor past its header."""
    members = members_of(files["state"])  # 10 MB more than the header declares
    members["t0.npy"] = npy_bytes(np.zeros((3, 4), np.float32)) + b"\0" * 10_000_000
    bomb = zip_bytes(members, compression=zipfile.ZIP_DEFLATED)
    assert len(bomb) < 20_000
    refused(files, bomb, "state", "'t0'", "entry holds")
    # ... and with the directory lying to match the header: reading stops at the declared
    # size (the CRC-32 of the whole entry then does not match)
    honest = len(npy_bytes(np.zeros((3, 4), np.float32)))
    refused(files, patch_directory(bomb, "t0.npy", file_size=honest), "state", "'t0'",
            "damaged")
    # a directory that claims 1 GB from 10 KB of deflate data
    members = members_of(files["state"])
    lie = patch_directory(zip_bytes(members, compression=zipfile.ZIP_DEFLATED), "t0.npy",
                          file_size=1 << 30)
    refused(files, lie, "state", "zip bomb")


def test_an_honest_header_cannot_make_a_small_file_a_huge_allocation(files):
    """The header and the directory agree on 192 MB of zeros that deflate to ~190 KB: every
    claim is true, yet loading would turn a small file into a large allocation."""
    shape = (48, 1 << 20)  # float32: 192 MiB
    text = header_of(files["state"])
    assert '"shape":[3,4]' in text, text
    text = text.replace('"shape":[3,4]', f'"shape":[{shape[0]},{shape[1]}]', 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(HEADER_ENTRY + ".npy", npy_bytes(np.frombuffer(text.encode(), np.uint8)))
        for name, data in members_of(files["state"]).items():
            if name.startswith(HEADER_ENTRY):
                continue
            if name != "t0.npy":
                zf.writestr(name, data)
                continue
            with zf.open(name, "w", force_zip64=True) as member:  # streamed: no 192 MB here
                head = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    head, {"descr": "<f4", "fortran_order": False, "shape": shape})
                member.write(head.getvalue())
                zeros = bytes(1 << 22)
                for _ in range(48):
                    member.write(zeros)
    assert len(buf.getvalue()) < 1 << 20
    refused(files, buf.getvalue(), "state", "zip bomb", "100:1")


def test_entries_sharing_bytes_are_refused(files):
    """The overlapping-entries zip bomb: two directory records, one copy of the data."""
    members = members_of(files["state"])
    members["t0.npy"] = npy_bytes(np.zeros(20_000, np.float64))
    data = zip_bytes(members)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        t0 = zf.getinfo("t0.npy")
    lie = patch_directory(data, "t1.npy", header_offset=t0.header_offset,
                          compress_size=t0.compress_size, file_size=t0.file_size)
    refused(files, lie, "state", "claim", "zip bomb")


def test_header_nested_800_deep_is_refused(files):
    text = header_of(files["state"])
    deep = text.replace('"name","tiny"]', '"name",' + "[" * 800 + "]" * 800 + "]")
    refused(files, with_header(files["state"], deep), "state", "nested 8",
            f"at most {MAX_HEADER_DEPTH}")


def test_save_and_load_agree_on_the_deepest_nesting(tmp_path):
    """40 dicts inside each other: the most save accepts, 3 * 40 + 2 JSON levels <= 128."""
    deep = {"leaf": tinytorch.ones(1)}
    for _ in range(39):
        deep = {"d": deep}
    tinytorch.save(deep, tmp_path / "deep.ckpt")
    back = tinytorch.load(tmp_path / "deep.ckpt")
    for _ in range(39):
        back = back["d"]
    assert back["leaf"].tolist() == [1.0]
    with pytest.raises(ValueError, match="nested more than 40"):
        tinytorch.save({"d": deep}, tmp_path / "deeper.ckpt")


def test_save_refuses_what_load_would_refuse():
    deep = []
    for _ in range(60):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 40"):
        tinytorch.save({"x": deep}, io.BytesIO())
    with pytest.raises(ValueError, match="non-tensor part"):
        tinytorch.save({"x": "a" * (17 << 20)}, io.BytesIO())


def test_npy_header_that_would_crash_numpy_is_refused(files):
    """NumPy evaluates .npy headers with ast.literal_eval; 4,000 '-' exhaust its stack."""
    members = members_of(files["state"])
    header = b"{" + b"-" * 3998 + b"1}"
    members["t0.npy"] = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    refused(files, zip_bytes(members), "state", "'t0'", "malformed .npy header")
    members["t0.npy"] = b"\x93NUMPY\x01\x00" + (60000).to_bytes(2, "little") + b" " * 60000
    refused(files, zip_bytes(members), "state", "'t0'", "60000-byte .npy header")
    members["t0.npy"] = npy_bytes(np.zeros(3)).replace(b"'<f8'", b"'|O8'")
    refused(files, zip_bytes(members), "state", "pickle")


def test_flipped_bytes_give_short_messages(files):
    data = files["state"]
    for at in range(0, len(data), 7):  # every 7th byte of a small checkpoint
        bad = bytearray(data)
        bad[at] ^= 0xFF
        check_outcome(bytes(bad), "state", files["scratch"])
    junk = b"PK\x03\x04" + bytes(range(256)) * 7  # 1.8 KB of bytes that a message could quote
    message = refused(files, junk)
    assert len(message) < MAX_MESSAGE + len(str(files["scratch"]))


# -- the translator's checkpoint entries -----------------------------------------------------
def resaved(files, edit) -> bytes:
    """The translator checkpoint, loaded, edited by ``edit(state)``, saved again."""
    state = tinytorch.load(io.BytesIO(files["translator"]))
    edit(state)
    buf = io.BytesIO()
    tinytorch.save(state, buf)
    return buf.getvalue()


@pytest.mark.parametrize("edit, patterns", [
    (lambda s: s.pop("model"), ["'model' entry is missing"]),
    (lambda s: s.pop("config"), ["'config' entry is missing"]),
    (lambda s: s.pop("tokenizer"), ["'tokenizer' entry is missing"]),
    (lambda s: s.update(config=[1, 2]), ["'config' entry is a list"]),
    (lambda s: s.update(format="something else"), ["not a translator checkpoint"]),
    (lambda s: s["config"].update(colour="red"), ["'config'", "unknown fields 'colour'"]),
    (lambda s: s["config"].update(nhead=-1), ["'config'", "nhead must be a positive int"]),
    (lambda s: s["config"].update(nhead=0), ["'config'", "nhead"]),
    (lambda s: s["config"].update(nhead=3), ["'config'", "not divisible"]),
    (lambda s: s["config"].update(d_model=-16), ["'config'", "d_model"]),
    (lambda s: s["config"].update(src_vocab_size=0), ["'config'", "src_vocab_size"]),
    (lambda s: s["config"].update(dropout=2.0), ["'config'", "dropout"]),
    (lambda s: s["config"].update(max_len="66"), ["'config'", "max_len"]),
    (lambda s: s["config"].update(dim_feedforward=32_000_000), ["at least", "weights"]),
    (lambda s: s["config"].update(max_len=30_000_000), ["max_len 30000000"]),
    (lambda s: s["config"].update(dim_feedforward=64), ["do not fit", "linear1.weight"]),
    (lambda s: s["tokenizer"].pop("vocab"), ["'tokenizer'", '"vocab"']),
    (lambda s: s["tokenizer"].update(merges=s["tokenizer"]["merges"][:-3]),
     ["'tokenizer'", "does not match"]),
    (lambda s: s["tokenizer"].update(merges=[1, 2]), ["'tokenizer'", "pairs"]),
    (lambda s: s["tokenizer"].update(vocab={"a": np.arange(3)}), ["'tokenizer'", "int ids"]),
    (lambda s: s["tokenizer"].update(format=np.array(["a", "b"])), ["'tokenizer'", "not a"]),
    (lambda s: s["model"].pop(next(iter(s["model"]))), ["do not fit", "missing"]),
    (lambda s: s["model"].update({k: tinytorch.zeros(*v.shape, 2) for k, v in s["model"].items()}),
     ["do not fit", "and", "more"]),
    (lambda s: s["model"].update({next(iter(s["model"])): "text"}), ["not floating point"]),
])
def test_damaged_translator_checkpoint_is_one_line(files, edit, patterns):
    refused(files, resaved(files, edit), "translator", *patterns)


def test_shape_mismatch_lists_a_few_problems_only(files):
    """A checkpoint for another model size: 1 line, 4 problems, 'and N more' (not 6.5 KB)."""
    def other_size(state):
        state["model"] = {k: tinytorch.zeros(*(2 * n for n in v.shape))
                          for k, v in state["model"].items()}

    message = refused(files, resaved(files, other_size), "translator", "problems", "more")
    assert message.count("model (") == 4 and "and 44 more" in message


# -- fuzzing ---------------------------------------------------------------------------------
def examples(n: int) -> int:
    """``n`` examples in the ci profile, more in the dev/thorough ones."""
    return max(n, settings.default.max_examples)


_mutation = st.tuples(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]),
                      st.integers(0, 2**31), st.binary(min_size=1, max_size=8))
_mutations = st.lists(_mutation, min_size=1, max_size=3)


def mutate(data: bytes, mutations, hot=()) -> bytes:
    """Apply ``mutations``; the 1st (and 3rd) lands in one of the ``hot`` (start, end) ranges
    (the structure worth damaging), the 2nd anywhere in the file."""
    data = bytearray(data)
    for i, (kind, where, payload) in enumerate(mutations):
        start, end = hot[where % len(hot)] if hot and i % 2 == 0 else (0, len(data))
        end = min(end, len(data))
        if end <= start:
            start, end = 0, len(data)
        at = start + (where >> 8) % max(end - start, 1)
        if kind == "flip" and at < len(data):
            data[at] ^= 1 << (where % 8)
        elif kind == "set":
            data[at:at + len(payload)] = payload
        elif kind == "insert":
            data[at:at] = payload
        elif kind == "delete":
            del data[at:at + len(payload)]
        elif kind == "truncate":
            del data[at:]
    return bytes(data)


def zip_hot_spots(data: bytes) -> list:
    """Byte ranges of the zip structure: each local header (+ .npy header), the directory."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        spots = [(i.header_offset, i.header_offset + 30 + len(i.filename) + 20 + 128)
                 for i in zf.infolist()]
        return spots + [(zf.start_dir, len(data))]


# 450 examples of the state dict (~2 ms each) and 200 of the translator (~30 ms each: load
# and model, slowed down by tracemalloc), ~8 s on 2 cores. The thorough profile runs 1000
# examples per test (~100 s).
def fuzz(state: int, translator: int):
    return pytest.mark.parametrize("target, n", [("state", state), ("translator", translator)])


@fuzz(state=200, translator=50)
def test_fuzz_file_bytes(files, target, n):
    """Bytes of the file damaged: mostly the zip structure, which has no CRC."""
    hot = zip_hot_spots(files[target])

    @settings(max_examples=examples(n))
    @given(mutations=_mutations)
    def run(mutations):
        check_outcome(mutate(files[target], mutations, hot), target, files["scratch"])

    run()


@fuzz(state=150, translator=60)
def test_fuzz_entries(files, target, n):
    """One entry's .npy bytes damaged (mostly its header), re-packed with a valid CRC."""
    members = files[target + " members"]
    names = sorted(members)

    @settings(max_examples=examples(n))
    @given(entry=st.integers(0, 10**6), mutations=_mutations)
    def run(entry, mutations):
        name = names[entry % len(names)]
        damaged = {**members, name: mutate(members[name], mutations, [(0, 128)])}
        check_outcome(zip_bytes(damaged), target, files["scratch"])

    run()


_values = st.sampled_from(["0", "-1", "3", "9", "99999", "1e9", "2.5", "true", "null", '"x"',
                           "[]", "{}"])
_NUMBER = re.compile(r"-?[0-9][0-9.e+-]*")


@fuzz(state=100, translator=90)
def test_fuzz_header_json(files, target, n):
    """The JSON header's text damaged (numbers replaced, mostly the config's, or bytes
    anywhere), then stored as a valid entry: this reaches the config, tokenizer and tree
    checks."""
    text = files[target + " header"]
    config = text.find('"config"')
    spots = [(config, config + 500)] if config >= 0 else []

    @settings(max_examples=examples(n))
    @given(what=st.sampled_from(["numbers", "numbers", "bytes"]), mutations=_mutations,
           numbers=st.lists(st.tuples(st.integers(0, 10**6), _values), min_size=1, max_size=3))
    def run(what, mutations, numbers):
        damaged = text
        if what == "bytes":  # (mostly invalid JSON)
            damaged = mutate(text.encode(), mutations, spots).decode("latin-1")
        for where, value in numbers if what == "numbers" else []:
            places = [m.span() for m in _NUMBER.finditer(damaged)]
            in_config = [p for p in places if spots and spots[0][0] <= p[0] < spots[0][1]]
            places = in_config if in_config and where % 4 else places
            start, end = places[where % len(places)]
            damaged = damaged[:start] + value + damaged[end:]
        check_outcome(with_header(files[target], damaged), target, files["scratch"])

    run()


def test_the_fuzzed_files_load_undamaged(files):
    """The harness itself: the undamaged files load, so a refusal above means damage."""
    assert check_outcome(files["state"], "state", files["scratch"]) is None
    assert check_outcome(files["translator"], "translator", files["scratch"]) is None
    assert json.loads(files["state header"])["format"] == "tinytorch-checkpoint"
