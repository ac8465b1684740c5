"""The benchmark workload is what it claims: the PyTorch twin computes the same loss
as our model, the analytic FLOP count matches the matrix products a step really does,
and the random batches have the stated padding. (Timings are never asserted here.)"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import tinytorch as tt
from benchmarks import breakdown
from benchmarks.workload import (
    CONFIGS, LABEL_SMOOTHING, PAD, make_batch, tinytorch_model, train_flops,
)
from tinytorch.ops.linear import Linear
from transformer.attention import ScaledDotProductAttention

TINY = dataclasses.replace(CONFIGS["S"], d_model=16, nhead=2, dim_feedforward=24, layers=2,
                           vocab=40, batch=3, length=7)


def test_batches_have_the_stated_padding():
    src, tgt_in, tgt_out = make_batch(CONFIGS["M"])
    assert src.shape == tgt_in.shape == tgt_out.shape == (64, 32)
    assert 0.15 < (src == PAD).mean() < 0.25
    assert (tgt_in[:, 1:] == tgt_out[:, :-1]).all()  # teacher forcing: shifted by one


def test_flop_count_matches_the_matrix_products_of_a_forward_pass(monkeypatch):
    counted = []

    def count_linear(self, x, weight, bias=None):
        counted.append(2 * x.size // x.shape[-1] * weight.shape[0] * weight.shape[1])
        return original_linear(self, x, weight, bias)

    def count_attention(self, q, k, v, *args, **kwargs):
        batch = q.size // (q.shape[-2] * q.shape[-1])  # batch * heads
        counted.append(2 * batch * q.shape[-2] * k.shape[-2] * (q.shape[-1] + v.shape[-1]))
        return original_attention(self, q, k, v, *args, **kwargs)

    original_linear, original_attention = Linear.forward, ScaledDotProductAttention.forward
    monkeypatch.setattr(Linear, "forward", count_linear)
    monkeypatch.setattr(ScaledDotProductAttention, "forward", count_attention)
    model = tinytorch_model(TINY)
    with tt.no_grad():
        model(*(tt.tensor(a) for a in make_batch(TINY)[:2]))
    assert 3 * sum(counted) == train_flops(TINY)


def test_the_pytorch_twin_computes_the_same_loss():
    torch = pytest.importorskip("torch")
    from benchmarks.torch_twin import to_tinytorch_state
    from benchmarks.workload import torch_model

    twin = torch_model(TINY).double()
    ours = tinytorch_model(TINY).to(tt.float64)
    missing, unexpected = ours.load_state_dict(
        {k: tt.tensor(v) for k, v in to_tinytorch_state(twin).items()}, strict=False)
    assert not unexpected and all(k.startswith(("tgt_embed.", "generator.")) for k in missing)
    src, tgt_in, tgt_out = make_batch(TINY)
    theirs = twin.loss(*(torch.from_numpy(a) for a in (src, tgt_in, tgt_out)), LABEL_SMOOTHING)
    mine = ours.loss(*(tt.tensor(a) for a in (src, tgt_in, tgt_out)),
                     label_smoothing=LABEL_SMOOTHING)
    np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-10)


def test_breakdown_accounts_for_the_whole_step(monkeypatch):
    monkeypatch.setitem(CONFIGS, "tiny", TINY)
    result = breakdown.measure("tiny", steps=1)
    fams = result["families"]
    assert "matmul (Linear, Matmul)" in fams and "optimizer (clip + Adam)" in fams
    assert sum(fams.values()) == pytest.approx(result["step_s"], rel=1e-6)


def test_rounds_pool_their_step_times_into_one_median():
    from benchmarks.run import pool
    from benchmarks.workload import CONFIGS, target_tokens

    runs = [{"config": "S", "framework": "torch", "threads": 2, "peak_rss_mb": 500.0,
             "times_s": [0.10, 0.30, 0.20]},
            {"config": "S", "framework": "torch", "threads": 2, "peak_rss_mb": 520.0,
             "times_s": [0.40, 0.25]}]
    row = pool(runs)
    assert row["step_s"] == 0.25 and row["min_s"] == 0.10 and row["max_s"] == 0.40
    assert row["repeats"] == 5 and row["processes"] == 2 and row["peak_rss_mb"] == 520.0
    assert row["tokens_per_s"] == pytest.approx(target_tokens(CONFIGS["S"]) / 0.25)


def test_plain_rows_train_the_same_model_on_the_textbook_paths():
    """The suite's "plain" rows (tinytorch.fast_paths(False)) time the same step: same
    first loss as the fast rows, and none of the fast paths' ops run."""
    from benchmarks.workload import step_function

    fast, _ = step_function("tinytorch", TINY)
    plain, _ = step_function("plain", TINY)
    loss_fast = fast()
    loss_plain = plain()
    assert loss_plain.grad_fn.name == "AddBackward"  # (1 - eps) nll + eps smooth, composed
    assert loss_fast.grad_fn.name == "LinearCrossEntropyBackward"
    np.testing.assert_allclose(loss_plain.item(), loss_fast.item(), rtol=1e-5)
    assert tt.fast_paths_enabled()  # the plain step restores the switch
