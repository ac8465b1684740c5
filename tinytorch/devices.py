"""``tinytorch.device``: where a tensor's memory lives, spelled as in PyTorch.

    torch.device("cpu")        device(type='cpu')
    torch.device("cuda")       device(type='cuda')            (no index: "the current GPU")
    torch.device("cuda:0")     device(type='cuda', index=0)
    torch.device("cuda", 0)    device(type='cuda', index=0)

``tensor.device`` returns one (``device(type='cpu')`` or ``device(type='cuda', index=0)``),
and every ``device=`` argument takes one, a string or (for a GPU) an int index.

Equality is PyTorch's, which surprises many: a device equals only another device with
the same type and index, never a string, so ``x.device == "cpu"`` is False in PyTorch and
here. Compare ``x.device.type == "cpu"`` instead. Likewise ``device("cuda")`` (no index)
is not ``device("cuda:0")``.

Like PyTorch, the object accepts every device type PyTorch knows ("mps", "meta", ...), so
``torch.device("mps" if ... else "cpu")`` lines run; tinytorch itself stores arrays on
"cpu" (NumPy) and "cuda" (CuPy) only, and says so when another one is used
(``backend.normalize_device``).
"""

from __future__ import annotations

import re

#: The device types PyTorch 2.13 accepts in a device string (tinytorch runs on the first two).
TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
         "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")

_PATTERN = re.compile(r"([a-z]+)(?::(0|[1-9][0-9]*))?")  # "cuda", "cuda:0"; not "cuda:01"


class device:  # noqa: N801 (PyTorch's name: torch.device)
    """A device type ('cpu', 'cuda', ...) and an optional index (which GPU).

    ``device("cuda:1")``, ``device("cuda", 1)``, ``device(type="cuda", index=1)`` are the
    same; ``device(other_device)`` is a copy; ``device(0)`` is the GPU with index 0.
    Immutable and hashable (a dict key), as in PyTorch.
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002 (PyTorch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): a device object can't take an index too: "
                                f"got device({type!r}, {index!r})")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, int) and not isinstance(type, bool):  # device(0): GPU 0
            type, index = "cuda", type
        elif not isinstance(type, str):
            raise TypeError(f"device(): expected a string such as 'cpu' or 'cuda:0', a device "
                            f"or an int (a GPU index), got {type!r}")
        match = _PATTERN.fullmatch(type)
        if match is None:
            raise ValueError(f"unknown device {type!r}: expected 'cpu' or 'cuda' (or 'cuda:N')")
        name, text_index = match.groups()
        if name not in TYPES:
            raise ValueError(f"unknown device {type!r}: expected 'cpu' or 'cuda' (or another "
                             f"PyTorch device type: {', '.join(TYPES[2:])})")
        if text_index is not None:
            if index is not None:
                raise ValueError(f"device(): {type!r} already has an index; don't pass "
                                 f"index={index!r} too")
            index = int(text_index)
        if index is not None:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(f"device(): index must be an int, got {index!r}")
            if index < 0:
                raise ValueError(f"device(): index must not be negative, got {index}")
        self._type, self._index = name, index

    @property
    def type(self) -> str:
        """'cpu', 'cuda', ... (compare this with a string: ``x.device.type == 'cuda'``)."""
        return self._type

    @property
    def index(self):
        """The GPU number, or None when the device string gave none."""
        return self._index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented  # so a device never equals a string, as in PyTorch
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __reduce__(self):
        return (device, (self._type, self._index))


CPU = device("cpu")
CUDA0 = device("cuda", 0)


def as_device(spec) -> device:
    """A device from a device, a string, an int (GPU index) or None (the CPU)."""
    if spec is None:
        return CPU
    if spec.__class__ is device:
        return spec
    if spec.__class__ is str and spec == "cpu":
        return CPU
    return device(spec)
