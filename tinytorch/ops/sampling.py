"""multinomial: draw category indices from rows of non-negative weights (no gradient).

``torch.multinomial(probs, n)`` is how a language model samples its next token. Each row
of ``input`` holds weights (probabilities up to a constant factor) of its categories:

- **with replacement**, each draw is independent: u ~ U[0, 1) lands in one of the
  intervals that the normalised cumulative sum cuts [0, 1) into, interval j of length
  p_j (the inverse-CDF method; a category of weight 0 has an empty interval);
- **without replacement**, the draws are successive: each one from the categories not
  drawn yet, renormalised. The same distribution in one step (the "exponential race",
  which PyTorch uses too): give category j the time e_j / p_j with e_j ~ Exp(1); the
  first n to arrive, in order of arrival, are the draws.

The random numbers come from tinytorch's generator (``manual_seed`` or ``generator=``),
so a seed fixes the samples; they are not PyTorch's samples for the same seed.
"""

from __future__ import annotations

import numpy as np

from ..autograd.function import wrap
from ..backend import array_module, device_of
from ..random import uniform_array
from .sorting import sort_indices


def _check(p, num_samples, replacement):
    if p.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial: only supports floating point weights, got {p.dtype}; use .float()")
    if p.ndim not in (1, 2):
        raise RuntimeError(
            f"multinomial: prob_dist must be 1 or 2 dim (categories, or rows x categories), "
            f"got shape {p.shape}")
    if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial: num_samples must be an int, got "
                        f"{type(num_samples).__name__}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples ({num_samples})")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement ({num_samples} > {p.shape[-1]} categories); pass replacement=True")
    xp = array_module(p)
    if p.size and not bool(xp.all(xp.isfinite(p) & (p >= 0))):
        raise RuntimeError("multinomial: probability tensor contains either inf, nan or "
                           "element < 0")
    if p.shape[0] and (p.shape[-1] == 0 or not bool(xp.all(p.sum(axis=-1) > 0))):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0 in some row)")


def multinomial(input, num_samples, replacement=False, *, generator=None):  # noqa: A002
    """int64 category indices drawn from the rows of ``input``: (num_samples,) for 1-D
    weights (categories,), (rows, num_samples) for 2-D weights (rows, categories)."""
    p = input.array
    _check(p, num_samples, replacement)
    xp = array_module(p)
    rows = p.reshape(-1, p.shape[-1]).astype(np.float64)
    n, k = rows.shape
    if n == 0:
        return wrap(xp.zeros(p.shape[:-1] + (num_samples,), dtype=np.int64))
    if replacement:
        cdf = xp.cumsum(rows, axis=1)
        cdf /= cdf[:, -1:]  # each row now ends at exactly 1.0
        u = uniform_array((n, num_samples), 0.0, 1.0, np.float64, device_of(p), generator)
        # draw u falls in interval j when cdf_(j-1) <= u < cdf_j
        out = xp.stack([xp.searchsorted(c, v, side="right") for c, v in zip(cdf, u)])
    else:
        u = uniform_array((n, k), 0.0, 1.0, np.float64, device_of(p), generator)
        positive = rows > 0
        wait = -xp.log1p(-u)  # Exp(1) samples
        # e_j / p_j, and inf for weight 0: those arrive last, in index order
        arrival = xp.where(positive, wait / xp.where(positive, rows, 1.0), np.inf)
        out = sort_indices(arrival, 1, descending=False)[:, :num_samples]
    return wrap(out.astype(np.int64).reshape(p.shape[:-1] + (num_samples,)))
