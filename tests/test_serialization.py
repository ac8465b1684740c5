"""tinytorch.save / tinytorch.load: exact round trips, atomic writes, clear refusals, no pickle."""

import io
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinytorch
from tinytorch.serialization import HEADER_ENTRY, CheckpointError

REPO_ROOT = Path(tinytorch.__file__).resolve().parent.parent


# -- helpers ---------------------------------------------------------------------------------
def assert_same(a, b, where="obj"):
    """Exact equality: same types, same key order and key types, bit-identical arrays."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, tinytorch.Tensor):
        assert a.requires_grad == b.requires_grad, where
        assert a.device == b.device, where
        a, b = tinytorch.backend.as_numpy(a.array), tinytorch.backend.as_numpy(b.array)
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape, \
            f"{where}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), where
    elif isinstance(a, float):
        if math.isnan(a):
            assert math.isnan(b), where
        else:
            assert a == b and math.copysign(1, a) == math.copysign(1, b), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        assert len(a) == len(b), where
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            assert_same(ka, kb, f"{where} key {ka!r}")
            assert_same(va, vb, f"{where}[{ka!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (va, vb) in enumerate(zip(a, b)):
            assert_same(va, vb, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def roundtrip(obj, tmp_path=None, **load_kwargs):
    if tmp_path is None:
        buf = io.BytesIO()
        tinytorch.save(obj, buf)
        buf.seek(0)
        return tinytorch.load(buf, **load_kwargs)
    path = tmp_path / "ckpt.tt"
    tinytorch.save(obj, path)
    return tinytorch.load(path, **load_kwargs)


def rewrite(path, edit_header=None, edit_arrays=None):
    """Re-pack a checkpoint with an edited header / entries (to build bad files)."""
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    header = json.loads(arrays.pop(HEADER_ENTRY).tobytes())
    if edit_header:
        edit_header(header)
    arrays = {HEADER_ENTRY: np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays}
    if edit_arrays:
        edit_arrays(arrays)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


class _Evil:
    """A pickle payload that creates ``marker`` when unpickled: proof that code ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def nested_state():
    w = tinytorch.randn(3, 4, requires_grad=True)
    return {
        "model": {
            "w": w,
            "tied": w,  # the same tensor twice (tied weights)
            "b64": tinytorch.zeros(4, dtype=tinytorch.float64),
            "idx": tinytorch.tensor([1, -2, 2**62], dtype=tinytorch.int64),
            "mask": tinytorch.tensor([True, False]),
            "scalar": tinytorch.tensor(3.5, requires_grad=True),
            "empty": tinytorch.zeros(0),
            "empty2d": tinytorch.zeros(2, 0, dtype=tinytorch.int64),
            "layers": [tinytorch.ones(2), (tinytorch.ones(1, 1, dtype=tinytorch.float64), None)],
        },
        "optimizer": {
            "state": {0: {"step": 7, "exp_avg": np.arange(6.0).reshape(2, 3)},
                      1: {"step": 7, "exp_avg": np.zeros((0, 5), np.float32)}},
            "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1],
                              "weight_decay": 0.0, "amsgrad": False, "name": None}],
        },
        "numbers": [0.1, -0.0, float("nan"), float("inf"), -float("inf"), 5e-324,
                    1.7976931348623157e308, 2**128 + 1, -(2**300), True, False, 0],
        "numpy_scalars": [np.float32(0.25), np.int64(-3), np.bool_(True), np.float64(1 / 3)],
        "strings": ["", "héllo wörld", "日本語 ✓ 🚀", "\x00\n\"'\\", "\ud800 (lone surrogate)"],
        "looks_like_a_tag": {"type": "tensor", "index": 0, "items": []},
        "keys": {1: "one", "1": "string one", -5: None, 2**70: "big", 1.5: "float", None: 0},
        "strided": np.arange(20, dtype=np.int32).reshape(4, 5)[::2, ::-2],
        "fortran": np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3)),
        "big_endian": np.arange(3, dtype=">f4"),
        "unicode_array": np.array(["ab", "ĉd"]),
    }


# -- round trips -----------------------------------------------------------------------------
@pytest.mark.parametrize("to", ["path", "fileobj"])
def test_nested_round_trip_is_exact(tmp_path, to):
    state = nested_state()
    back = roundtrip(state, tmp_path if to == "path" else None)
    assert_same(state, back)
    assert back["model"]["w"] is back["model"]["tied"]  # tied weights stay tied
    assert back["model"]["w"].is_leaf and back["model"]["w"].grad is None


def test_file_is_plain_npz_readable_without_tinytorch(tmp_path):
    path = tmp_path / "model.ckpt"
    tinytorch.save({"w": tinytorch.ones(2, 3)}, path)
    assert sorted(os.listdir(tmp_path)) == ["model.ckpt"]  # no ".npz" appended, no temp left
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(bytes(npz[HEADER_ENTRY]))
        assert header["format"] == "tinytorch-checkpoint" and header["version"] == 1
        assert header["tensors"][0]["dtype"] == "<f4" and header["tensors"][0]["shape"] == [2, 3]
        assert np.array_equal(npz[header["tensors"][0]["entry"]], np.ones((2, 3), np.float32))


def test_tensors_from_ops_and_parameters_save_their_values():
    x = tinytorch.randn(3, requires_grad=True)
    p = tinytorch.nn.Parameter(tinytorch.randn(2))
    back = roundtrip({"y": x * 2, "p": p})
    assert back["y"].requires_grad and back["y"].is_leaf
    assert np.array_equal(back["y"].detach().numpy(), (x * 2).detach().numpy())
    assert type(back["p"]) is tinytorch.Tensor and back["p"].requires_grad


_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
_arrays = st.sampled_from([np.float32, np.float64, np.int64, np.bool_]).flatmap(
    lambda dt: hnp.arrays(dt, _shapes))
_tensors = st.tuples(_arrays, st.booleans()).map(
    lambda a: tinytorch.from_numpy(a[0]).requires_grad_(a[1] and a[0].dtype.kind == "f"))
_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**200), 2**200), st.floats(), st.text(max_size=6),
    _arrays, _tensors,
)
_keys = st.one_of(st.text(max_size=4), st.integers(-(2**70), 2**70))
_trees = st.recursive(
    _leaves,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.lists(kids, max_size=3).map(tuple),
                           st.dictionaries(_keys, kids, max_size=3)),
    max_leaves=8,
)


@given(_trees)
def test_random_nested_structures_round_trip(tree):
    assert_same(tree, roundtrip(tree))


def test_rng_state_round_trip_continues_the_same_stream(tmp_path):
    tinytorch.manual_seed(1234)
    tinytorch.randn(10)  # advance a little, so the state is not a fresh seed's
    tinytorch.save({"rng": tinytorch.get_rng_state()}, tmp_path / "rng.ckpt")
    expected = tinytorch.randn(100).numpy().copy()
    tinytorch.rand(7)  # move on
    state = tinytorch.load(tmp_path / "rng.ckpt")["rng"]
    assert state["state"]["state"] >= 2**64 or state["state"]["inc"] >= 2**64  # 128-bit ints
    tinytorch.set_rng_state(state)
    assert np.array_equal(tinytorch.randn(100).numpy(), expected)


# -- map_location ----------------------------------------------------------------------------
needs_no_cuda = pytest.mark.skipif(tinytorch.cuda.is_available(), reason="CUDA is available here")


def test_map_location_cpu():
    back = roundtrip({"w": tinytorch.ones(2, requires_grad=True)}, map_location="cpu")
    assert back["w"].device.type == "cpu" and back["w"].requires_grad


def test_map_location_unknown_device():
    with pytest.raises(ValueError, match="unknown device"):
        roundtrip({"w": tinytorch.ones(2)}, map_location="tpu")


@needs_no_cuda
def test_map_location_cuda_without_cuda_says_how():
    with pytest.raises(RuntimeError, match="cuda"):
        roundtrip({"w": tinytorch.ones(2)}, map_location="cuda")


@needs_no_cuda
def test_checkpoint_saved_on_gpu_needs_map_location_cpu_here(tmp_path):
    path = tmp_path / "gpu.ckpt"
    tinytorch.save({"w": tinytorch.ones(2)}, path)
    rewrite(path, edit_header=lambda h: h["tensors"][0].update(device="cuda"))
    with pytest.raises(CheckpointError, match="map_location='cpu'") as err:
        tinytorch.load(path)
    assert str(path) in str(err.value)
    assert tinytorch.load(path, map_location="cpu")["w"].device.type == "cpu"


@pytest.mark.skipif(not tinytorch.cuda.is_available(), reason="needs CUDA + CuPy")
def test_gpu_round_trip(tmp_path):
    path = tmp_path / "gpu.ckpt"
    w = tinytorch.randn(3, 2, requires_grad=True).to("cuda")
    tinytorch.save({"w": w}, path)
    with np.load(path) as npz:  # stored as plain NumPy
        assert json.loads(bytes(npz[HEADER_ENTRY]))["tensors"][0]["device"] == "cuda"
    back = tinytorch.load(path)
    assert back["w"].device.type == "cuda"
    assert_same(w, back["w"])
    assert tinytorch.load(path, map_location="cpu")["w"].device.type == "cpu"
    assert tinytorch.load(path, map_location="cuda")["w"].device.type == "cuda"


# -- atomic writes ---------------------------------------------------------------------------
_CHILD = textwrap.dedent("""
    import os, sys, time
    import tinytorch

    path, mode = sys.argv[1], sys.argv[2]
    new = {"w": tinytorch.full((2_000_000,), 2.0), "tag": "new"}   # 8 MB

    def stall():
        print("READY", flush=True)
        time.sleep(600)  # the parent SIGKILLs us here

    if mode == "mid_write":  # stop with the 8 MB tensor written but the zip not finished
        import numpy as np
        real_write_array = np.lib.format.write_array

        def slow_write_array(fp, array, *args, **kwargs):
            real_write_array(fp, array, *args, **kwargs)
            if array.size >= 2_000_000:
                stall()

        np.lib.format.write_array = slow_write_array
    elif mode == "before_replace":  # the temp file is complete and fsynced, not yet renamed
        real_replace = os.replace
        def slow_replace(src, dst):
            stall()
            real_replace(src, dst)
        os.replace = slow_replace
    else:  # "loop": save again and again, killed at an arbitrary moment
        print("READY", flush=True)
        while True:
            tinytorch.save(new, path)
    tinytorch.save(new, path)
""")


def _start_child(path, mode):
    path_var = str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    env = dict(os.environ, PYTHONPATH=path_var)
    return subprocess.Popen([sys.executable, "-c", _CHILD, str(path), mode], env=env,
                            stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("mode", ["mid_write", "before_replace", "loop"])
def test_killed_save_leaves_the_old_checkpoint(tmp_path, mode):
    path = tmp_path / "ckpt.tt"
    old = {"w": tinytorch.arange(10.0), "tag": "old"}
    tinytorch.save(old, path)
    child = _start_child(path, mode)
    try:
        line = child.stdout.readline()  # blocks until the child reached its stall point
        assert line.startswith("READY"), line
        if mode == "loop":
            time.sleep(0.3)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    back = tinytorch.load(path)  # always a complete checkpoint...
    if mode == "loop":  # ...the old one or, if a save finished, the new one
        assert back["tag"] in ("old", "new")
        if back["tag"] == "new":
            assert np.array_equal(back["w"].numpy(), np.full(2_000_000, 2.0, np.float32))
    else:
        assert_same(old, back)
    stale = [p for p in tmp_path.iterdir() if p != path]
    for p in stale:  # a killed process can't clean up, but its leftovers are never the target
        assert p.name.startswith(".ckpt.tt.") and p.name.endswith(".tmp"), p.name
    if mode != "loop":
        assert len(stale) == 1  # the temp file the child was writing
    if mode == "mid_write":
        with pytest.raises(CheckpointError, match="damaged or truncated|not a readable"):
            tinytorch.load(stale[0])


def test_failed_save_removes_its_temp_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.tt"
    tinytorch.save({"v": 1}, path)

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space left"):
        tinytorch.save({"v": 2, "w": tinytorch.ones(1000)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.tt"]
    assert tinytorch.load(path) == {"v": 1}


def test_unsupported_object_fails_before_touching_the_file(tmp_path):
    path = tmp_path / "ckpt.tt"
    tinytorch.save({"v": 1}, path)
    with pytest.raises(TypeError):
        tinytorch.save({"v": 2, "f": print}, path)
    assert os.listdir(tmp_path) == ["ckpt.tt"] and tinytorch.load(path) == {"v": 1}


def test_permissions_and_symlinks(tmp_path):
    path = tmp_path / "new.ckpt"
    tinytorch.save({}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~umask)  # not the temp file's 0600
    path.chmod(0o640)
    tinytorch.save({"v": 2}, path)
    assert (path.stat().st_mode & 0o777) == 0o640  # kept on overwrite
    link = tmp_path / "latest.ckpt"
    link.symlink_to(path.name)
    tinytorch.save({"v": 3}, link)
    assert link.is_symlink() and tinytorch.load(path) == {"v": 3}


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tinytorch.save({}, tmp_path / "nope" / "ckpt.tt")



# -- what save refuses -----------------------------------------------------------------------
def test_unsupported_type_names_the_key_path():
    class Thing:
        pass

    state = {"model": {"layers": [1, 2, 3, Thing()]}}
    with pytest.raises(TypeError, match=r"obj\['model'\]\['layers'\]\[3\]") as err:
        tinytorch.save(state, io.BytesIO())
    assert "Thing" in str(err.value)


def test_unsupported_key_and_dtype_and_cycles():
    with pytest.raises(TypeError, match=r"obj\[\(1, 2\)\].*tuple"):
        tinytorch.save({(1, 2): 0}, io.BytesIO())
    with pytest.raises(TypeError, match=r"obj\['a'\].*object"):
        tinytorch.save({"a": np.array([{}, None], dtype=object)}, io.BytesIO())
    cyclic = {"a": []}
    cyclic["a"].append(cyclic)
    with pytest.raises(ValueError, match="cycle"):
        tinytorch.save(cyclic, io.BytesIO())
    shared = [1]
    assert roundtrip({"a": shared, "b": shared}) == {"a": [1], "b": [1]}  # shared is not a cycle


# -- what load refuses -----------------------------------------------------------------------
def _valid(tmp_path, name="good.ckpt"):
    path = tmp_path / name
    tinytorch.save({"w": tinytorch.arange(1000.0, dtype=tinytorch.float64), "n": 1}, path)
    return path


def _refused(path, *patterns, error=CheckpointError):
    with pytest.raises(error) as err:
        tinytorch.load(path)
    message = str(err.value)
    assert str(path) in message, message
    for pattern in patterns:
        assert pattern in message, message
    return message


def test_missing_file(tmp_path):
    _refused(tmp_path / "missing.ckpt", "no such file", error=FileNotFoundError)


@pytest.mark.parametrize("content", [b"", b"\x00" + np.random.default_rng(0).bytes(999),
                                     b"hello, this is text\n"])
def test_not_a_zip(tmp_path, content):
    path = tmp_path / "junk.ckpt"
    path.write_bytes(content)
    _refused(path, "empty" if not content else "not a tinytorch checkpoint")


def test_truncated_and_corrupted(tmp_path):
    path = _valid(tmp_path)
    data = path.read_bytes()
    half = tmp_path / "half.ckpt"
    half.write_bytes(data[: len(data) // 2])
    _refused(half, "truncated")
    flipped = bytearray(data)
    at = data.find(np.arange(1000.0).tobytes()) + 4000
    flipped[at] ^= 0xFF
    bad = tmp_path / "flipped.ckpt"
    bad.write_bytes(bytes(flipped))
    _refused(bad, "damaged")


def test_npz_and_zip_without_header(tmp_path):
    path = tmp_path / "plain.npz"
    np.savez(path, a=np.ones(3))
    _refused(path, "not a tinytorch checkpoint", "numpy.load")
    import zipfile

    path = tmp_path / "plain.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hi")
    _refused(path, "not a tinytorch checkpoint")
    path = tmp_path / "one.npy"
    np.save(path, np.ones(3))
    _refused(path, ".npy")


def test_wrong_format_and_newer_version(tmp_path):
    path = _valid(tmp_path)
    rewrite(path, edit_header=lambda h: h.update(format="someone-else"))
    _refused(path, "'someone-else'")
    path = _valid(tmp_path)
    rewrite(path, edit_header=lambda h: h.update(version=2))
    _refused(path, "version 2", "Upgrade")
    path = _valid(tmp_path)
    rewrite(path, edit_arrays=lambda a: a.update({HEADER_ENTRY: np.frombuffer(b"{nope", np.uint8)}))
    _refused(path, "not valid JSON")


def test_header_that_does_not_match_the_entries(tmp_path):
    path = _valid(tmp_path)
    rewrite(path, edit_arrays=lambda a: a.pop("t0"))
    _refused(path, "'t0'", "missing")
    path = _valid(tmp_path)
    rewrite(path, edit_header=lambda h: h["tensors"][0].update(dtype="<f4"))
    _refused(path, "dtype")
    path = _valid(tmp_path)
    rewrite(path, edit_header=lambda h: h["tensors"][0].update(shape=[10, 100]))
    _refused(path, "shape")
    path = _valid(tmp_path)
    rewrite(path, edit_header=lambda h: h["root"]["items"][0][1].update(index=5))
    _refused(path, "#5")
    path = _valid(tmp_path)
    rewrite(path, edit_header=lambda h: h["root"]["items"][1].__setitem__(1, {"type": "set"}))
    _refused(path, "unknown node")


def test_object_array_entry_is_refused_not_unpickled(tmp_path):
    path = _valid(tmp_path)
    marker = tmp_path / "pwned"
    rewrite(path, edit_arrays=lambda a: a.update(t0=np.array([_Evil(marker)], dtype=object)))
    _refused(path, "pickle")
    assert not marker.exists()


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_pickle_file_is_refused_and_nothing_runs(tmp_path, protocol):
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(_Evil(control), protocol=protocol)).close()
    assert control.exists()  # the payload is live: unpickling it does run code

    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"w": np.ones(3), "x": _Evil(marker)}, protocol=protocol))
    _refused(path, "pickle", "arbitrary code", "torch.load")
    assert not marker.exists()


def test_load_never_unpickles_and_never_trusts_np_load(tmp_path, monkeypatch):
    """tinytorch.npz_reader reads the file: no pickle, and no np.load (it trusts sizes)."""
    state = nested_state()
    path = _saved(tmp_path, state)

    def forbidden(*args, **kwargs):
        raise AssertionError("tinytorch.load must not call this")

    for module, name in [(pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"),
                         (np, "load"), (np.lib.format, "read_array")]:
        monkeypatch.setattr(module, name, forbidden)
    assert_same(state, tinytorch.load(path))


def _saved(tmp_path, state):
    path = tmp_path / "s.ckpt"
    tinytorch.save(state, path)
    return path


# -- PyTorch checkpoints (only with torch installed) -----------------------------------------
@pytest.mark.parametrize("zipfile_format", [True, False])
def test_torch_save_file_is_refused_and_nothing_runs(tmp_path, zipfile_format):
    torch = pytest.importorskip("torch")
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(3), "evil": _Evil(marker)}, path,
               _use_new_zipfile_serialization=zipfile_format)
    _refused(path, "PyTorch" if zipfile_format else "pickle", "arbitrary code")
    assert not marker.exists()


def test_the_suggested_torch_conversion_works(tmp_path):
    torch = pytest.importorskip("torch")
    lin = torch.nn.Linear(3, 2)
    torch.save(lin.state_dict(), tmp_path / "lin.pt")
    sd = torch.load(tmp_path / "lin.pt", weights_only=True)
    tinytorch.save({k: tinytorch.from_numpy(v.detach().cpu().numpy()) for k, v in sd.items()},
                   tmp_path / "lin.ckpt")
    back = tinytorch.load(tmp_path / "lin.ckpt")
    assert list(back) == ["weight", "bias"]
    assert np.array_equal(back["weight"].numpy(), lin.weight.detach().numpy())
