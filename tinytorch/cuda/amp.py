"""``torch.cuda.amp``: the old spelling of ``torch.amp``'s autocast and GradScaler for
'cuda' (PyTorch deprecates it with a FutureWarning, and so does this). See tinytorch/amp.py."""

from __future__ import annotations

import warnings

from .. import amp as _amp
from .. import dtypes


class autocast(_amp.autocast):  # noqa: N801 (PyTorch's name)
    """``torch.amp.autocast('cuda', ...)`` (deprecated spelling)."""

    def __init__(self, enabled: bool = True, dtype=dtypes.float16, cache_enabled: bool = True):
        warnings.warn("torch.cuda.amp.autocast(args...) is deprecated. Please use "
                      "torch.amp.autocast('cuda', args...) instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """``torch.amp.GradScaler('cuda', ...)`` (deprecated spelling)."""

    def __init__(self, init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        warnings.warn("torch.cuda.amp.GradScaler(args...) is deprecated. Please use "
                      "torch.amp.GradScaler('cuda', args...) instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)
