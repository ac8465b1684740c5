"""Random numbers: one generator per device, seeded by ``manual_seed``.

``manual_seed(s)`` makes initialisation, dropout, shuffling and sampling
reproducible: the same seed gives the same numbers on the same backend. The
state can be saved and restored (``get_rng_state`` / ``set_rng_state``), which
is how a resumed training run continues bit-identically.
"""

from __future__ import annotations

import numpy as np

from . import backend

_generators: dict = {}  # device name -> NumPy/CuPy Generator
_seed = [None]


def manual_seed(seed: int):
    """Seed every device's generator (PyTorch's ``torch.manual_seed``); returns the CPU
    generator, as PyTorch returns ``torch.default_generator``."""
    seed = int(seed)
    _seed[0] = seed
    _generators.clear()
    _generators["cpu"] = np.random.default_rng(seed)
    return Generator._wrapping(_generators["cpu"], "cpu")


def seed() -> int:
    """Seed every generator from the operating system's entropy; returns the seed
    (PyTorch's ``torch.seed``)."""
    s = int(np.random.SeedSequence().entropy % (1 << 63))
    manual_seed(s)
    return s


def initial_seed():
    return _seed[0]


def default_generator(device="cpu"):
    """The generator that the factories and dropout use on ``device``."""
    device = backend.normalize_device(device)
    gen = _generators.get(device)
    if gen is None:
        if device == "cpu":
            gen = np.random.default_rng(_seed[0])
        else:
            gen = backend.cupy_module().random.default_rng(_seed[0])
        _generators[device] = gen
    return gen


class Generator:
    """A private stream of random numbers (``torch.Generator``), e.g. for data shuffling."""

    #: PyTorch's seed of a new ``torch.Generator()``: a fresh generator gives the same
    #: numbers every run until ``manual_seed`` is called.
    DEFAULT_SEED = 67280421310721

    def __init__(self, device="cpu"):
        self.device = backend.normalize_device(device)
        self._gen = backend.module_for(self.device).random.default_rng(self.DEFAULT_SEED)

    @classmethod
    def _wrapping(cls, gen, device) -> Generator:
        """A Generator object around an existing stream (the default one)."""
        self = cls.__new__(cls)
        self.device, self._gen = backend.normalize_device(device), gen
        return self

    def manual_seed(self, seed: int) -> Generator:
        xp = backend.module_for(self.device)
        self._gen = xp.random.default_rng(int(seed))
        return self

    def get_state(self) -> dict:
        return self._gen.bit_generator.state

    def set_state(self, state: dict) -> None:
        self._gen.bit_generator.state = state


def _gen(device, generator):
    return generator._gen if generator is not None else default_generator(device)


def get_rng_state() -> dict:
    """The CPU generator's state as a JSON-friendly dict (for checkpoints)."""
    return default_generator("cpu").bit_generator.state


def set_rng_state(state: dict) -> None:
    default_generator("cpu").bit_generator.state = state


def uniform_array(shape, low, high, dtype, device, generator=None):
    """An array of U[low, high) samples in ``dtype`` on ``device``."""
    u = _gen(device, generator).random(tuple(shape), dtype=np.float64 if np.dtype(dtype) == np.float64 else np.float32)
    return (u * (high - low) + low).astype(dtype, copy=False)


def normal_array(shape, mean, std, dtype, device, generator=None):
    """An array of N(mean, std^2) samples in ``dtype`` on ``device``."""
    z = _gen(device, generator).standard_normal(tuple(shape), dtype=np.float64 if np.dtype(dtype) == np.float64 else np.float32)
    return (z * std + mean).astype(dtype, copy=False)


def integers_array(low, high, shape, device, generator=None):
    return _gen(device, generator).integers(low, high, size=tuple(shape), dtype=np.int64)


def permutation_array(n, device, generator=None):
    perm = _gen("cpu" if generator is None else generator.device, generator).permutation(n)
    return backend.to_device(perm.astype(np.int64), device)


def bernoulli_array(shape, p, device, generator=None):
    """A bool array, True with probability ``p`` (dropout's keep mask)."""
    return _gen(device, generator).random(tuple(shape), dtype=np.float32) < p


manual_seed(np.random.SeedSequence().entropy % (2**63))
