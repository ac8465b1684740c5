"""End to end: the transformer learns to copy (benchmarks/copy_task.py, made small).

Variable-length sources (3 to 6 of 6 symbols, so padding is exercised on both sides),
2 + 2 layers, d_model 32, 4 heads, Adam + warm-up/inverse-sqrt, 300 steps of 32
sequences: about 10 s on 2 CPU cores. Greedy decoding must copy at least 95 of 100
fresh sequences exactly (it gets 98-100 for seeds 0-4). The full-size run is
``python -m benchmarks.copy_task``.
"""

import numpy as np

from benchmarks.copy_task import CopyTaskArgs, build_model, exact_match, make_batch, run

ARGS = CopyTaskArgs(steps=300, batch_size=32, length=6, min_length=3, symbols=6, d_model=32,
                    nhead=4, layers=2, d_ff=64, peak_lr=2e-3, warmup=50, eval_size=100,
                    log_every=100, seed=0)


def test_batches_are_copies_with_eos_and_padding():
    src, tgt = make_batch(np.random.default_rng(0), 50, ARGS)
    assert src.shape == (50, 6) and tgt.shape == (50, 7)
    lengths = (src != 0).sum(1)
    assert lengths.min() >= 3 and lengths.max() == 6 and len(set(lengths)) > 1
    for s, t, n in zip(src, tgt, lengths):
        assert (s[:n] >= 3).all() and (s[n:] == 0).all()
        assert list(t[:n]) == list(s[:n]) and t[n] == 2 and (t[n + 1:] == 0).all()


def test_untrained_model_does_not_copy():
    src, _ = make_batch(np.random.default_rng(1), 100, ARGS)
    assert exact_match(build_model(ARGS), src) <= 5


def test_transformer_learns_to_copy():
    lines = []
    result = run(ARGS, log=lines.append)
    assert lines[-1] == f"final score: {result['correct']}/100"
    assert any(line.startswith("step   100  loss") and "tokens/s" in line for line in lines)
    assert result["final_loss"] < 0.1
    assert result["correct"] >= 95, "\n".join(lines)
