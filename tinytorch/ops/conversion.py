"""Copies that change how values are stored: dtype casts, device moves, clone."""

from __future__ import annotations

from ..autograd.function import Function
from ..backend import device_of, to_device


class Cast(Function):
    """y = x stored as ``dtype``; the gradient is cast back to x's dtype."""

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        # the identity map, so dL/dx = g, only stored in x's dtype again
        return g.astype(self.in_dtype)


class ToDevice(Function):
    """y = x copied to another device ('cpu' <-> 'cuda'); the gradient is copied back."""

    def forward(self, x, device):
        self.in_device = device_of(x)
        return to_device(x, device)

    def backward(self, g):
        # the identity map across devices: dL/dx = g, copied back to x's device
        return to_device(g, self.in_device)


class Clone(Function):
    """y = a copy of x that shares no memory with it."""

    def forward(self, x):
        return x.copy()

    def backward(self, g):
        # y = x  =>  dL/dx = g
        return g
