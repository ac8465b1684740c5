"""What a benchmark child runs on: its environment, its BLAS, and a check that the BLAS
computes the right numbers before anything is timed.

Native and pinned BLAS. Some machines set ``OPENBLAS_CORETYPE`` (and
``OPENBLAS_L2_SIZE``) for every process: a guard for old OpenBLAS builds that compute
wrong results on newer processors. It pins NumPy's GEMMs to an older kernel than the one
OpenBLAS would pick for the processor (Haswell's AVX2 instead of SkylakeX's AVX-512, say),
which a user's machine would not do. So the benchmark children run *native*: both
variables removed from their environment alone (tests and CI keep them). ``--pinned-blas``
keeps them (or, where the environment sets none, pins the Haswell kernel), and the main
suite adds one row pinned, so that both are visible.

The GEMM check. Before timing, each child multiplies two float32 matrices and compares
the product with float64's: a BLAS kernel that computes wrong numbers (the very thing the
guard is for) fails loudly, naming the kernel, instead of producing a fast, wrong table.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: The variables that pin OpenBLAS to a kernel and cache size chosen by hand.
PINNING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
#: What a pinned child gets where the environment does not pin OpenBLAS itself: the AVX2
#: kernel such guards choose, so that the pinned row differs from the native one anywhere.
PINNED_DEFAULTS = {"OPENBLAS_CORETYPE": "Haswell"}


def child_env(threads: int, native_blas: bool = True, base: dict | None = None) -> dict:
    """The environment of a benchmark child: ``threads`` BLAS/OpenMP threads, the checkout
    on PYTHONPATH, and OpenBLAS free to pick its kernel for this CPU (``native_blas``) or
    pinned: the environment's OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE kept, PINNED_DEFAULTS
    where it sets none. ``base``: the environment to start from (default os.environ)."""
    env = dict(os.environ if base is None else base)
    for var in THREAD_VARIABLES:
        env[var] = str(threads)
    for var in PINNING_VARIABLES:
        if native_blas:
            env.pop(var, None)
        elif var in PINNED_DEFAULTS:
            env.setdefault(var, PINNED_DEFAULTS[var])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def mpiexec_path() -> str | None:
    """The mpiexec beside this Python (MPICH from PyPI, the ``distributed`` extra), else the
    one on PATH; None without mpi4py or without an mpiexec."""
    if importlib.util.find_spec("mpi4py") is None:
        return None
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def pinning() -> dict:
    """The pinning variables as this process sees them (None: not set)."""
    return {var: os.environ.get(var) for var in PINNING_VARIABLES}


def numpy_blas() -> list[dict]:
    """NumPy's BLAS as threadpoolctl sees it: library, version, kernel (architecture)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "architecture", "threading_layer", "num_threads")
    return [{k: p.get(k) for k in keep} for p in threadpool_info() if p.get("user_api") == "blas"]


def torch_blas() -> dict | None:
    """PyTorch's BLAS: its wheel links MKL (or OpenBLAS) statically, out of threadpoolctl's
    sight, so the library comes from ``torch.__config__``; the thread pools it loads
    (OpenMP) from threadpoolctl. None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    config = torch.__config__.show()
    info = {"version": torch.__version__, "threads": torch.get_num_threads(),
            "blas": None, "library": None, "cpu_capability": None}
    for line in config.splitlines():
        line = line.strip(" -")
        if "Math Kernel Library" in line or "OpenBLAS" in line:
            info["library"] = line
        if line.startswith("CPU capability usage:"):
            info["cpu_capability"] = line.split(":", 1)[1].strip()
        found = re.search(r"BLAS_INFO=([^,\s]+)", line)
        if found:
            info["blas"] = found.group(1)
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [{k: p.get(k) for k in ("user_api", "internal_api", "version",
                                                       "num_threads")} for p in threadpool_info()]
    except ImportError:
        info["threadpools"] = []
    return info


def blas_summary(numpy_info: list[dict]) -> str:
    """One line for a table header, e.g. 'openblas 0.3.31 SkylakeX'."""
    if not numpy_info:
        return "BLAS unknown (no threadpoolctl)"
    p = numpy_info[0]
    return f"{p['internal_api']} {p['version']} {p.get('architecture') or ''}".strip()


def describe_blas(torch: bool = True) -> dict:
    """NumPy's and (with ``torch``) PyTorch's BLAS and the pinning variables, for a child's
    JSON. A tinytorch child passes torch=False: importing torch there would add its ~100 MB
    and its thread pools to the measurement (the torch child reports torch's BLAS)."""
    return {"numpy": numpy_blas(), "torch": torch_blas() if torch else None,
            "pinning": pinning(), "native": not any(pinning().values())}


def check_gemm(n: int = 192, k: int = 384, seed: int = 0, matmul=None) -> float:
    """Multiply two (n, k) x (k, n) float32 matrices and compare with float64.

    Whatever the order a kernel sums in (blocked, FMA, several threads), each entry of a
    float32 product of k terms is within (k + 1) u of the exact one, relative to the same
    entry of |A| |B| (u = 2^-24, float32's unit roundoff: the standard bound on rounding
    error in dot products, plus one rounding of the result). A correct kernel never exceeds
    it (in practice it stays ~100x below); a broken one (wrong results on a CPU it was not
    built for) does. Returns the largest relative error; raises RuntimeError if it is out
    of bounds. ``matmul`` defaults to NumPy's (a test passes a broken one)."""
    import numpy as np

    matmul = matmul or np.matmul
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    got = np.asarray(matmul(a, b), dtype=np.float64)
    want = a.astype(np.float64) @ b.astype(np.float64)
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)  # entry by entry
    error = float((np.abs(got - want) / scale).max())
    bound = (k + 1) * 2.0**-24
    if not error <= bound:  # also catches NaN
        raise RuntimeError(
            f"float32 GEMM check failed: relative error {error:.3g} > {bound:.3g} for a "
            f"({n}x{k}) @ ({k}x{n}) product; NumPy's BLAS is {blas_summary(numpy_blas())} "
            f"with {pinning()}. This kernel computes wrong numbers on this CPU: run with "
            f"--pinned-blas (or set OPENBLAS_CORETYPE to an older kernel) and report it.")
    return error


def checked_blas(torch: bool = True) -> dict:
    """Run the GEMM check, then describe the BLAS: what a child puts in its JSON."""
    error = check_gemm()
    return {**describe_blas(torch), "gemm_check_rel_error": error}
