"""Reading the attention of a trained model: who looked at whom, in every layer and head.

A translator has three kinds of attention, and ``attention_maps`` collects all three
from one teacher-forced pass over a sentence and its translation:

- ``encoder``: self-attention over the English tokens (queries and keys: the source);
- ``decoder``: masked self-attention over the Spanish read so far (queries and keys:
  ``<bos> y1 y2 ...``, the decoder's input; the causal mask zeroes the upper triangle);
- ``cross``: each Spanish position looking at the English (queries: target, keys:
  source). Row i is the step that *predicts* target token i, so rows are labelled
  with the predicted tokens.

``python -m transformer attention "The bank is near the river."`` prints and draws them.
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt

KINDS = ("encoder", "decoder", "cross")


def _modules(model, kind):
    if kind == "encoder":
        return [layer.self_attn for layer in model.encoder.layers]
    if kind == "decoder":
        return [layer.self_attn for layer in model.decoder.layers]
    return [layer.cross_attn for layer in model.decoder.layers]


def attention_maps(model, tokenizer, source: str, target_ids: list[int], device="cpu") -> dict:
    """{kind: (weights (layers, heads, queries, keys), query tokens, key tokens)}."""
    src_ids = tokenizer.encode(source)[: model.config.max_len - 1] + [tokenizer.eos_id]
    tgt_in = [tokenizer.bos_id] + list(target_ids)[: model.config.max_len - 1]
    modules = {kind: _modules(model, kind) for kind in KINDS}
    was_training = model.training
    model.eval()
    for m in (m for ms in modules.values() for m in ms):
        m.record_weights = True
    try:
        with tt.no_grad():
            memory, src_layout = model.encode(tt.tensor([src_ids], device=device))
            model.decode(tt.tensor([tgt_in], device=device), memory, src_layout)
        weights = {kind: np.stack([m.last_weights.detach().cpu().numpy()[0] for m in ms])
                   for kind, ms in modules.items()}
    finally:
        for m in (m for ms in modules.values() for m in ms):
            m.record_weights, m.last_weights = False, None
        model.train(was_training)
    name = tokenizer.id_to_token
    src_tokens = [name(i) for i in src_ids]
    tgt_in_tokens = [name(i) for i in tgt_in]
    predicted = [name(i) for i in tgt_in[1:] + [tokenizer.eos_id]]  # what row i predicts
    return {"encoder": (weights["encoder"], src_tokens, src_tokens),
            "decoder": (weights["decoder"], tgt_in_tokens, tgt_in_tokens),
            "cross": (weights["cross"], predicted, src_tokens)}


def cross_attention(model, tokenizer, source: str, target_ids: list[int], device="cpu"):
    """(weights (layers, heads, tgt_len, src_len), source tokens, target tokens): the
    cross-attention only; row i shows what the model attended to while predicting
    target token i (then eos)."""
    weights, predicted, src_tokens = attention_maps(model, tokenizer, source, target_ids,
                                                    device)["cross"]
    return weights, src_tokens, predicted
