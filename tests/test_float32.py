"""float32 in, float32 all the way: one training step of the translator (forward,
backward, clipping, Adam) never makes a float64 array. A silent upcast (a float64
NumPy scalar, np.arange without a dtype, a Python-float division on an int array)
would double memory traffic and halve BLAS speed without changing any result."""

from __future__ import annotations

import numpy as np

import tinytorch as tt
from tinytorch import nn
from tinytorch.autograd.function import op_classes
from transformer.model import Transformer, TransformerConfig


def test_a_training_step_never_makes_float64(monkeypatch):
    made = []

    def watch(fn, where):
        def wrapper(*args, **kwargs):
            out = fn(*args, **kwargs)
            for a in out if isinstance(out, tuple) else (out,):
                if getattr(a, "dtype", None) is not None and a.dtype == np.float64:
                    made.append(where)
            return out
        return wrapper

    for cls in op_classes():
        for phase in ("forward", "backward"):
            if phase in vars(cls):
                monkeypatch.setattr(cls, phase, watch(vars(cls)[phase], f"{cls.__name__}.{phase}"))
    tt.manual_seed(0)
    cfg = TransformerConfig(src_vocab_size=30, tgt_vocab_size=30, d_model=16, nhead=2,
                            num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32,
                            dropout=0.1, max_len=16)
    model = Transformer(cfg)
    opt = tt.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    src, tgt = (tt.tensor(rng.integers(1, 30, (3, 6))) for _ in range(2))
    for _ in range(2):
        loss = model.loss(src, tgt, tgt, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    assert loss.dtype == tt.float32
    assert not made, f"float64 arrays made by {sorted(set(made))}"
    for name, p in model.named_parameters():
        assert p.dtype == tt.float32 and p.grad.dtype == tt.float32, name
    for state in opt.state.values():
        for key, value in state.items():
            assert getattr(value, "dtype", tt.float32) != tt.float64, key
