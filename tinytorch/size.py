"""``torch.Size``: the type of ``x.shape`` and ``x.size()``, a tuple of ints.

    >>> import tinytorch as torch
    >>> x = torch.zeros(2, 3)
    >>> x.shape, x.shape == (2, 3), x.shape.numel(), x.shape[1:]
    (torch.Size([2, 3]), True, 6, torch.Size([3]))

It is a ``tuple`` (everything that takes a tuple takes it, it equals and hashes as the
tuple), and only adds PyTorch's printing, ``numel()``, and stays a Size when sliced,
added or repeated, as in PyTorch.
"""

from __future__ import annotations

import math
import operator


class Size(tuple):
    """A shape: a tuple of ints that prints as ``torch.Size([2, 3])``."""

    __slots__ = ()

    def __new__(cls, sizes=()):
        try:
            items = tuple(operator.index(n) if not isinstance(n, int) else n for n in sizes)
        except TypeError:
            raise TypeError(f"torch.Size() takes an iterable of ints, got {sizes!r}") from None
        return tuple.__new__(cls, items)

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        return math.prod(self)

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return tuple.__new__(Size, item) if key.__class__ is slice else item

    def __add__(self, other):
        return tuple.__new__(Size, tuple.__add__(self, other))

    def __radd__(self, other):  # (4,) + size: Python asks the subclass first
        return tuple.__new__(Size, tuple.__add__(other, self))

    def __mul__(self, n):
        return tuple.__new__(Size, tuple.__mul__(self, n))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def __reduce__(self):
        return (Size, (tuple(self),))
