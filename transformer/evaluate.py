"""Translating many sentences at once, and scoring them with sacreBLEU.

BLEU compares the n-grams (1 to 4 words) of each translation with the reference:
the geometric mean of the n-gram precisions, times a penalty for translations that
are too short; 100 means identical. chrF does the same on character n-grams, which
is kinder to morphology (Spanish endings). Both are computed by sacrebleu on
detokenized text, so the scores compare with published ones; its *signature*
(printed) says exactly how.
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt

from .generate import generate


def translate(model, tokenizer, sentences, *, num_beams: int = 1, max_len: int | None = None,
              batch_size: int = 64, device="cpu", **sampling) -> list[str]:
    """English sentences -> Spanish strings, decoded in batches of similar length."""
    out: list[str] = [""] * len(sentences)
    for idx, src in source_batches(tokenizer, sentences, model.config.max_len, batch_size):
        limit = max_len or min(model.config.max_len - 1, 2 * src.shape[1] + 10)
        ids = generate(model, tt.tensor(src, device=device), tokenizer.bos_id, tokenizer.eos_id,
                       max_len=limit, num_beams=num_beams, **sampling)
        for row, i in enumerate(idx):
            out[i] = tokenizer.decode(ids[row])
    return out


def source_batches(tokenizer, sentences, max_len: int, batch_size: int = 64):
    """Yield (indices into ``sentences``, padded source ids (batch, longest) int64), the
    sentences sorted by length so that each batch pads little; each ends with eos and is
    cut to ``max_len`` tokens."""
    encoded = [tokenizer.encode(s)[: max_len - 1] + [tokenizer.eos_id] for s in sentences]
    order = np.argsort([len(e) for e in encoded], kind="stable")
    for start in range(0, len(order), batch_size):
        idx = order[start: start + batch_size]
        src = np.full((len(idx), max(len(encoded[i]) for i in idx)), tokenizer.pad_id,
                      dtype=np.int64)
        for row, i in enumerate(idx):
            src[row, : len(encoded[i])] = encoded[i]
        yield idx, src


def overlong(tokenizer, sentences, max_len: int) -> list[tuple[int, int]]:
    """(index, token count) of each sentence that ``source_batches`` cuts: more than
    ``max_len - 1`` tokens (the last position is eos)."""
    counts = (len(tokenizer.encode(s)) for s in sentences)
    return [(i, n) for i, n in enumerate(counts) if n > max_len - 1]


def _sacrebleu():
    try:
        import sacrebleu  # noqa: PLC0415
    except ImportError:
        raise RuntimeError(
            "BLEU/chrF need sacrebleu: pip install -e '.[train]' (or pip install sacrebleu)"
        ) from None
    return sacrebleu


def score(hypotheses: list[str], references: list[str]) -> dict:
    """Corpus BLEU and chrF (sacrebleu defaults: 13a tokenization) and their signatures."""
    sb = _sacrebleu()
    bleu = sb.metrics.BLEU()
    chrf = sb.metrics.CHRF()
    b = bleu.corpus_score(hypotheses, [references])
    c = chrf.corpus_score(hypotheses, [references])
    return {"bleu": b.score, "chrf": c.score, "bleu_signature": str(bleu.get_signature()),
            "chrf_signature": str(chrf.get_signature())}


def evaluate_pairs(model, tokenizer, pairs, *, num_beams: int = 1, device="cpu",
                   examples: int = 0) -> dict:
    """Translate the English side of ``pairs`` and score against the Spanish side."""
    hyps = translate(model, tokenizer, [en for en, _ in pairs], num_beams=num_beams, device=device)
    result = score(hyps, [es for _, es in pairs])
    result["examples"] = [(en, es, h) for (en, es), h in zip(pairs[:examples], hyps[:examples])]
    return result
