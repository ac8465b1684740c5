"""Module: the base class of every layer and model, with PyTorch's semantics.

Assigning a Parameter, a Module or (through ``register_buffer``) a Tensor to an
attribute registers it by name; everything else follows from those three dicts:
``parameters()`` walks them recursively, ``state_dict()`` names each tensor by its
dotted path (``encoder.layers.0.self_attn.q_proj.weight``), ``load_state_dict`` copies
values back, ``train()``/``eval()`` flip ``training`` everywhere.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

from .. import dtypes
from ..autograd.grad_mode import no_grad
from ..backend import to_device
from ..tensor import Tensor
from ..tensor_methods_types import parse_to
from .parameter import Parameter

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Subclass it, create sub-layers in ``__init__`` and write ``forward``."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- registration ------------------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign '{name}' before Module.__init__() was called: call "
                f"super().__init__() first in {type(self).__name__}.__init__")
        if name in self._parameters and not isinstance(value, Parameter) and value is not None:
            raise TypeError(
                f"cannot assign {type(value).__name__} as parameter '{name}' (nn.Parameter or "
                f"None expected); wrap it: self.{name} = nn.Parameter(tensor)")
        was_buffer = name in self._buffers
        for registry in (self._parameters, self._modules, self._buffers):
            registry.pop(name, None)
        self.__dict__.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif was_buffer:
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: the registered things live in the dicts
        d = self.__dict__
        for registry in ("_parameters", "_modules", "_buffers"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._modules, self._buffers):
            if name in registry:
                del registry[name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that belongs to the module's state but is not learned (e.g. a mask)."""
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._modules[name] = module

    register_module = add_module

    # -- walking the tree --------------------------------------------------------------------
    def named_modules(self, memo=None, prefix: str = ""):
        """(dotted name, module) for this module and every descendant, each once."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, mod = stack.pop()
            if id(mod) in memo:
                continue
            memo.add(id(mod))
            yield name, mod
            children = [(f"{name}.{n}" if name else n, m) for n, m in mod._modules.items()
                        if m is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for n, m in self._modules.items():
            if m is not None:
                yield n, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(dotted name, parameter), each shared parameter once (tied weights)."""
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, mod in mods:
            for n, p in mod._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_name}.{n}" if mod_name else n), p

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = ""):
        for mod_name, mod in self.named_modules(prefix=prefix):
            for n, b in mod._buffers.items():
                if b is not None:
                    yield (f"{mod_name}.{n}" if mod_name else n), b

    def buffers(self):
        for _, b in self.named_buffers():
            yield b

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every descendant, then on self (like PyTorch)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.array[...] = 0

    # -- dtype and device ----------------------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking=False) -> Module:
        """Convert every parameter and buffer in place (the Parameter objects stay the same,
        so an optimizer built before still holds them). Takes what ``Tensor.to`` takes:
        ``model.to(torch.device("cuda"))``, ``model.to(torch.float64)``, ``model.to(x)``."""
        device, dtype, _ = parse_to(args, device, dtype, non_blocking, False)
        for t in list(self.parameters()) + list(self.buffers()):
            arr = t.array
            if device is not None:
                arr = to_device(arr, device)
            if dtype is not None and arr.dtype.kind == "f":
                arr = arr.astype(dtype)
            t.array = arr
            if t.grad is not None:
                t.grad = None
        return self

    def cuda(self) -> Module:
        return self.to("cuda")

    def cpu(self) -> Module:
        return self.to("cpu")

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def double(self) -> Module:
        return self.to(dtypes.float64)

    # -- state dict ----------------------------------------------------------------------------
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name (detached, shared memory)."""
        out = OrderedDict()
        for mod_name, mod in self.named_modules(prefix=prefix.rstrip(".")):
            base = f"{mod_name}." if mod_name else ""
            for n, p in mod._parameters.items():
                if p is not None:
                    out[base + n] = p if keep_vars else p.detach()
            for n, b in mod._buffers.items():
                if b is not None and n not in mod._non_persistent:
                    out[base + n] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values in; with ``strict``, every key must match and shapes must agree.

        All problems are gathered and reported in one error, like PyTorch's.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for k, target in own.items():
            if k in state_dict:
                src = state_dict[k]
                shape = tuple(src.shape)
                if shape != tuple(target.shape):
                    mismatched.append(f"{k}: checkpoint {shape}, model {tuple(target.shape)}")
        problems = []
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if mismatched:
            problems.append("shape mismatch: " + "; ".join(mismatched))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(problems)
                + "\nIs the checkpoint from a model with the same configuration?")
        with no_grad():
            for k, target in own.items():
                if k in state_dict:
                    src = state_dict[k]
                    arr = src.array if isinstance(src, Tensor) else src
                    target.array[...] = to_device(arr, target.device)
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            body = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"{extra}" if extra else "")
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules) + list(self._buffers)
