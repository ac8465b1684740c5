"""Helpers around the engine, as in ``torch.utils``: ``tinytorch.utils.data`` (datasets,
samplers, DataLoader)."""

from . import data

__all__ = ["data"]
