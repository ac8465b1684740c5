"""``torch.backends.cuda``: ``matmul.allow_tf32`` and the scaled-dot-product-attention kernel
switches, recorded and read back as in PyTorch; none changes tinytorch's arithmetic (its
matmuls are CuPy's/NumPy's in float32, its attention is its own). ``is_built()`` says
whether CuPy is installed."""

from __future__ import annotations

from .. import backend


class _Matmul:
    """``torch.backends.cuda.matmul``: ``allow_tf32`` is True when the float32 matmul
    precision is not 'highest' (they are one setting, as in PyTorch)."""

    _names = ("precision", "allow_tf32", "allow_fp16_reduced_precision_reduction",
              "allow_bf16_reduced_precision_reduction")

    def __init__(self):
        object.__setattr__(self, "precision", "highest")
        object.__setattr__(self, "allow_fp16_reduced_precision_reduction", True)
        object.__setattr__(self, "allow_bf16_reduced_precision_reduction", True)

    @property
    def allow_tf32(self) -> bool:
        return self.precision != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        object.__setattr__(self, "precision", "high" if value else "highest")

    def __setattr__(self, name, value):
        if name not in self._names:
            raise AttributeError(f"Unknown attribute {name}")
        super().__setattr__(name, value)


matmul = _Matmul()
_sdp = {"flash": True, "mem_efficient": True, "math": True}


def is_built() -> bool:
    return bool(backend._load_cupy())


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def math_sdp_enabled() -> bool:
    return _sdp["math"]
