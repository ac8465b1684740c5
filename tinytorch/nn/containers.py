"""Sequential, ModuleList and ModuleDict: modules that hold modules; ParameterList and
ParameterDict: modules that hold parameters (registered, so optimizers and state_dict see
them; a plain list or dict of Parameters would hide them)."""

from __future__ import annotations

from collections import OrderedDict

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


class Sequential(Module):
    """Runs its modules one after the other: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))``."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def __getitem__(self, i):
        mods = list(self._modules.values())
        return Sequential(*mods[i]) if isinstance(i, slice) else mods[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules, registered so their parameters are found (a plain list hides them)."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, i):
        mods = list(self._modules.values())
        return ModuleList(mods[i]) if isinstance(i, slice) else mods[i]

    def __setitem__(self, i, module):
        self.add_module(str(i % len(self)), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


def _pairs(entries):
    """(key, value) pairs from a mapping or an iterable of pairs (what dict() accepts)."""
    if entries is None:
        return []
    return list(entries.items()) if hasattr(entries, "items") else list(entries)


class ModuleDict(Module):
    """A dict of modules, registered by key (``state_dict`` names: ``<key>.weight``...)."""

    def __init__(self, modules=None):
        super().__init__()
        self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        """Add (or replace) the modules of a mapping or an iterable of (key, module) pairs."""
        for key, module in _pairs(modules):
            self.add_module(key, module)

    def pop(self, key):
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()


def _as_parameter(value):
    """A plain Tensor becomes a Parameter (requires_grad=True), as in PyTorch; a
    Parameter or any other object is stored as it is."""
    return value if isinstance(value, Parameter) or not isinstance(value, Tensor) else (
        Parameter(value))


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return (f"Parameter containing: [{value.dtype} of size "
                f"{'x'.join(str(n) for n in value.shape)}]")
    return f"Object of type: {type(value).__name__}"


def _listing(container, entries) -> str:
    """PyTorch's repr of a ParameterList/Dict: one line per entry, its dtype and size."""
    lines = "".join(f"    ({key}): {_describe(value)}\n" for key, value in entries)
    return f"{type(container).__name__}(" + (f"\n{lines}" if lines else "") + ")"


class ParameterList(Module):
    """A list of parameters, registered as ``'0'``, ``'1'``, ... (so ``parameters()``,
    ``state_dict()`` and ``.to()`` see them). Plain tensors are made Parameters."""

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        self.extend(values or ())

    def _index(self, i: int) -> str:
        if not -len(self) <= i < len(self):
            raise IndexError(f"ParameterList: index {i} is out of range (length {len(self)})")
        return str(i % len(self))

    def __getitem__(self, i):
        if isinstance(i, slice):
            return ParameterList([self[j] for j in range(len(self))[i]])
        return getattr(self, self._index(i))

    def __setitem__(self, i, value):
        setattr(self, self._index(i), _as_parameter(value))

    def __len__(self):
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value) -> ParameterList:
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def __repr__(self) -> str:
        return _listing(self, enumerate(self))


class ParameterDict(Module):
    """A dict of parameters, registered by key. Plain tensors are made Parameters."""

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})  # insertion order
        self.update(parameters)

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key):
        del self._keys[key]
        delattr(self, key)

    def __contains__(self, key):
        return key in self._keys

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(list(self._keys))

    def keys(self):
        return list(self._keys)

    def values(self):
        return [self[k] for k in self._keys]

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def get(self, key, default=None):
        return self[key] if key in self else default

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, parameters) -> None:
        """Add (or replace) the entries of a mapping or an iterable of (key, value) pairs.
        A plain dict is added in sorted key order, as PyTorch does (an OrderedDict, a
        ParameterDict or a list of pairs keeps its order)."""
        pairs = _pairs(parameters)
        if isinstance(parameters, dict) and not isinstance(parameters, OrderedDict):
            pairs = sorted(pairs, key=lambda kv: kv[0])
        for key, value in pairs:
            self[key] = value

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def __repr__(self) -> str:
        return _listing(self, self.items())
