"""Checking and normalising ``dim`` arguments, with errors that name the op; index grids."""

from __future__ import annotations


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """A dim in ``[-ndim, ndim)`` as a non-negative axis (a 0-d tensor accepts 0 and -1)."""
    n = max(ndim, 1)
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(
            f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected a dim in [{-n}, {n - 1}])")
    return dim % n if ndim else 0


def normalize_dims(dim, ndim: int, op: str):
    """None (all axes) or a sorted tuple of axes from an int or a sequence of ints.

    An empty sequence means all axes too, as in PyTorch (``x.sum(dim=())`` is ``x.sum()``).
    """
    if dim is None or (isinstance(dim, (list, tuple)) and not dim):
        return None
    if isinstance(dim, (list, tuple)):
        axes = tuple(sorted(normalize_dim(d, ndim, op) for d in dim))
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: dim {tuple(dim)} names a dimension twice")
        return axes if ndim else None
    return (normalize_dim(dim, ndim, op),) if ndim else None


def keepdim_shape(shape, axes):
    """The reduced shape with size-1 axes kept (for broadcasting a gradient back)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def open_grid(xp, sizes):
    """Index arrays 0..n-1, one per size, shaped to broadcast against each other (what
    ``np.ogrid`` gives, as a list on every NumPy version and on CuPy)."""
    k = len(sizes)
    return [xp.arange(n).reshape((1,) * i + (n,) + (1,) * (k - 1 - i))
            for i, n in enumerate(sizes)]
