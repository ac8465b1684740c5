"""``torch.nn.functional`` (import it as ``F``): the stateless forms of the layers.

Each name is PyTorch's, with PyTorch's signature. The ops themselves (forward and
backward) live in ``tinytorch/ops/``: this file only gathers them.
"""

from __future__ import annotations

from ..ops.dropout import dropout
from ..ops.embedding import embedding
from ..ops.linear import linear
from ..ops.linear_cross_entropy import linear_cross_entropy
from ..ops.loss import cross_entropy, nll_loss
from ..ops.normalization import layer_norm
from ..ops.padding import pad
from ..ops.reduction import mean as _mean
from ..ops.selection import one_hot
from ..ops.softmax import log_softmax, softmax
from ..ops.unary import gelu, relu, sigmoid, tanh

# issue 16: attention, losses, normalize, silu
from ..ops.attention import scaled_dot_product_attention
from ..ops.norms import normalize
from ..ops.pointwise_loss import (
    binary_cross_entropy, binary_cross_entropy_with_logits, huber_loss, kl_div, l1_loss,
    smooth_l1_loss,
)
from ..ops.unary import silu


def mse_loss(input, target, reduction: str = "mean"):  # noqa: A002
    """Mean squared error; composed from primitives (sub, mul, mean), each proven."""
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"mse_loss: input {tuple(input.shape)} and target {tuple(target.shape)} must have "
            f"the same shape (broadcasting them is almost always a bug)")
    d = input - target
    sq = d * d
    if reduction == "mean":
        return _mean(sq)
    if reduction == "sum":
        return sq.sum()
    if reduction == "none":
        return sq
    raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


__all__ = ["cross_entropy", "dropout", "embedding", "gelu", "layer_norm", "linear",
           "linear_cross_entropy", "log_softmax", "mse_loss", "nll_loss", "one_hot", "pad", "relu",
           "sigmoid", "softmax", "tanh",
           # issue 16
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "huber_loss", "kl_div",
           "l1_loss", "normalize", "scaled_dot_product_attention", "silu", "smooth_l1_loss"]
