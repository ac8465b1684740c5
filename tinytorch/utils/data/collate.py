"""Collate: turn a list of samples into one batch (``torch.utils.data.default_collate``).

A DataLoader fetches ``batch_size`` samples and hands the list to ``collate_fn``. The
default one stacks like with like, keeping the samples' structure:

    samples: [(x0, 3), (x1, 5)]          x_i: tensor or array of shape (d,)
    batch:   [X, tensor([3, 5])]         X: shape (2, d), a new first "batch" dimension

Element by element (PyTorch's rules and dtypes):

    tinytorch tensor  -> stacked along a new dim 0 (recorded by autograd if they require grad)
    NumPy array       -> a tensor of the array's dtype, stacked
    NumPy scalar      -> a 1-d tensor of its dtype          (np.float32 -> float32)
    Python float      -> a 1-d float64 tensor (not float32: PyTorch's rule)
    Python int / bool -> a 1-d int64 / bool tensor
    str, bytes        -> the list, unchanged
    dict              -> a dict of collated values, key by key
    namedtuple        -> the same namedtuple of collated fields
    tuple, list       -> a *list* of collated positions (a tuple becomes a list, as in PyTorch)

``collate_fn_map`` maps an element type to the function that collates a list of them;
add your own types to ``default_collate_fn_map`` or pass a map to ``collate``.
"""

from __future__ import annotations

import collections.abc
import copy
import re

import numpy as np

from ...creation import as_tensor, tensor
from ...dtypes import float64, get_default_dtype
from ...ops.shape import stack
from ...tensor import Tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

_STRING_OR_OBJECT = re.compile(r"[SaUO]")  # dtype codes of bytes, str and object arrays
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def default_convert(data):
    """Each NumPy array (or scalar) in ``data`` as a tensor; everything else unchanged. The
    DataLoader's collate_fn when it does not batch (``batch_size=None``)."""
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values: dict):
    """A mapping of ``like``'s type (dict, OrderedDict, ...) holding ``values``."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:  # a type that cannot be rebuilt this way: a plain dict
        return values


def _rebuild_sequence(like, values: list):
    """A sequence of ``like``'s type (list or a list subclass, ...) holding ``values``."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(like)(values)
    except TypeError:
        return values


def collate(batch, *, collate_fn_map: dict | None = None):
    """Collate ``batch`` (a list of samples): look up the first sample's type in
    ``collate_fn_map`` (exactly, then by isinstance in the map's order), else recurse into
    mappings and sequences position by position."""
    elem = batch[0]
    if collate_fn_map is not None:
        fn = collate_fn_map.get(type(elem))
        if fn is None:
            fn = next((f for t, f in collate_fn_map.items() if isinstance(elem, t)), None)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {
            key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map) for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(collate(list(s), collate_fn_map=collate_fn_map)
                            for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        sizes = [len(sample) for sample in batch]
        if any(n != sizes[0] for n in sizes):
            raise RuntimeError(
                f"each element in list of batch should be of equal size (got lengths "
                f"{sizes[:8]}{' ...' if len(sizes) > 8 else ''}); pad them in a collate_fn")
        columns = [collate(list(s), collate_fn_map=collate_fn_map) for s in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(_ERROR.format(type(elem)))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    return stack(batch, 0)  # (B, *sample_shape); the stack op checks the shapes


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _STRING_OR_OBJECT.search(batch[0].dtype.str):
        raise TypeError(_ERROR.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return Tensor(np.asarray(batch, dtype=_number_dtype(batch)))  # np.float32 -> float32


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return Tensor(np.asarray(batch, dtype=_number_dtype(batch)))  # ints -> int64, bools -> bool


_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _number_dtype(numbers) -> np.dtype:
    """The dtype ``torch.tensor(numbers)`` infers: each number's own (Python bool -> bool,
    int -> int64, float -> the default float, NumPy scalar -> its dtype); then the highest
    kind wins (bool < int < float), and within one kind the wider dtype. So [1, 2.5] gives
    float32, [np.int32(1), 2] int64, [np.float64(1), 2.0] float64."""
    result = None
    for dtype in {_own_dtype(x) for x in numbers}:
        rank = _KIND_ORDER.get(dtype.kind, 4)
        if result is None or rank > _KIND_ORDER.get(result.kind, 4):
            result = dtype
        elif rank == _KIND_ORDER.get(result.kind, 4):
            result = np.promote_types(result, dtype)
    return result


def _own_dtype(x) -> np.dtype:
    if isinstance(x, np.generic):
        return x.dtype
    if isinstance(x, bool):
        return np.dtype(np.bool_)
    if isinstance(x, int):
        return np.dtype(np.int64)
    if isinstance(x, float):
        return get_default_dtype()
    return np.asarray(x).dtype


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map: dict = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """The DataLoader's default ``collate_fn``: stack a list of samples into a batch (the
    rules are in this module's docstring).

        >>> import numpy as np
        >>> xb, yb = default_collate([(np.zeros(3), 1), (np.ones(3), 0)])  # (x (3,), label)
        >>> tuple(xb.shape), yb.tolist()
        ((2, 3), [1, 0])
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
