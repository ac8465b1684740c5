"""Checkpoints: ``save(obj, f)`` and ``load(f)`` for state dicts, without pickle.

What a checkpoint holds
-----------------------
A state dict: nested dicts (``str``, ``int``, ``float``, ``bool`` or ``None`` keys; optimizer
state dicts use ``int`` keys), lists, tuples, tinytorch Tensors, NumPy arrays and scalars, and
Python ``int``/``float``/``bool``/``str``/``None``. Anything else (a Module, a function, an
object) is refused with a ``TypeError`` naming where it sits, e.g. ``obj['model']['layers'][3]``:
save its ``state_dict()`` instead. A Tensor keeps its values, dtype, shape, ``requires_grad``
and device; it comes back as a plain leaf Tensor (a ``Parameter`` as a ``Tensor``, as in a
PyTorch state dict), without ``.grad`` or graph.

The file format
---------------
A checkpoint is a plain NumPy ``.npz`` file, i.e. a zip archive of ``.npy`` arrays:

- ``t0.npy``, ``t1.npy``, ...: one entry per Tensor or array, the raw numbers. CuPy (GPU)
  arrays are copied to the host first, so a checkpoint saved on a GPU loads without CuPy.
- ``tinytorch_header.npy``: a ``uint8`` array holding UTF-8 JSON that describes the rest::

    {"format": "tinytorch-checkpoint", "version": 1,
     "tensors": [{"entry": "t0", "kind": "tensor", "dtype": "<f4", "shape": [3, 4],
                  "requires_grad": true, "device": "cpu"}, ...],
     "root": {"type": "dict", "items": [["model", {"type": "dict", "items": [...]}], ...]}}

  ``root`` is the saved object as a tree. A JSON ``null``/``true``/number/string is that
  Python value; every container is tagged so nothing is ambiguous: ``{"type": "dict", "items":
  [[key, value], ...]}`` (a list of pairs, so ``int`` keys stay ``int`` and the order is
  kept), ``{"type": "list" | "tuple", "items": [...]}``, ``{"type": "tensor" | "ndarray" |
  "scalar", "index": i}`` (row ``i`` of ``tensors``; a tensor that appears twice, like tied
  weights, is stored once and comes back as one object), and ``{"type": "float", "value":
  "nan" | "inf" | "-inf"}`` for the floats that strict JSON cannot spell. ``dtype`` is NumPy's
  portable spelling (``"<f4"`` = little-endian float32, ``"|b1"`` = bool).

Floats round-trip exactly: JSON numbers are written with ``repr``, the shortest text that
reads back to the same double (``-0.0`` included; a Python float NaN comes back as the plain
``nan``, while NaNs inside arrays keep their exact bits). Python ints of any size round-trip too,
which the random generator's state needs (PCG64 keeps 128-bit integers). The header is
strict, ASCII-only JSON, so any tool can read it: with plain NumPy,
``json.loads(bytes(np.load("ckpt.npz")["tinytorch_header"]))``.

Why no pickle
-------------
``torch.save`` pickles. Unpickling can call any function named in the file, so loading a
checkpoint someone sent you can run their code on your machine. Here the header is data
(JSON), the numbers are data (``.npy``), and every ``np.load`` passes ``allow_pickle=False``,
so loading a file, even a hostile one, can only produce dicts, lists, numbers, strings and
arrays. Pickles and PyTorch checkpoints are recognised and refused with an explanation.

Why atomic
----------
A training run saves a checkpoint every few minutes, always to the same path. If the
process dies halfway through a save (preempted, out of memory, Ctrl-C), a naive write leaves
half a file where the last good checkpoint was, and the run cannot resume. So ``save`` to a
path writes a temporary file next to the target (``.NAME.XXXX.tmp``, same directory, hence
same filesystem), flushes it and ``fsync``s it to disk, then ``os.replace``s it onto the
target, which swaps the name in one step: a reader (or a crash) sees either the old complete
file or the new complete file, never a mix. Then the directory is ``fsync``ed (best effort) so
the rename itself survives a power cut. If anything fails, the temporary file is removed; a
process killed with SIGKILL cannot clean up, so a stale ``.NAME.*.tmp`` can be left behind,
never the target. Saving to an open file object writes into it directly: that is not atomic.
A path that exists but is not a regular file (a directory, a FIFO, a device such as
``/dev/null``, a socket) is refused: the rename would replace it with a file.

Why bounded
-----------
A damaged or hostile file must not hang, crash or exhaust memory: ``load`` refuses a path that
is not a regular file before opening it (reading a FIFO would wait forever), refuses a JSON
header over ``MAX_HEADER_BYTES`` or nested deeper than ``MAX_HEADER_DEPTH`` (``save`` refuses
to write one), and reads the arrays with ``tinytorch.npz_reader``, which checks every size a
file declares against the bytes it really holds before allocating anything.
"""

from __future__ import annotations

import errno
import io
import itertools
import json
import math
import os
import re
import stat
import tempfile
import zipfile

import numpy as np

from . import backend
from .npz_reader import (ARRAY_KINDS, PICKLE_FIX, file_kind, open_archive, open_regular_file,
                         read_array, refuse_non_zip, short)
from .tensor import Tensor

__all__ = ["FORMAT", "HEADER_ENTRY", "VERSION", "CheckpointError", "load", "save"]

FORMAT = "tinytorch-checkpoint"
VERSION = 1
HEADER_ENTRY = "tinytorch_header"

# Limits on the JSON header, so a hostile file cannot exhaust memory or the Python stack.
MAX_HEADER_BYTES = 16 << 20   # 16 MiB; a translator's header (tokenizer included) is ~1 MiB
MAX_HEADER_DEPTH = 128        # [ and { levels; each saved dict adds 3, each list/tuple 2
MAX_NESTING = 40              # containers inside containers that save accepts (3*40+2 < 128)


class CheckpointError(ValueError):
    """A file that ``tinytorch.load`` cannot read; the message says which file and why."""


# --------------------------------------------------------------------------------------------
# save
# --------------------------------------------------------------------------------------------
def save(obj, f) -> None:
    """Save a state dict (nested dicts/lists/tuples of Tensors, arrays and numbers) to ``f``.

    ``f`` is a path (``str`` or ``os.PathLike``), written atomically (see the module
    docstring), or a binary file object opened for writing, written in place (not atomic).
    The file is a NumPy ``.npz`` whatever its name; no ``.npz`` suffix is added.
    """
    arrays: list[np.ndarray] = []
    specs: list[dict] = []
    root = _Encoder(arrays, specs).encode(obj, "obj", ())
    header = {"format": FORMAT, "version": VERSION, "tensors": specs, "root": root}
    text = json.dumps(header, allow_nan=False, separators=(",", ":"))  # ASCII: \u escapes
    if len(text) > MAX_HEADER_BYTES:
        raise ValueError(f"save: the checkpoint's non-tensor part is {len(text)} bytes of JSON, "
                         f"more than load accepts ({MAX_HEADER_BYTES}). Store big data as "
                         f"arrays (np.array or Tensors) instead of lists of numbers.")
    header_array = np.frombuffer(text.encode("ascii"), dtype=np.uint8)

    def write(fileobj):
        _write_npz(fileobj, header_array, arrays)

    if isinstance(f, (str, bytes, os.PathLike)):
        _atomic_write(os.fsdecode(f), write)
    else:
        write(f)


class _Encoder:
    """Turns the object into the JSON tree, collecting arrays into ``arrays`` on the way."""

    def __init__(self, arrays, specs):
        self.arrays, self.specs = arrays, specs
        self.seen: dict[int, tuple[object, int]] = {}  # id(tensor) -> (tensor, index)

    def encode(self, x, path: str, stack: tuple):
        if x is None or isinstance(x, (bool, str)):
            return x
        if isinstance(x, np.generic):  # before float: np.float64 is a float subclass
            return {"type": "scalar", "index": self._add(x, "scalar", path)}
        if isinstance(x, int):
            return int(x)
        if isinstance(x, float):
            x = float(x)
            return x if math.isfinite(x) else {"type": "float", "value": repr(x)}
        if isinstance(x, Tensor):
            return {"type": "tensor", "index": self._add(x, "tensor", path)}
        if isinstance(x, np.ndarray) or _is_cupy_array(x):
            return {"type": "ndarray", "index": self._add(x, "ndarray", path)}
        if isinstance(x, (dict, list, tuple)):
            if any(c is x for c in stack):
                raise ValueError(f"save: {path} contains itself (a reference cycle); "
                                 f"a checkpoint must be a tree")
            stack = (*stack, x)
            if len(stack) > MAX_NESTING:
                raise ValueError(f"save: {path[:200]} is nested more than {MAX_NESTING} "
                                 f"containers deep, more than load accepts; flatten it")
            if isinstance(x, dict):
                items = []
                for k, v in x.items():
                    key_path = f"{path}[{k!r}]"
                    plain = k is None or isinstance(k, (str, int, float))
                    if not plain or isinstance(k, np.generic):
                        raise TypeError(
                            f"save: can't save {key_path}: its key has type "
                            f"{_typename(k)}; checkpoint dict keys must be str, int, float, "
                            f"bool or None. Convert the key, e.g. to str.")
                    items.append([self.encode(k, key_path + " (the key)", stack),
                                  self.encode(v, key_path, stack)])
                return {"type": "dict", "items": items}
            kind = "list" if isinstance(x, list) else "tuple"
            return {"type": kind,
                    "items": [self.encode(v, f"{path}[{i}]", stack) for i, v in enumerate(x)]}
        hint = (" Save its state_dict() instead." if hasattr(x, "state_dict") else
                " Convert it to a Tensor, array, number, string or container first.")
        raise TypeError(
            f"save: can't save {path}: type {_typename(x)} is not supported. A checkpoint holds "
            f"dicts, lists, tuples, Tensors, NumPy arrays and int/float/bool/str/None.{hint}")

    def _add(self, x, kind: str, path: str) -> int:
        known = self.seen.get(id(x))
        if known is not None and known[0] is x and kind != "scalar":
            return known[1]
        if kind == "tensor":
            arr, requires_grad, device = x.array, x.requires_grad, backend.device_of(x.array)
        else:
            arr, requires_grad = x, False
            device = "cpu" if isinstance(x, (np.ndarray, np.generic)) else "cuda"
        arr = np.asarray(backend.as_numpy(arr))
        if arr.dtype.kind not in ARRAY_KINDS:
            raise TypeError(
                f"save: can't save {path}: dtype {arr.dtype} is not supported (object and "
                f"structured arrays would need pickle). Convert it to a numeric array.")
        index = len(self.arrays)
        self.arrays.append(arr)
        self.specs.append({"entry": f"t{index}", "kind": kind, "dtype": arr.dtype.str,
                           "shape": list(arr.shape), "requires_grad": bool(requires_grad),
                           "device": device})
        self.seen[id(x)] = (x, index)
        return index


def _write_npz(fileobj, header_array, arrays) -> None:
    """What ``np.savez`` does, spelled out: a zip with one ``.npy`` per array, never pickled."""
    with zipfile.ZipFile(fileobj, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        entries = [(HEADER_ENTRY, header_array)] + [(f"t{i}", a) for i, a in enumerate(arrays)]
        for name, arr in entries:
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


def _atomic_write(path: str, write) -> None:
    """Write via a temp file in the same directory + fsync + os.replace (see module doc)."""
    path = os.path.realpath(path)  # through a symlink, as open() would: keep the link
    directory, name = os.path.split(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(2, f"save: can't write {path!r}: directory {directory!r} does "
                                f"not exist. Create it first (os.makedirs)", directory)
    _refuse_non_regular_target(path)
    mode = _mode_for(path)
    tmp = tempfile.NamedTemporaryFile(dir=directory, prefix=f".{name}.", suffix=".tmp",  # noqa: SIM115
                                      delete=False)  # (closed by `with tmp` below)
    try:
        with tmp:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, mode)  # NamedTemporaryFile makes 0600; match a normal open()
        os.replace(tmp.name, path)
    except BaseException:
        try:
            os.unlink(tmp.name)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _refuse_non_regular_target(path: str) -> None:
    """os.replace would swap a directory, FIFO or device (as root: /dev/null) for a file."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return  # a new file: fine
    if not stat.S_ISREG(mode):
        error = IsADirectoryError if stat.S_ISDIR(mode) else FileExistsError
        code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EEXIST
        raise error(code, f"save: can't write {path!r}: it is {file_kind(mode)}, not a regular "
                    f"file, and saving would replace it. Give the path of a file", path)


def _mode_for(path: str) -> int:
    """The existing file's permissions, else what ``open(path, 'w')`` would give (0666 - umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        pass
    try:  # Linux shows the umask without changing it (os.umask would, for every thread)
        with open("/proc/self/status") as status:
            umask = next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)  # elsewhere the only way to read the umask is to set it...
        os.umask(umask)  # ...and put it back
    return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    """Make the rename durable. Best effort: some platforms cannot open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --------------------------------------------------------------------------------------------
# load
# --------------------------------------------------------------------------------------------
def load(f, map_location=None):
    """Load what ``save`` wrote. Tensors come back as Tensors, arrays as NumPy arrays.

    ``f``: a path or a binary file object (read from its current position).
    ``map_location``: ``None`` puts each tensor back on the device it was saved from (as
    PyTorch does; a GPU checkpoint then needs CuPy), ``'cpu'`` or ``'cuda'`` moves them all
    there. NumPy arrays always load as NumPy arrays.
    """
    device = None if map_location is None else backend.normalize_device(map_location)
    if device == "cuda":
        backend.cupy_module()  # fail now, with the install hint, not halfway through
    if isinstance(f, (str, bytes, os.PathLike)):
        name = os.fsdecode(f)
        with open_regular_file(name, _fail_for(name)) as fh:
            return _load_from(fh, name, device)
    name = repr(getattr(f, "name", None) or f)
    if not (hasattr(f, "seekable") and f.seekable()):
        f = io.BytesIO(f.read())  # zip needs to seek
    return _load_from(f, name, device)


_CORRUPT = "The file is corrupt or was edited; use another checkpoint."


def _fail_for(name: str):
    """``fail(what, fix)``: the one-line CheckpointError about file ``name``."""
    def fail(what: str, fix: str):
        return CheckpointError(f"load: {name} {what}. {fix}")
    return fail


def _load_from(fh, name: str, device):
    fail = _fail_for(name)
    start = fh.tell()
    magic = fh.read(8)
    fh.seek(start)
    refuse_non_zip(magic, fail)
    with open_archive(fh, fail) as zf:
        names = zf.namelist()
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            raise fail(
                "looks like a PyTorch checkpoint (torch.save: a zip holding data.pkl, a pickle)",
                PICKLE_FIX)
        if HEADER_ENTRY + ".npy" not in names:
            shown = ", ".join(short(n, 30) for n in names[:5]) + (", ..." if len(names) > 5 else "")
            raise fail(f"is a zip/.npz file but not a tinytorch checkpoint (no "
                       f"{HEADER_ENTRY} entry; it holds: {shown or 'nothing'})",
                       "Load plain .npz files with numpy.load; write checkpoints with "
                       "tinytorch.save.")
        header = _read_header(read_array(zf, HEADER_ENTRY, fail, MAX_HEADER_BYTES), fail)
        entries = [spec.get("entry") for spec in header["tensors"] if isinstance(spec, dict)]
        entries = [entry for entry in entries if isinstance(entry, str)]
        if len(set(entries)) < len(entries):  # each entry is read once: no zip bomb by reuse
            raise fail("has a header that lists the same entry twice", _CORRUPT)
        values = [_read_tensor(zf, i, spec, device, fail)  # [(kind, value), ...]
                  for i, spec in enumerate(header["tensors"])]
    return _Decoder(values, fail).decode(header["root"])


def _read_header(arr, fail) -> dict:
    if arr.dtype != np.uint8 or arr.ndim != 1:
        raise fail(f"has a {HEADER_ENTRY} entry of dtype {arr.dtype} and shape {arr.shape}, "
                   f"expected 1-d uint8 JSON", _CORRUPT)
    try:
        text = arr.tobytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise fail(f"has a header that is not valid JSON ({short(e)})", _CORRUPT) from None
    depth = _json_depth(text)
    if depth > MAX_HEADER_DEPTH:
        raise fail(f"has a header nested {depth} levels deep (at most {MAX_HEADER_DEPTH})",
                   _CORRUPT)
    try:
        header = json.loads(text)
    except ValueError as e:  # JSONDecodeError, or an int of more than 4300 digits
        raise fail(f"has a header that is not valid JSON ({short(e)})", _CORRUPT) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise fail(f"has a header of format {short(got)}, expected {FORMAT!r}",
                   "It was not written by tinytorch.save.")
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise fail(f"has an invalid format version {short(version)}", _CORRUPT)
    if version > VERSION:
        raise fail(f"was written in checkpoint format version {short(version)}, but this "
                   f"tinytorch reads up to version {VERSION}",
                   "Upgrade tinytorch (pip install -U ...) to load it.")
    if not isinstance(header.get("tensors"), list) or "root" not in header:
        raise fail("has a header without 'tensors' and 'root'", _CORRUPT)
    return header


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


def _json_depth(text: str) -> int:
    """How deeply JSON ``text`` nests ``[`` and ``{``, counted without parsing it (parsers
    recurse, and 100,000 ``[`` would exhaust the stack)."""
    brackets = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))  # strings' brackets: no
    steps = [1 if ch in "[{" else -1 for ch in brackets]  # +1 opens a level, -1 closes one
    return max(itertools.accumulate(steps), default=0)


def _read_tensor(zf, i: int, spec, device, fail):
    def bad_row(what):
        return fail(f"has a header row tensors[{i}] with {what}", _CORRUPT)

    if not isinstance(spec, dict) or not {"entry", "kind", "dtype", "shape"} <= spec.keys():
        raise bad_row(f"missing fields: {short(spec)}")
    entry, kind, dtype, shape = spec["entry"], spec["kind"], spec["dtype"], spec["shape"]
    if kind not in ("tensor", "ndarray", "scalar") or not isinstance(entry, str):
        raise bad_row(f"unknown kind {short(kind)} or entry {short(entry)}")
    if not (isinstance(dtype, str) and isinstance(shape, list)
            and all(isinstance(n, int) and not isinstance(n, bool) for n in shape)):
        raise bad_row(f"a bad dtype {short(dtype)} or shape {short(shape)}")
    saved_on = spec.get("device", "cpu")
    if saved_on not in ("cpu", "cuda"):
        raise bad_row(f"an unknown device {short(saved_on)}")
    arr = read_array(zf, entry, fail)
    if arr.dtype.str != dtype or list(arr.shape) != shape:
        raise fail(f"has entry {short(entry)} with dtype {arr.dtype.str} and shape "
                   f"{list(arr.shape)}, but the header says dtype {short(dtype)} and shape "
                   f"{short(shape)}", _CORRUPT)
    if kind == "scalar":
        return kind, arr[()]
    if kind == "ndarray":
        return kind, arr
    target = device or saved_on
    if target != "cpu":
        if device is None and not backend.is_cuda_available():
            raise fail(f"holds tensor {short(entry)} saved on 'cuda', and CUDA is not available "
                       f"here", "Pass map_location='cpu' to load it onto the CPU.")
        arr = backend.to_device(arr, target)
    try:
        return kind, Tensor(arr, requires_grad=bool(spec.get("requires_grad", False)))
    except (RuntimeError, TypeError, ValueError) as e:  # requires_grad on an integer tensor
        raise fail(f"has a bad tensor entry {short(entry)} ({short(e)})", _CORRUPT) from None


class _Decoder:
    """The JSON tree back into Python objects; refuses anything ``_Encoder`` cannot write."""

    def __init__(self, values, fail):
        self.values, self.fail = values, fail

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in ("list", "tuple") and isinstance(node.get("items"), list):
                items = [self.decode(v) for v in node["items"]]
                return items if kind == "list" else tuple(items)
            if kind == "dict" and isinstance(node.get("items"), list):
                out = {}
                for pair in node["items"]:
                    if not (isinstance(pair, list) and len(pair) == 2):
                        break
                    key = self.decode(pair[0])
                    if not (key is None or isinstance(key, (str, int, float))):
                        break
                    out[key] = self.decode(pair[1])
                else:
                    return out
            elif kind in ("tensor", "ndarray", "scalar"):
                index = node.get("index")
                number = isinstance(index, int) and not isinstance(index, bool)
                if number and 0 <= index < len(self.values):
                    if self.values[index][0] == kind:
                        return self.values[index][1]
                    problem = f"a {self.values[index][0]}, not a {kind}"
                else:
                    problem = f"not in its list of {len(self.values)} tensors"
                raise self.fail(f"has a header that references tensor #{short(index)}, {problem}",
                                _CORRUPT)
            elif kind == "float" and node.get("value") in ("nan", "inf", "-inf"):
                return float(node["value"])
        raise self.fail(f"has a header with an unknown node {short(node)}",
                        "The file is corrupt, or was written by a newer tinytorch: upgrade.")


def _is_cupy_array(x) -> bool:
    return type(x).__module__.startswith("cupy") and hasattr(x, "__cuda_array_interface__")


def _typename(x) -> str:
    t = type(x)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
