"""Loading PyTorch's transformer weights into ours (for the parity tests and for users).

PyTorch's ``nn.MultiheadAttention`` stores W_q, W_k, W_v stacked in one
``in_proj_weight`` (3 * d_model, d_model); ours keeps three Linear layers. Its layers
call the feed-forward Linears ``linear1``/``linear2`` directly and the decoder's
cross-attention ``multihead_attn``. Everything else has the same name.
"""

from __future__ import annotations

import numpy as np


def convert_state_dict(state: dict) -> dict:
    """A PyTorch transformer-block state dict (values: arrays) -> our names and layout."""
    out = {}
    for key, value in state.items():
        value = np.asarray(value)
        key = key.replace("multihead_attn.", "cross_attn.")
        key = key.replace(".linear1.", ".feed_forward.linear1.").replace(".linear2.", ".feed_forward.linear2.")
        if key.startswith(("linear1.", "linear2.")):
            key = "feed_forward." + key
        if key.endswith("in_proj_weight") or key.endswith("in_proj_bias"):
            kind = "weight" if key.endswith("weight") else "bias"
            prefix = key[: -len("in_proj_" + kind)]  # e.g. "layers.0.self_attn."
            for name, part in zip(("q_proj", "k_proj", "v_proj"), np.split(value, 3, axis=0)):
                out[f"{prefix}{name}.{kind}"] = part
            continue
        out[key] = value
    return out


def torch_state_to_numpy(module) -> dict:
    """``module.state_dict()`` of a PyTorch module as NumPy arrays."""
    return {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
