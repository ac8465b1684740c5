"""Loss modules: CrossEntropyLoss, NLLLoss, MSELoss (PyTorch's arguments), and the
options of ``F.linear_cross_entropy`` (``nn.LinearCrossEntropyOptions``, as in PyTorch)."""

from __future__ import annotations

from ..ops.linear_cross_entropy import LinearCrossEntropyOptions
from ..ops.loss import cross_entropy, nll_loss
from .functional import mse_loss
from .module import Module

__all__ = ["CrossEntropyLoss", "LinearCrossEntropyOptions", "MSELoss", "NLLLoss"]


class CrossEntropyLoss(Module):
    """Logits (N, C) or (N, C, d1, ...) and class ids (N) or (N, d1, ...) -> loss."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__()
        if weight is not None:
            raise NotImplementedError("CrossEntropyLoss: class weights are not supported")
        self.ignore_index, self.reduction, self.label_smoothing = ignore_index, reduction, label_smoothing

    def forward(self, input, target):  # noqa: A002
        return cross_entropy(input, target, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(Module):
    """Log-probabilities (N, C) and class ids (N) -> -mean(log p[target])."""

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__()
        if weight is not None:
            raise NotImplementedError("NLLLoss: class weights are not supported")
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input, target):  # noqa: A002
        return nll_loss(input, target, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, input, target):  # noqa: A002
        return mse_loss(input, target, self.reduction)
