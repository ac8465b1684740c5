"""Parameter: a Tensor that a Module registers as learnable (requires_grad=True)."""

from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """``Parameter(tensor)`` shares the tensor's memory and requires grad by default.

    Assigning one to a Module attribute (``self.weight = Parameter(...)``) registers it,
    so it shows up in ``parameters()``, ``state_dict()`` and the optimizer.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            from ..creation import empty  # noqa: PLC0415

            data = empty(0)
        super().__init__(data.array if isinstance(data, Tensor) else data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        out = Parameter(self.array.copy(), self.requires_grad)
        if self.grad is not None:
            out.grad = Tensor(self.grad.array.copy())
        memo[id(self)] = out
        return out

