"""``torch.backends.mps``: Apple's GPUs. tinytorch runs on NumPy (CPU) and CuPy (NVIDIA), so
``is_available()`` and ``is_built()`` are False and ``device='mps'`` is refused when used."""

from __future__ import annotations


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
