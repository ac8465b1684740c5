"""The benchmark workload is what it claims: the PyTorch twin computes the same loss
as our model, the analytic FLOP count matches the matrix products a step really does,
and the random batches have the stated padding. (Timings are never asserted here.)"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import json

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


def _sdpa_twin(cfg, state):
    """The fast PyTorch twin (benchmarks/torch_sdpa_twin.py) in float64 with these weights
    (our names); checks every weight of ours went in (the output layer is the tied embedding)."""
    from benchmarks.torch_sdpa_twin import load_tinytorch_state
    from benchmarks.workload import torch_sdpa_model

    twin = torch_sdpa_model(cfg).double()
    used = load_tinytorch_state(twin, state)
    assert len(used) == len(set(used)) and set(state) - set(used) <= {"generator.weight"}
    return twin


def test_the_sdpa_twin_computes_the_same_loss_as_ours_and_the_nn_transformer_twin():
    torch = pytest.importorskip("torch")
    from benchmarks.torch_twin import to_tinytorch_state
    from benchmarks.workload import torch_model

    src, tgt_in, tgt_out = make_batch(TINY)
    assert (src == PAD).any() and (tgt_out == PAD).any()  # the masks have work to do
    batch = [torch.from_numpy(a) for a in (src, tgt_in, tgt_out)]
    ours = tinytorch_model(TINY, seed=1).to(tt.float64)
    fast = _sdpa_twin(TINY, {k: v.numpy() for k, v in ours.state_dict().items()})
    mine = ours.loss(*(tt.tensor(a) for a in (src, tgt_in, tgt_out)),
                     label_smoothing=LABEL_SMOOTHING)
    np.testing.assert_allclose(fast.loss(*batch, LABEL_SMOOTHING).item(), mine.item(),
                               rtol=1e-10)
    twin = torch_model(TINY).double()
    fast = _sdpa_twin(TINY, to_tinytorch_state(twin))
    np.testing.assert_allclose(fast.loss(*batch, LABEL_SMOOTHING).item(),
                               twin.loss(*batch, LABEL_SMOOTHING).item(), rtol=1e-10)


def test_the_sdpa_twins_cached_greedy_is_the_uncached_greedy_of_the_nn_transformer_twin():
    torch = pytest.importorskip("torch")
    from benchmarks.torch_twin import to_tinytorch_state
    from benchmarks.workload import torch_model

    twin = torch_model(TINY).double().eval()
    fast = _sdpa_twin(TINY, to_tinytorch_state(twin)).eval()
    src = torch.from_numpy(make_batch(TINY)[0])
    uncached = twin.greedy(src, 1, 10).tolist()
    assert fast.greedy(src, 1, 10).tolist() == uncached
    assert len({t for row in uncached for t in row}) > 1  # not one token over and over
    # with an end-of-sequence every row has produced by step 4: both stop there
    eos = uncached[0][3]
    assert all(eos in row[:4] for row in uncached)
    stopped = twin.greedy(src, 1, 10, eos_id=eos).tolist()
    assert len(stopped[0]) < 10 and fast.greedy(src, 1, 10, eos_id=eos).tolist() == stopped


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


# -- the language model (benchmarks/lm_*.py, torch_lm_twin.py) -----------------------------------

def _lm_tiny():
    from benchmarks.lm_workload import LM_CONFIGS

    return dataclasses.replace(LM_CONFIGS["S"], name="tiny", d_model=16, nhead=2,
                               dim_feedforward=24, layers=2, vocab=2000, batch=3, length=9)


#: GPT-2's settings (the benchmark's), and the paper's with an untied output layer.
LM_SETTINGS = [{}, dict(norm_first=False, activation="relu", positional="sinusoidal",
                        scale_embeddings=True, tie_embeddings=False)]


def _lm_pair(settings, seed=0):
    """Our DecoderOnly and the PyTorch twin with our weights, both float64."""
    from benchmarks.lm_workload import tinytorch_lm, torch_lm
    from benchmarks.torch_lm_twin import load_tinytorch_state

    cfg = _lm_tiny()
    ours = tinytorch_lm(cfg, seed, **settings).to(tt.float64)
    twin = torch_lm(cfg, seed, **settings).double()
    state = {k: v.numpy() for k, v in ours.state_dict().items()}
    used = load_tinytorch_state(twin, state)
    assert set(used) == set(state)  # every weight of ours went into the twin
    return ours, twin


@pytest.mark.parametrize("settings", LM_SETTINGS, ids=["gpt2", "paper-untied"])
def test_the_pytorch_lm_twin_computes_the_same_loss(settings):
    torch = pytest.importorskip("torch")
    from benchmarks.lm_workload import make_batch

    ours, twin = _lm_pair(settings)
    ids_in, ids_out = make_batch(_lm_tiny())
    assert (ids_out == PAD).any()  # the padding is there, and left out by both
    theirs = twin.loss(torch.from_numpy(ids_in), torch.from_numpy(ids_out), LABEL_SMOOTHING)
    for fast in (True, False):
        with tt.fast_paths(fast):
            mine = ours.loss(tt.tensor(ids_in), tt.tensor(ids_out), label_smoothing=LABEL_SMOOTHING)
        np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-10)


@pytest.mark.parametrize("settings", LM_SETTINGS, ids=["gpt2", "paper-untied"])
def test_the_twins_cached_generation_is_its_uncached_one_and_ours(settings):
    torch = pytest.importorskip("torch")
    from benchmarks.lm_generation import NEVER
    from benchmarks.lm_workload import BOS, make_prompts
    from transformer.generate import generate

    ours, twin = _lm_pair(settings)
    twin.eval()
    prompts = make_prompts(_lm_tiny(), 3, 4)
    # the cached step's logits, prompt then one token, equal the full forward's
    full = twin(torch.from_numpy(prompts)).detach().numpy()
    cache = [[] for _ in twin.blocks.layers]
    with torch.no_grad():
        first = twin._cached_step(torch.from_numpy(prompts[:, :3]), cache, 0).numpy()
        last = twin._cached_step(torch.from_numpy(prompts[:, 3:]), cache, 3).numpy()
    np.testing.assert_allclose(np.concatenate([first, last], axis=1), full, atol=1e-10)
    cached = twin.greedy(torch.from_numpy(prompts), 6, use_cache=True).tolist()
    assert cached == twin.greedy(torch.from_numpy(prompts), 6, use_cache=False).tolist()
    assert cached == generate(ours, tt.tensor(prompts), BOS, NEVER, max_len=6)


def test_lm_batches_are_corpus_sentences_packed_into_rows():
    from benchmarks.lm_workload import BOS, EOS, LM_CONFIGS, make_batch, make_prompts, target_tokens

    cfg = LM_CONFIGS["M"]
    ids_in, ids_out = make_batch(cfg)
    assert ids_in.shape == ids_out.shape == (cfg.batch, cfg.length)
    assert (ids_in[:, 1:] == ids_out[:, :-1]).all()  # next-token prediction
    assert (ids_in[:, 0] == BOS).all()
    real = ids_out != PAD
    assert (real[:, :-1] >= real[:, 1:]).all()  # padding only at the end of a row
    ends = np.array([row[r][-1] for row, r in zip(ids_out, real)])
    assert (ends == EOS).all()  # whole sentences only
    assert 0.05 < 1 - real.mean() < 0.3 and target_tokens(ids_out) == real.sum()
    prompts = make_prompts(cfg, 64, 8)
    assert prompts.shape == (64, 8) and (prompts != PAD).all()


def test_lm_flop_count_matches_the_matrix_products_of_a_forward_pass(monkeypatch):
    from benchmarks.lm_workload import make_batch, tinytorch_lm, train_flops

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
    cfg = _lm_tiny()
    with tt.no_grad():
        tinytorch_lm(cfg)(tt.tensor(make_batch(cfg)[0]))
    assert 3 * sum(counted) == train_flops(cfg)


def _main_in_process(module: str, args: list[str]) -> list[dict]:
    """What the suites' ``child`` returns, with the module's main run in this process: its
    stdout's JSON lines."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        importlib.import_module(module).main(args)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _fake_gemm_peaks(threads, native_blas=None):
    """run.gemm_peaks without its children: 100 GFLOP/s at every thread count."""
    return {t: 100.0 for t in threads}, {"numpy": [], "pinning": {}, "native": True}


def test_lm_suite_runs_at_toy_size(monkeypatch, capsys):
    """The whole LM part (training rows pooled over rounds, generation rows, the printed
    tables) on a toy config, its children run in this process. No timing is checked."""

    from benchmarks import lm_suite
    from benchmarks.lm_workload import LM_CONFIGS

    monkeypatch.setitem(LM_CONFIGS, "tiny", _lm_tiny())

    def in_process(module, args, threads):
        return _main_in_process(module, args)

    monkeypatch.setattr(lm_suite, "child", in_process)
    frameworks = ["tinytorch", "plain"] + (["torch"] if lm_suite.has_torch() else [])
    if lm_suite.has_torch():  # the children would set PyTorch's threads for this process
        import torch
        monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    res = lm_suite.run_lm(["tiny"], [1], frameworks, quick=True, rounds=2, peaks={1: 100.0})
    train = {r["framework"]: r for r in res["training"]}
    assert set(train) == set(frameworks)
    for r in train.values():
        assert r["repeats"] == 6 and r["processes"] == 2 and r["tokens_per_s"] > 0
    # the same model and batch on the fast and the plain paths (and in PyTorch, its own init)
    assert train["plain"]["first_loss"] == pytest.approx(train["tinytorch"]["first_loss"],
                                                         rel=1e-5)
    if "torch" in train:
        assert "speed_vs_torch" in train["tinytorch"] and "speed_vs_torch" in train["plain"]
    gen = res["generation"]
    sides = {(r["framework"], r["batch"], r["cache"]) for r in gen}
    fws = [fw for fw in frameworks if fw != "plain"]
    assert sides == {(fw, b, c) for fw in fws for b in (16, 64) for c in (False, True)}
    assert all(r["new"] == 32 and r["tokens_per_s"] > 0 for r in gen)
    assert len(res["load_average_before"]) == len(res["load_average_after"]) == 3
    assert res["gemm_peak_gflops"] == {1: 100.0} and "blas" in res
    for r in train.values():  # MFU two ways: padded positions, and the real tokens alone
        assert 0 < r["mfu_real"] < r["mfu"]
    assert res["blas"]["numpy"] == train["tinytorch"]["blas"]["numpy"]
    printed = capsys.readouterr().out
    assert "## Language model training" in printed and "KV cache" in printed


# -- benchmark honesty: the BLAS kernel, the GEMM check, MFU two ways (benchmarks/machine.py) --

def test_children_run_native_blas_unless_pinned():
    from benchmarks.machine import child_env

    base = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "262144", "PATH": "/bin"}
    native = child_env(2, native_blas=True, base=base)
    pinned = child_env(2, native_blas=False, base=base)
    assert "OPENBLAS_CORETYPE" not in native and "OPENBLAS_L2_SIZE" not in native
    assert pinned["OPENBLAS_CORETYPE"] == "Haswell" and pinned["OPENBLAS_L2_SIZE"] == "262144"
    for env in (native, pinned):
        assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "2"
        assert env["PATH"] == "/bin"
    assert base["OPENBLAS_CORETYPE"] == "Haswell"  # the caller's environment is untouched
    unset = child_env(1, native_blas=False, base={"OPENBLAS_L2_SIZE": "1"})  # none set here:
    assert unset["OPENBLAS_CORETYPE"] == "Haswell" and unset["OPENBLAS_L2_SIZE"] == "1"
    assert "OPENBLAS_CORETYPE" not in child_env(1, native_blas=True, base={})


def test_gemm_check_passes_on_a_correct_blas_and_fails_loudly_on_a_wrong_one(monkeypatch):
    from benchmarks import machine

    assert 0 <= machine.check_gemm() <= 385 * 2.0**-24  # rounding only, within bound
    real_matmul = np.matmul

    def corrupted(a, b, *args, **kwargs):  # a kernel that gets one block wrong
        out = real_matmul(a, b, *args, **kwargs)
        out[:8, :8] *= 1.01
        return out

    monkeypatch.setattr(np, "matmul", corrupted)
    with pytest.raises(RuntimeError, match="GEMM check failed.*NumPy's BLAS is"):
        machine.check_gemm()
    with pytest.raises(RuntimeError, match="GEMM check failed"):
        machine.checked_blas()
    with pytest.raises(RuntimeError, match="GEMM check failed"):  # NaN is no pass either
        machine.check_gemm(matmul=lambda a, b: np.full((a.shape[0], b.shape[1]), np.nan))


def test_real_token_flops_leave_the_padding_out():
    from benchmarks.workload import real_train_flops

    src, _, tgt_out = make_batch(TINY)
    full = np.ones_like(src)  # no padding at all: the two counts agree
    assert real_train_flops(TINY, full, full) == pytest.approx(train_flops(TINY))
    assert real_train_flops(TINY, src, tgt_out) < train_flops(TINY)
    m = CONFIGS["M"]
    src, _, tgt_out = make_batch(m)  # ~20% padding: the real tokens need ~70-85% of it
    assert 0.65 < real_train_flops(m, src, tgt_out) / train_flops(m) < 0.9


def test_lm_real_token_flops_leave_the_padding_out():
    from benchmarks.lm_workload import make_batch as lm_batch
    from benchmarks.lm_workload import real_train_flops
    from benchmarks.lm_workload import train_flops as lm_flops

    cfg = _lm_tiny()
    ids_out = lm_batch(cfg)[1]
    assert real_train_flops(cfg, np.ones_like(ids_out)) == pytest.approx(lm_flops(cfg))
    assert real_train_flops(cfg, ids_out) <= lm_flops(cfg)


def test_training_rows_carry_the_blas_and_both_mfus(monkeypatch, capsys):
    """The suite's training part on a toy config, its children run in this process: every
    row says which BLAS ran and has both MFUs, and one extra row ran with the other BLAS
    setting (pinned). No timing is checked."""
    import json

    from benchmarks import run
    from benchmarks.machine import checked_blas

    monkeypatch.setitem(CONFIGS, "tiny", TINY)
    calls = []

    def in_process(module, args, threads, native_blas=None):
        calls.append((module, run.NATIVE_BLAS if native_blas is None else native_blas))
        if module == "benchmarks.gemm_peak":
            return [{"peak_gflops": 100.0, "per_size": {}, "blas": checked_blas()}]
        return _main_in_process(module, args)

    monkeypatch.setattr(run, "child", in_process)
    rows, peaks, blas = run.training(["tiny"], [1], ["tinytorch"], "cpu", quick=True, rounds=1)
    assert peaks == {1: 100.0}
    assert [r.get("blas_row") for r in rows] == [None, "pinned"]
    assert ("benchmarks.train_step", False) in calls and ("benchmarks.train_step", True) in calls
    for r in rows:
        assert 0 < r["mfu_real"] < r["mfu"]
        assert r["gflops_real"] / r["gflops"] == pytest.approx(r["mfu_real"] / r["mfu"])
        assert r["blas"]["gemm_check_rel_error"] <= 385 * 2.0**-24
    numpy_blas = blas["numpy"][0] if blas["numpy"] else None
    if numpy_blas is not None:  # threadpoolctl installed
        assert {"internal_api", "version", "architecture", "num_threads"} <= set(numpy_blas)
    assert "pinned" in blas and "gemm_peak_gflops" in blas["pinned"]
    json.dumps(blas)  # it goes into the suite's JSON as it is
    printed = capsys.readouterr().out
    assert "ours pinned" in printed and "GEMM peak" in printed


@pytest.mark.parametrize("compiles", [True, False], ids=["compiles", "compile-fails"])
def test_training_rows_compare_ours_with_every_pytorch_row(monkeypatch, capsys, compiles):
    """The training part with all three PyTorch rows, its children run in this process.
    torch.compile is replaced (a real compile takes a minute): by the identity, or by a
    compiler that fails as inductor does (its error wrapping the cause). A failing compile
    is a row that says why, the suite goes on, and our /best ratio is against the fastest
    row that ran. No timing is checked."""
    torch = pytest.importorskip("torch")

    from benchmarks import run

    monkeypatch.setitem(CONFIGS, "tiny", TINY)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)

    def broken_compile(fn):
        def compiled(*args, **kwargs):
            try:
                raise OSError("g++: command not found\nmore detail")
            except OSError as e:
                raise RuntimeError("backend='inductor' raised:") from e
        return compiled

    monkeypatch.setattr(torch, "compile", (lambda fn: fn) if compiles else broken_compile)

    def in_process(module, args, threads, native_blas=None):
        return _main_in_process(module, args)

    monkeypatch.setattr(run, "child", in_process)
    monkeypatch.setattr(run, "gemm_peaks", _fake_gemm_peaks)
    frameworks = ["tinytorch", "torch", "torch-sdpa", "torch-compile"]
    rows, _, _ = run.training(["tiny"], [1], frameworks, "cpu", quick=True, rounds=2)
    row = {r["framework"]: r for r in rows}
    assert set(row) == {*frameworks, "ours pinned"}
    ran = [fw for fw in frameworks[1:] if "error" not in row[fw]]
    fastest = min(ran, key=lambda fw: row[fw]["step_s"])
    ours = row["tinytorch"]
    assert ours["fastest_torch"] == fastest
    assert ours["ratio_to_fastest_torch"] == ours["step_s"] / row[fastest]["step_s"]
    assert ours["ratio_to_torch"] == ours["step_s"] / row["torch"]["step_s"]
    assert ours["ratio_to_fastest_torch"] >= ours["ratio_to_torch"]  # the fastest: no slower
    printed = capsys.readouterr().out
    if compiles:
        assert ran == frameworks[1:] and row["torch-compile"]["processes"] == 2
        assert len(row["torch-compile"]["compile_s_runs"]) == 2
        assert "torch.compile:" in printed
    else:
        assert row["torch-compile"]["error"] == "OSError: g++: command not found"
        assert "torch-compile  not available: OSError: g++: command not found" in printed
    assert "/best: against" in printed


def test_the_data_parallel_row_runs_n_processes_of_one_thread(monkeypatch, capsys):
    """With data_parallel, each thread count N > 1 gets a tinytorch-ddp row: the same step,
    N processes of one thread under mpiexec (here its child runs in this process, a world
    of one), alternating with the other rows, pooled, and its speed-up taken against ours
    at one thread. No timing is checked."""

    from benchmarks import run

    monkeypatch.setitem(CONFIGS, "tiny", TINY)
    calls = []

    def in_process(module, args, threads, native_blas=None, processes=1):
        calls.append((module, threads, processes))
        return _main_in_process(module, args)

    monkeypatch.setattr(run, "child", in_process)
    monkeypatch.setattr(run, "gemm_peaks", _fake_gemm_peaks)
    rows, _, _ = run.training(["tiny"], [1, 2], ["tinytorch"], "cpu", quick=True, rounds=2,
                              data_parallel=True)
    ddp = [r for r in rows if r["framework"] == "tinytorch-ddp"]
    assert [(r["threads"], r["processes"], r["repeats"]) for r in ddp] == [(2, 2, 6)]
    assert calls.count(("benchmarks.distributed_step", 1, 2)) == 2  # 1 thread, 2 processes
    assert 0 < ddp[0]["mfu_real"] < ddp[0]["mfu"]
    printed = capsys.readouterr().out
    assert "tinytorch-ddp: 2 processes x 1 thread (mpiexec)" in printed
    assert "speed-up from 1 to 2 threads: tiny tinytorch " in printed
    assert "tiny tinytorch-ddp " in printed


def test_thread_speedups_compare_each_row_with_itself_and_ddp_with_ours():
    from benchmarks.training_rows import thread_speedups

    rows = [{"config": "S", "framework": fw, "threads": t, "step_s": s}
            for fw, t, s in [("tinytorch", 1, 1.0), ("tinytorch", 2, 0.8), ("torch", 1, 1.2),
                             ("torch", 2, 0.6), ("tinytorch-ddp", 2, 0.5)]]
    rows.append({"config": "S", "framework": "ours pinned", "threads": 2, "step_s": 9.0,
                 "blas_row": "pinned"})
    assert thread_speedups(rows) == {("S", "tinytorch"): 1.25, ("S", "torch"): 2.0,
                                     ("S", "tinytorch-ddp"): 2.0}
    assert thread_speedups(rows[:1]) == {}
