"""The training-step workload shared by every benchmark: configs S/M/L, the random
batches, the analytic FLOP count, and the models: tinytorch's and PyTorch's three rows
(the ``nn.Transformer`` twin, the hand-written SDPA twin, and that twin under
``torch.compile``).

All three configs are the translator's architecture: post-LN, ReLU, sinusoidal
positions, one embedding tied to source/target/output, no dropout, label smoothing
0.1, Adam(0.9, 0.98, eps 1e-9).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Config:
    name: str
    d_model: int
    nhead: int
    dim_feedforward: int
    layers: int          # encoder layers = decoder layers
    vocab: int
    batch: int
    length: int          # source and target length (padded)

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS = {
    "S": Config("S", 128, 4, 512, 2, 4000, 64, 24),
    "M": Config("M", 256, 4, 1024, 3, 8000, 64, 32),
    "L": Config("L", 512, 8, 2048, 6, 16000, 32, 32),
}

PAD, BOS = 0, 1
LABEL_SMOOTHING = 0.1
ADAM = {"lr": 1e-4, "betas": (0.9, 0.98), "eps": 1e-9}


def make_batch(cfg: Config, seed: int = 0, pad_fraction: float = 0.2):
    """(src, tgt_in, tgt_out) int64 arrays of shape (batch, length), ~pad_fraction padding.

    Sentence lengths are uniform in [length * (1 - 2 p), length], so on average a
    fraction p of the positions are padding (at the end of each row, like real batches).
    """
    rng = np.random.default_rng(seed)
    lo = max(1, round(cfg.length * (1 - 2 * pad_fraction)))

    def ids(n_extra=0):
        n = cfg.length + n_extra
        out = rng.integers(4, cfg.vocab, size=(cfg.batch, n))
        lengths = rng.integers(lo, cfg.length + 1, size=cfg.batch) + n_extra
        out[np.arange(n)[None, :] >= lengths[:, None]] = PAD
        return out

    src = ids()
    tgt = ids(1)
    tgt[:, 0] = BOS
    return src, tgt[:, :-1].copy(), tgt[:, 1:].copy()


def _step_flops(cfg: Config, src_lengths, tgt_lengths) -> float:
    """Matrix-product FLOPs of one training step whose sentences have these source and
    target lengths (one number per sentence): forward + backward = 3 x forward."""
    d, ff, v = cfg.d_model, cfg.dim_feedforward, cfg.vocab
    s = np.asarray(src_lengths, dtype=np.float64)
    t = np.asarray(tgt_lengths, dtype=np.float64)
    src, tgt = s.sum(), t.sum()                  # tokens on each side
    enc_attn = 2 * 2 * d * (s * s).sum()         # Q Kᵀ and weights @ V, all heads together
    self_attn = 2 * 2 * d * (t * t).sum()
    cross_attn = 2 * 2 * d * (t * s).sum()
    encoder = 4 * 2 * src * d * d + enc_attn + 2 * 2 * src * d * ff   # Q K V O, two Linears
    decoder = (4 * 2 * tgt * d * d + self_attn              # self-attention
               + 2 * 2 * tgt * d * d + 2 * 2 * src * d * d  # cross: Q, O on tgt; K, V on src
               + cross_attn + 2 * 2 * tgt * d * ff)
    output = 2 * tgt * d * v                     # the tied output projection
    return 3.0 * (cfg.layers * (encoder + decoder) + output)


def train_flops(cfg: Config) -> float:
    """Floating point operations of one training step (forward + backward), counting
    every matrix product as 2 m n k and the backward as twice the forward. Padding
    positions are counted: the hardware computes them too (the "padded" MFU). Elementwise
    work (softmax, layer norm, Adam) is left out, as in the usual MFU convention."""
    full = [cfg.length] * cfg.batch
    return _step_flops(cfg, full, full)


def real_train_flops(cfg: Config, src, tgt_out) -> float:
    """The FLOPs the real tokens need: ``train_flops`` with each sentence at its own
    length, padding left out (queries and keys alike). src, tgt_out: (batch, length)
    ids; a decoder position counts when its target is a real token. With no padding it
    equals ``train_flops``; the ratio of the two is the work a step spends on padding."""
    return _step_flops(cfg, (np.asarray(src) != PAD).sum(1), (np.asarray(tgt_out) != PAD).sum(1))


def target_tokens(cfg: Config) -> int:
    """Target positions per step, padding included (the throughput convention)."""
    return cfg.batch * cfg.length


def throughput(cfg: Config, step_s: float) -> dict:
    """Target tokens/s and GFLOP/s of a training step that took ``step_s`` seconds:
    padded (every position) and real (the FLOPs of the benchmark batch's real tokens)."""
    src, _, tgt_out = make_batch(cfg)
    return {"tokens_per_s": target_tokens(cfg) / step_s,
            "gflops": train_flops(cfg) / step_s / 1e9,
            "gflops_real": real_train_flops(cfg, src, tgt_out) / step_s / 1e9}


def tinytorch_model(cfg: Config, seed: int = 0):
    import tinytorch as tt
    from transformer.model import Transformer, TransformerConfig

    tt.manual_seed(seed)
    model = Transformer(TransformerConfig(
        src_vocab_size=cfg.vocab, tgt_vocab_size=cfg.vocab, d_model=cfg.d_model, nhead=cfg.nhead,
        num_encoder_layers=cfg.layers, num_decoder_layers=cfg.layers,
        dim_feedforward=cfg.dim_feedforward, dropout=0.0, max_len=max(64, cfg.length + 1),
        pad_id=PAD))
    return model


def torch_model(cfg: Config, seed: int = 0):
    import torch

    from .torch_twin import TorchTranslator

    torch.manual_seed(seed)
    model = TorchTranslator(cfg.vocab, cfg.d_model, cfg.nhead, cfg.layers, cfg.dim_feedforward,
                            dropout=0.0, max_len=max(64, cfg.length + 1), pad_id=PAD)
    return model


def torch_sdpa_model(cfg: Config, seed: int = 0):
    import torch

    from .torch_sdpa_twin import SdpaTranslator

    torch.manual_seed(seed)
    return SdpaTranslator(cfg.vocab, cfg.d_model, cfg.nhead, cfg.layers, cfg.dim_feedforward,
                          max_len=max(64, cfg.length + 1), pad_id=PAD)


def _training_step(model, opt, src, tgt_in, tgt_out, loss_fn=None):
    """The step, written once: both libraries have the same API. ``loss_fn``: the model's
    loss compiled (torch.compile), or None for ``model.loss`` itself."""
    loss_fn = loss_fn or model.loss

    def step():
        loss = loss_fn(src, tgt_in, tgt_out, label_smoothing=LABEL_SMOOTHING)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


#: The frameworks a step can run on: tinytorch with its fast paths (the default), tinytorch
#: on its textbook paths (``tinytorch.fast_paths(False)``: what the fast paths buy), PyTorch
#: eager on the ``nn.Transformer`` twin ("torch"), eager on the hand-written twin with
#: ``F.scaled_dot_product_attention`` ("torch-sdpa"), and that twin's loss under
#: ``torch.compile`` ("torch-compile"; its first steps compile, so it needs warm-up steps).
FRAMEWORKS = ("tinytorch", "plain", "torch", "torch-sdpa", "torch-compile")
TORCH_FRAMEWORKS = ("torch", "torch-sdpa", "torch-compile")


def step_function(framework: str, cfg: Config, device: str = "cpu", seed: int = 0):
    """A zero-argument training step (forward, loss, backward, Adam) and a sync function."""
    arrays = make_batch(cfg, seed)
    if framework in ("tinytorch", "plain"):
        import tinytorch as tt

        model = tinytorch_model(cfg, seed).to(device)
        opt = tt.optim.Adam(model.parameters(), **ADAM)
        batch = [tt.tensor(a, device=device) for a in arrays]
        step = _training_step(model, opt, *batch)
        if framework == "plain":
            step = tt.fast_paths(False)(step)

        def sync():
            if device != "cpu":
                from tinytorch.backend import cupy_module
                cupy_module().cuda.Device().synchronize()
        return step, sync
    import torch

    model = (torch_model if framework == "torch" else torch_sdpa_model)(cfg, seed).to(device)
    opt = torch.optim.Adam(model.parameters(), **ADAM)
    batch = [torch.from_numpy(a).to(device) for a in arrays]
    # compiled: forward and backward (AOTAutograd) of the loss; Adam stays eager
    loss_fn = torch.compile(model.loss) if framework == "torch-compile" else None

    def sync():
        if device != "cpu":
            torch.cuda.synchronize()
    return _training_step(model, opt, *batch, loss_fn=loss_fn), sync
