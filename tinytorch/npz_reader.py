"""Reading a checkpoint's zip/.npz container without trusting it (used by ``tinytorch.load``).

``numpy.load`` believes what a file says about itself. A file is only bytes, though, and a
damaged or hostile one can say anything:

- a 1 KB file whose ``.npy`` header claims shape ``(100000, 100000)``: ``numpy.load``
  allocates 37 GiB before it finds out the numbers are not there;
- a "zip bomb": 1 MB of deflate data that expands to 1 GB, or many zip entries that all
  point at the same bytes;
- a ``.npy`` header that is not the small dict NumPy writes: NumPy parses it with
  ``ast.literal_eval``, which deep nesting (``-`` 5,000 times) crashes with RecursionError.

So this module reads the container itself and checks every claim against the bytes that are
really there, before it allocates anything:

0. ``open_regular_file``: the path is a regular file, not a directory, a device or a FIFO
   (opening a FIFO waits for a writer, forever if none comes).
1. ``open_archive``: every zip entry's data lies inside the file, and all entries together
   fit in it (entries that share bytes are refused).
2. ``read_array``: the entry is stored (as ``tinytorch.save`` writes it) or deflated (as
   ``np.savez_compressed`` writes it), not encrypted; its ``.npy`` header is the plain dict
   NumPy writes (parsed with a regular expression, never evaluated); the dtype is numeric
   (never ``object``, so nothing can be unpickled); and ``itemsize x number of elements``
   equals the entry's size in the zip directory. A deflated entry may not claim to expand
   more than deflate can (1032:1), and all of them together not more than 100 times the
   file (or 64 MiB): weights do not compress like that.
3. Only then is the array allocated, and the numbers are read into it in 1 MiB chunks, never
   more than the header declared. The zip module checks the CRC-32 at the end, so a flipped
   byte anywhere in the data is caught.

Every failure is a ``CheckpointError`` built by the caller's ``fail(what, fix)``.
"""

from __future__ import annotations

import math
import os
import re
import stat
import struct
import zipfile
import zlib

import numpy as np

# Array dtypes a checkpoint can hold: bool, (unsigned) ints, floats, complex, fixed-size
# strings/bytes, dates and durations. Not "O" (object arrays need pickle) nor "V" (structs).
ARRAY_KINDS = "biufcUSMm"

CHUNK = 1 << 20                 # read the numbers 1 MiB at a time
MAX_NPY_HEADER = 4096           # NumPy writes ~128 bytes for the dicts a checkpoint has
MAX_DEFLATE_RATIO = 1032        # deflate cannot expand data more than this
# Compressed entries may expand to 64 MiB in all, or 100 times the file's size if that is
# more: float weights hardly compress, so a file that grows 1,000-fold is a zip bomb, not
# a checkpoint (tinytorch.save never compresses).
MAX_EXPANSION, FREE_EXPANSION = 100, 64 << 20

# What the zip module raises on damaged data: NotImplementedError for a "zip version 6.4",
# UnicodeDecodeError for a name that is not UTF-8 (and ValueError when reading the directory).
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, struct.error,
               NotImplementedError, UnicodeDecodeError)

# The .npy header NumPy writes: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
_NPY_HEADER = re.compile(r"\{\s*'descr':\s*'([^']{1,64})',\s*'fortran_order':\s*(True|False),"
                         r"\s*'shape':\s*\(([0-9,\s]{0,1000})\),?\s*\}\s*")

_DAMAGED = "Use the last good checkpoint, or save it again."


def short(x, limit: int = 60) -> str:
    """``repr(x)`` cut to ``limit`` characters: error messages quote file content briefly."""
    text = repr(x) if not isinstance(x, BaseException) else str(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


PICKLE_FIX = (
    "tinytorch never loads pickles, because loading a pickle can run arbitrary code. If you "
    "trust the file, convert it with PyTorch: sd = torch.load(path, weights_only=True); "
    "tinytorch.save({k: tinytorch.from_numpy(v.detach().cpu().numpy()) for k, v in sd.items()}, "
    "'model.ckpt') "
    "(apply the same to nested dicts such as an optimizer's state)"
)


def refuse_non_zip(magic: bytes, fail) -> None:
    """Recognise what the first bytes say the file is, before handing it to the zip reader."""
    if magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # zip (or empty zip)
        return
    if not magic:
        raise fail("is empty (0 bytes)",
                   "That is what an interrupted non-atomic write leaves (tinytorch.save to a "
                   "path is atomic); use an older checkpoint or save again.")
    if magic[0] == 0x80 and len(magic) > 1 and magic[1] <= 5:  # PROTO opcode + version 0..5
        raise fail(f"looks like a pickle file (protocol {magic[1]}; also what torch.save wrote "
                   f"before PyTorch 1.6)", PICKLE_FIX)
    if magic.startswith(b"\x93NUMPY"):
        raise fail("is a single NumPy .npy array, not a checkpoint",
                   "Load it with numpy.load, or wrap it: tinytorch.save({'x': arr}, path).")
    raise fail(f"is not a tinytorch checkpoint: it does not start like a zip/.npz file "
               f"(first bytes {short(magic)})",
               "Check the path; checkpoints are written by tinytorch.save.")


def open_regular_file(name: str, fail):
    """``open(name, 'rb')``, refusing a directory, FIFO, device or socket first.

    ``os.stat`` looks without opening: opening a FIFO waits for a writer, possibly forever.
    The file is then opened with O_NONBLOCK (so even a FIFO swapped in meanwhile cannot
    block) and checked again.
    """
    def refuse(mode):
        return fail(f"is {file_kind(mode)}, not a checkpoint file",
                    "Give the path of the checkpoint file itself.")

    try:
        mode = os.stat(name).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(
            2, f"load: no checkpoint at {name!r} (no such file). Check the path and the "
            f"working directory ({os.getcwd()!r})", name) from None
    if not stat.S_ISREG(mode):
        raise refuse(mode)
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise refuse(mode)
    return os.fdopen(fd, "rb")


def file_kind(mode: int) -> str:
    """'a directory', 'a FIFO (named pipe)', ... for an ``os.stat`` mode."""
    kinds = [(stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def open_archive(fh, fail) -> zipfile.ZipFile:
    """The zip archive in ``fh``, after checking its directory against the file's real size."""
    size = fh.seek(0, os.SEEK_END)
    try:
        zf = zipfile.ZipFile(fh)
    except (*_ZIP_ERRORS, ValueError) as e:
        raise fail(f"is not a readable zip/.npz file, it is damaged or truncated ({short(e)})",
                   _DAMAGED) from None
    total = expanded = 0
    for info in zf.infolist():  # each entry: a 30-byte local header, then its data
        total += 30 + info.compress_size
        if info.compress_type != zipfile.ZIP_STORED:
            expanded += info.file_size
        if info.header_offset < 0 or info.header_offset + 30 + info.compress_size > size:
            zf.close()
            raise fail(f"has a zip entry {short(info.filename)} whose data lies outside the "
                       f"file (it is truncated or damaged)", _DAMAGED)
    if total > size:
        zf.close()
        raise fail(f"has zip entries that claim {total} bytes in all but the file holds {size} "
                   f"(entries sharing bytes: damaged, or a zip bomb)", _DAMAGED)
    if expanded > max(FREE_EXPANSION, MAX_EXPANSION * size):
        zf.close()
        raise fail(f"has compressed entries that expand to {expanded} bytes from a file of "
                   f"{size} (over {MAX_EXPANSION}:1): a zip bomb, not weights",
                   "Save the checkpoint uncompressed, with tinytorch.save.")
    return zf


def read_array(zf: zipfile.ZipFile, entry: str, fail, max_bytes: int | None = None):
    """Entry ``entry`` (``entry + '.npy'`` in the zip) as a NumPy array, checked as above.

    ``max_bytes``: refuse an array larger than this (the JSON header has a size limit).
    """
    try:
        info = zf.getinfo(entry + ".npy")
    except KeyError:
        raise fail(f"has a header that references entry {short(entry)}, which is missing",
                   "The file is corrupt or was edited; use another checkpoint.") from None
    what = f"entry {short(entry)}"
    if info.flag_bits & 0x61:  # 0x01 encrypted, 0x20 patched data, 0x40 strong encryption
        raise fail(f"has an encrypted {what}", "Checkpoints are never encrypted; save it again.")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise fail(f"has a damaged {what}: stored {info.compress_size} bytes but listed as "
                   f"{info.file_size}", _DAMAGED)
    if info.compress_type == zipfile.ZIP_DEFLATED:
        if info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 1024:
            raise fail(f"has a damaged {what}: {info.compress_size} compressed bytes cannot "
                       f"expand to the {info.file_size} it claims (a zip bomb?)", _DAMAGED)
    elif info.compress_type != zipfile.ZIP_STORED:
        raise fail(f"has {what} compressed with zip method {info.compress_type}",
                   "Checkpoints are stored uncompressed (np.savez_compressed's deflate is "
                   "accepted too); save it again with tinytorch.save.")
    try:
        with zf.open(info) as member:
            return _read_npy(member, info, what, fail, max_bytes)
    except _ZIP_ERRORS as e:
        raise fail(f"has a damaged or truncated {what} ({short(e)})", _DAMAGED) from None


def _read_npy(member, info, what: str, fail, max_bytes):
    """One ``.npy`` file: magic, header length, header dict, then exactly the declared bytes."""
    magic = member.read(8)  # b"\x93NUMPY" + major and minor version
    if len(magic) < 8 or magic[:6] != b"\x93NUMPY" or magic[6] not in (1, 2, 3):
        raise fail(f"has {what} that is not a .npy array (it starts with {short(magic[:8])})",
                   _DAMAGED)
    length_size = 2 if magic[6] == 1 else 4  # version 1 stores the header length in 2 bytes
    header_len = int.from_bytes(member.read(length_size), "little")
    if header_len > MAX_NPY_HEADER:
        raise fail(f"has {what} with a {header_len}-byte .npy header (at most "
                   f"{MAX_NPY_HEADER} expected)", _DAMAGED)
    text = member.read(header_len).decode("latin-1")
    match = _NPY_HEADER.fullmatch(text)
    if match is None:
        raise fail(f"has {what} with a malformed .npy header {short(text)}", _DAMAGED)
    descr, fortran, shape_text = match.groups()
    try:
        dtype = np.dtype(descr)
        shape = tuple(int(n) for n in shape_text.split(",") if n.strip())
    except (TypeError, ValueError, OverflowError) as e:
        raise fail(f"has {what} with a bad dtype or shape ({short(e)})", _DAMAGED) from None
    if dtype.hasobject:
        raise fail(f"has {what} stored as a pickled object array",
                   "tinytorch never unpickles (it can run arbitrary code); store numeric arrays.")
    if dtype.kind not in ARRAY_KINDS or dtype.itemsize == 0:
        raise fail(f"has {what} of dtype {short(descr)}, not a plain numeric dtype",
                   "Store numeric arrays only.")

    # The check that makes the rest safe: the header's claim against the zip directory's.
    nbytes = math.prod(shape) * dtype.itemsize
    stored = info.file_size - (8 + length_size + header_len)
    if nbytes != stored:
        raise fail(f"has {what} whose header says {short(shape, 40)} x {dtype.itemsize} bytes "
                   f"= {nbytes} bytes, but the entry holds {stored}", _DAMAGED)
    if max_bytes is not None and nbytes > max_bytes:
        raise fail(f"has {what} of {nbytes} bytes, more than the {max_bytes} allowed",
                   "The file is corrupt or was edited; use another checkpoint.")

    try:
        flat = np.empty(nbytes // dtype.itemsize, dtype)
        array = flat.reshape(shape[::-1]).T if fortran == "True" else flat.reshape(shape)
    except (ValueError, OverflowError, MemoryError) as e:  # e.g. more than 64 dimensions
        raise fail(f"has {what} with an impossible shape ({short(e)})", _DAMAGED) from None
    buffer = flat.view(np.uint8)  # the same memory, byte by byte
    done = 0
    while done < nbytes:
        chunk = member.read(min(CHUNK, nbytes - done))
        if not chunk:
            raise fail(f"has a truncated {what}: {done} of {nbytes} bytes", _DAMAGED)
        buffer[done:done + len(chunk)] = np.frombuffer(chunk, np.uint8)
        done += len(chunk)
    if member.read(1):  # (also makes the zip module check the CRC-32 at the very end)
        raise fail(f"has {what} with more bytes than its header declares", _DAMAGED)
    return array
