"""Reading the attention of a trained model: which source tokens each output token looked at."""

from __future__ import annotations

import numpy as np

import tinytorch as tt


def cross_attention(model, tokenizer, source: str, target_ids: list[int], device="cpu"):
    """(weights (layers, heads, tgt_len, src_len), source tokens, target tokens).

    Runs the decoder once over ``bos + target_ids`` (teacher forcing) and collects every
    decoder layer's cross-attention weights. Row i shows what the model attended to while
    predicting target token i.
    """
    src_ids = tokenizer.encode(source)[: model.config.max_len - 1] + [tokenizer.eos_id]
    tgt_in = [tokenizer.bos_id] + list(target_ids)
    model.eval()
    with tt.no_grad():
        memory, src_pad = model.encode(tt.tensor([src_ids], device=device))
        model.decode(tt.tensor([tgt_in], device=device), memory, src_pad, keep_weights=True)
    weights = np.stack([layer.last_cross_weights.detach().cpu().numpy()[0]
                        for layer in model.decoder.layers])
    src_tokens = [tokenizer.id_to_token(i) for i in src_ids]
    # row i is the prediction of target_ids[i] (then eos)
    tgt_tokens = [tokenizer.id_to_token(i) for i in list(target_ids) + [tokenizer.eos_id]]
    return weights[:, :, : len(tgt_tokens)], src_tokens, tgt_tokens
