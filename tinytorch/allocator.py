"""Keeping freed host memory for reuse: a large, measured gain on a training step.

Every op allocates its output, and a training step allocates and frees the same
large arrays (logits of batch x vocab floats, activations) over and over. glibc's
malloc serves allocations above 128 KiB with ``mmap`` and hands them back to the
operating system on ``free``; the next allocation of the same size then takes a page
fault for every 4 KiB page it touches, and the kernel zeroes each one. On the 2-core
VMs this project is measured on, that page-fault traffic was a large part of a training
step (benchmarks/README.md has the figures; PyTorch pays the same price).

``keep_freed_memory()`` tells glibc to serve large blocks from its heap and to keep
freed memory there (up to ``limit_bytes``), so steady-state training stops faulting.
It changes a process-wide setting, so the library never calls it on import: the
training CLI and the benchmarks do (for PyTorch too, so comparisons stay fair).
It is a no-op, returning False, where the C library is not glibc (macOS, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_INT_MAX = 2**31 - 1  # mallopt takes a C int


def keep_freed_memory(limit_bytes: int = 1 << 30) -> bool:
    """Serve blocks below ``limit_bytes`` from the heap and keep up to ``limit_bytes``
    of freed memory for reuse. True if glibc accepted the settings."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    limit = max(0, min(int(limit_bytes), _INT_MAX))
    return bool(mallopt(_M_MMAP_THRESHOLD, limit) and mallopt(_M_TRIM_THRESHOLD, limit)
                and mallopt(_M_TOP_PAD, min(limit, 64 << 20)))
