"""The language-model workload: configs, batches from the built-in corpus, the analytic
FLOP count, both models (our DecoderOnly and its PyTorch twin) and the training step.

Sizes follow the translator's S and M (benchmarks/workload.py): the same d_model, heads,
d_ff, vocabulary and batch shape, with as many blocks as the translator has encoder and
decoder layers together (a decoder-only block is an encoder layer under a causal mask).
The settings are GPT-2's (``GPT2_SETTINGS``): pre-LN, GELU (tanh), learned positions,
unscaled embeddings tied to the output layer; no dropout. Label smoothing 0.1, Adam(0.9,
0.98, eps 1e-9), gradient norm clipped to 1.0: the translator's training step.

Batches: the Spanish side of the built-in corpus (transformer.data), tokenized by our BPE
trained on it, each sentence ``<bos> ... <eos>``, packed end to end into rows of
``length + 1`` tokens (a sentence that does not fit starts the next row; the rest of the
row is padding: 19% of the positions at S, 12% at M). ``ids_in`` is a row without its
last token, ``ids_out`` without its first: next-token prediction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PAD, BOS, EOS = 0, 1, 2    # BPETokenizer's special ids
LABEL_SMOOTHING = 0.1
ADAM = {"lr": 1e-4, "betas": (0.9, 0.98), "eps": 1e-9}
CLIP = 1.0
MAX_LEN = 64               # positions: training rows and prompt + generated tokens fit

#: GPT-2's choices among the TransformerConfig fields (transformer/gpt2/ loads GPT-2 itself).
GPT2_SETTINGS = dict(norm_first=True, activation="gelu_tanh", positional="learned",
                     scale_embeddings=False, tie_embeddings=True, final_norm=True, dropout=0.0)


@dataclass(frozen=True)
class LMConfig:
    name: str
    d_model: int
    nhead: int
    dim_feedforward: int
    layers: int          # blocks
    vocab: int
    batch: int           # rows
    length: int          # positions per row (ids_in and ids_out)

    def to_dict(self) -> dict:
        return asdict(self)


LM_CONFIGS = {
    "S": LMConfig("S", 128, 4, 512, 4, 4000, 64, 24),
    "M": LMConfig("M", 256, 4, 1024, 6, 8000, 64, 32),
}


def transformer_config(cfg: LMConfig, **settings):
    """The TransformerConfig both models are built from (GPT2_SETTINGS unless overridden)."""
    from transformer.model import TransformerConfig

    return TransformerConfig(
        src_vocab_size=cfg.vocab, tgt_vocab_size=cfg.vocab, d_model=cfg.d_model,
        nhead=cfg.nhead, num_encoder_layers=1, num_decoder_layers=cfg.layers,
        dim_feedforward=cfg.dim_feedforward, max_len=max(MAX_LEN, cfg.length + 1), pad_id=PAD,
        **{**GPT2_SETTINGS, **settings})


def corpus_sentences(vocab: int, n: int = 2000, seed: int = 0) -> list[list[int]]:
    """``n`` Spanish sentences of the built-in corpus as ``[bos, ids..., eos]`` lists, by our
    BPE trained on them (it stops at ~1,500 tokens: the corpus has a small lexicon, so
    the ids use the start of a larger vocabulary; lengths 4 to 16, mean 8.7)."""
    from transformer.data import generate_pairs
    from transformer.tokenizer import BPETokenizer

    spanish = [es for _, es in generate_pairs(n, seed)]
    tok = BPETokenizer.train(spanish, vocab)
    if tok.vocab_size > vocab:
        raise ValueError(f"the corpus tokenizer has {tok.vocab_size} ids; a vocab of {vocab} "
                         "is too small for it")
    return tok.encode_batch(spanish, add_bos=True, add_eos=True)


def pack_rows(sentences: list[list[int]], rows: int, width: int) -> np.ndarray:
    """(rows, width) int64: sentences laid end to end, a row padded when the next one
    does not fit (sentences longer than a row are cut)."""
    out = np.full((rows, width), PAD, dtype=np.int64)
    it = iter(sentences)
    pending = next(it)[:width]
    for r in range(rows):
        used = 0
        while used + len(pending) <= width:
            out[r, used: used + len(pending)] = pending
            used += len(pending)
            pending = next(it)[:width]
    return out


def make_batch(cfg: LMConfig, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(ids_in, ids_out), each (batch, length) int64 (see the module docstring)."""
    rows = pack_rows(corpus_sentences(cfg.vocab, seed=seed), cfg.batch, cfg.length + 1)
    return rows[:, :-1].copy(), rows[:, 1:].copy()


def make_prompts(cfg: LMConfig, batch: int, length: int, seed: int = 1) -> np.ndarray:
    """(batch, length) int64 prompts without padding: consecutive pieces of the corpus'
    token stream (sentences end to end), so every row needs the same work."""
    stream = np.concatenate(corpus_sentences(cfg.vocab, seed=seed))
    if len(stream) < batch * length:
        raise ValueError(f"{batch} prompts of {length} tokens need a longer corpus stream")
    return stream[: batch * length].reshape(batch, length).astype(np.int64)


def target_tokens(ids_out: np.ndarray) -> int:
    """The real (non-padding) targets of a batch: what tokens/s counts."""
    return int((ids_out != PAD).sum())


def train_flops(cfg: LMConfig) -> float:
    """Floating point operations of one training step (forward + backward = 3 x forward),
    matrix products only, every position counted (padding too: the MFU convention of
    benchmarks/workload.py)."""
    b, n, d, ff, v = cfg.batch, cfg.length, cfg.d_model, cfg.dim_feedforward, cfg.vocab
    tokens = b * n
    attn = 2 * 2 * b * n * n * d                 # Q Kᵀ and weights @ V, all heads together
    proj = 4 * 2 * tokens * d * d                # Q, K, V and output projections
    ffn = 2 * 2 * tokens * d * ff                # two Linear layers
    output = 2 * tokens * d * v                  # the tied output layer
    return 3.0 * (cfg.layers * (proj + attn + ffn) + output)


def real_train_flops(cfg: LMConfig, ids_out: np.ndarray) -> float:
    """The FLOPs the real tokens need: ``train_flops`` with each row at its count of real
    (non-padding) targets, padding left out of queries and keys alike."""
    r = (np.asarray(ids_out) != PAD).sum(1).astype(np.float64)  # real positions per row
    d, ff, v = cfg.d_model, cfg.dim_feedforward, cfg.vocab
    tokens = r.sum()
    attn = 2 * 2 * d * (r * r).sum()
    proj = 4 * 2 * tokens * d * d
    ffn = 2 * 2 * tokens * d * ff
    output = 2 * tokens * d * v
    return 3.0 * (cfg.layers * (proj + attn + ffn) + output)


def tinytorch_lm(cfg: LMConfig, seed: int = 0, **settings):
    import tinytorch as tt
    from transformer.model import DecoderOnly

    tt.manual_seed(seed)
    return DecoderOnly(transformer_config(cfg, **settings))


def torch_lm(cfg: LMConfig, seed: int = 0, **settings):
    import torch

    from .torch_lm_twin import TorchLM

    torch.manual_seed(seed)
    return TorchLM(transformer_config(cfg, **settings))


#: tinytorch with its fast paths, tinytorch on its textbook paths, PyTorch.
FRAMEWORKS = ("tinytorch", "plain", "torch")


def step_function(framework: str, cfg: LMConfig, seed: int = 0):
    """A zero-argument training step: loss, backward, clip, Adam; returns the loss (a float,
    which also waits for the step to finish). The same code for both libraries: they
    share PyTorch's API."""
    ids_in, ids_out = make_batch(cfg, seed)
    if framework in ("tinytorch", "plain"):
        import tinytorch as lib
        model = tinytorch_lm(cfg, seed)
    else:
        import torch as lib
        model = torch_lm(cfg, seed)
    opt = lib.optim.Adam(model.parameters(), **ADAM)
    params = list(model.parameters())
    batch = [lib.from_numpy(a) for a in (ids_in, ids_out)]

    def step():
        loss = model.loss(*batch, label_smoothing=LABEL_SMOOTHING)
        opt.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        return loss.item()

    if framework == "plain":
        step = lib.fast_paths(False)(step)
    return step
