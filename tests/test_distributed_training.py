"""``mpiexec -n 2 python -m transformer train``: the same run as one process (transformer/
ranks.py), one writer, resuming with another number of ranks, stopping together.

Each run is a real ``mpiexec`` in a subprocess with a timeout (a hang fails the test), on
the tiny corpus, with ``--dropout 0``: with dropout every rank draws its own masks, and
the run would equal the one-process run only in distribution.

How equal: the losses agree to float32 rounding, and so do the weights, except the key
projections' biases. Their gradient is zero in exact arithmetic (softmax ignores a shift
shared by all keys: q.(k + b) adds q.b to every score of a query), so what backward
returns for them is rounding noise, which differs when the batch is split; Adam divides by
the root of its running mean square, turning that noise into steps of the learning rate's
size, different in each run. Every other weight agrees to 1e-5 (Adam's normalisation
makes float32 rounding differences in small gradients visible at 1e-6).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("mpi4py")
from test_distributed import MPIEXEC, needs_mpiexec  # noqa: E402

from transformer.checkpoint import load_checkpoint  # noqa: E402
from transformer.ranks import Ranks  # noqa: E402

pytestmark = needs_mpiexec

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _options(corpus, out, steps, *more):
    return ["train", "--data", str(corpus), "--out", str(out), "--size", "tiny",
            "--vocab-size", "300", "--batch-tokens", "200", "--warmup", "5", "--dropout", "0",
            "--no-progress", "--eval-every", "2", "--steps", str(steps), *more]


def run(n, options, timeout=180):
    """``python -m transformer *options``, under ``mpiexec -n n`` when n > 1."""
    cmd = [sys.executable, "-m", "transformer", *options]
    if n > 1:
        cmd = [MPIEXEC, "-n", str(n), *cmd]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(cmd)} did not end within {timeout} s\n"
                             f"{e.stderr}") from None


def assert_same_run(a_dir, b_dir):
    a = load_checkpoint(str(a_dir / "checkpoint.npz"), kind=None)
    b = load_checkpoint(str(b_dir / "checkpoint.npz"), kind=None)
    assert a["step"] == b["step"] and a["data"] == b["data"]
    for k, v in a["model"].items():
        if "k_proj.bias" not in k:  # (zero gradient in exact arithmetic: see the docstring)
            np.testing.assert_allclose(b["model"][k].numpy(), v.numpy(), rtol=0, atol=1e-5,
                                       err_msg=k)
    losses = [(m["step"], m["train_loss"], m["valid_loss"]) for m in a["metrics"]]
    other = [(m["step"], m["train_loss"], m["valid_loss"]) for m in b["metrics"]]
    assert [s for s, *_ in losses] == [s for s, *_ in other]
    np.testing.assert_allclose([x[1:] for x in other], [x[1:] for x in losses], rtol=1e-5)


@pytest.fixture
def one_process_run(corpus, tmp_path):
    """The reference: one process, 4 steps."""
    done = run(1, _options(corpus, tmp_path / "one", 4))
    assert done.returncode == 0, done.stderr
    return tmp_path / "one"


def test_two_ranks_train_like_one_process_and_only_rank_0_writes(corpus, tmp_path,
                                                                 one_process_run):
    done = run(2, _options(corpus, tmp_path / "two", 4))
    assert done.returncode == 0, done.stderr
    assert_same_run(one_process_run, tmp_path / "two")
    # one writer: each line once, the files of one run
    assert done.stdout.count("training from step 0") == 1
    assert done.stdout.count("step 2: train loss") == 1 and done.stdout.count("done in") == 1
    assert "2 processes (mpiexec)" in done.stdout
    assert sorted(os.listdir(tmp_path / "two")) == sorted(os.listdir(one_process_run))
    rows = (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == [2, 4]  # each evaluation once


def test_lm_train_on_two_ranks_is_the_one_process_run(tmp_path):
    text = tmp_path / "es.txt"
    text.write_text("".join(f"{s}\n" for s in ["Hola mundo.", "Buenas noches.", "Yo como pan.",
                                                 "El perro duerme.", "Gracias."] * 10))
    options = ["lm", *_options(text, tmp_path / "lm1", 3)]
    assert run(1, options).returncode == 0
    options[options.index(str(tmp_path / "lm1"))] = str(tmp_path / "lm2")
    done = run(2, options)
    assert done.returncode == 0, done.stderr
    assert_same_run(tmp_path / "lm1", tmp_path / "lm2")


@pytest.mark.parametrize("first, then", [(2, 1), (1, 2)], ids=["2 ranks then 1", "1 then 2"])
def test_resume_with_another_number_of_ranks(corpus, tmp_path, one_process_run, first, then):
    out = tmp_path / "resumed"
    assert run(first, _options(corpus, out, 2)).returncode == 0
    done = run(then, _options(corpus, out, 4, "--resume"))
    assert done.returncode == 0, done.stderr
    assert "resumed from" in done.stdout
    a = load_checkpoint(str(one_process_run / "checkpoint.npz"))
    b = load_checkpoint(str(out / "checkpoint.npz"))
    assert b["step"] == 4 and b["data"] == a["data"]
    for k, v in a["model"].items():
        if "k_proj.bias" not in k:
            np.testing.assert_allclose(b["model"][k].numpy(), v.numpy(), rtol=0, atol=1e-5)


def _rank_pids(parent: int) -> dict[int, int]:
    """{rank: pid} of the python processes that mpiexec ``parent`` started (Linux /proc)."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if b"PMI_RANK" in env and b"transformer" in cmdline and _descends(int(pid), parent):
            found[int(env[b"PMI_RANK"])] = int(pid)
    return found


def _descends(pid: int, ancestor: int) -> bool:
    while pid > 1:
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            return False
        if pid == ancestor:
            return True
    return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="finds the ranks' pids in /proc")
@pytest.mark.parametrize("who", ["rank 1 (SIGTERM)", "mpiexec (Ctrl-C)"])
def test_a_signal_stops_every_rank_at_one_step_with_one_checkpoint(corpus, tmp_path, who):
    """SIGTERM to rank 1 alone, or Ctrl-C to mpiexec (which passes it to every rank):
    every rank stops after the same step, rank 0 saves it, the exit status is 128 + the
    signal's number; resuming in one process continues that run."""
    out = tmp_path / "run"
    proc = subprocess.Popen([MPIEXEC, "-n", "2", sys.executable, "-m", "transformer",
                             *_options(corpus, out, 100000, "--eval-every", "100000")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        for line in proc.stdout:
            if "training from step" in line:
                break
        time.sleep(0.5)  # a few steps
        if who.startswith("rank 1"):
            os.kill(_rank_pids(proc.pid)[1], signal.SIGTERM)
            expected = signal.SIGTERM
        else:
            proc.send_signal(signal.SIGINT)
            expected = signal.SIGINT
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + expected, err
    assert rest.count("stopped at step") == 1, rest
    step = int(rest.split("stopped at step ")[1].split(";")[0])
    assert int(load_checkpoint(str(out / "checkpoint.npz"))["step"]) == step
    straight = run(1, _options(corpus, tmp_path / "straight", step + 2, "--eval-every",
                               "100000"))
    resumed = run(1, _options(corpus, out, step + 2, "--eval-every", "100000", "--resume"))
    assert straight.returncode == 0 and resumed.returncode == 0, resumed.stderr
    a = load_checkpoint(str(tmp_path / "straight" / "checkpoint.npz"))
    b = load_checkpoint(str(out / "checkpoint.npz"))
    for k, v in a["model"].items():
        if "k_proj.bias" not in k:
            np.testing.assert_allclose(b["model"][k].numpy(), v.numpy(), rtol=0, atol=1e-4)


def test_a_mistake_after_the_ranks_joined_ends_every_rank(corpus, tmp_path):
    """--vocab-size too small for this corpus is found after the ranks joined: one line
    per rank, status 2, every rank ends (no rank waits forever)."""
    done = run(2, _options(corpus, tmp_path / "x", 2, "--vocab-size", "270"), timeout=60)
    assert done.returncode == 2
    assert "error: --vocab-size 270: this corpus needs at least" in done.stderr
    assert not (tmp_path / "x").exists()


def test_mlm_train_says_it_runs_in_one_process(corpus, tmp_path):
    done = run(2, ["mlm", *_options(corpus, tmp_path / "m", 2)], timeout=60)
    assert done.returncode == 2
    assert "mlm train runs in one process only" in done.stderr


def test_under_mpiexec_without_mpi4py_says_what_to_install(monkeypatch):
    import tinytorch.distributed as dist
    from transformer.cli_args import UsageError

    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setattr(dist, "is_available", lambda: False)
    with pytest.raises(UsageError, match=r'pip install -e "\.\[distributed\]"'):
        Ranks.from_environment()
    monkeypatch.setenv("PMI_SIZE", "1")  # mpiexec -n 1: one process, no MPI needed
    assert Ranks.from_environment().world == 1


def test_batches_of_one_row_leave_rank_1_nothing_and_still_equal_one_process(corpus, tmp_path):
    """--max-len 12 --batch-tokens 26: every batch holds one sentence pair, so rank 1's
    slice is empty; it joins the average with zero gradients (ranks.zero_loss) and rank
    0's loss counts twice (its share of the tokens is all of them): the one-process step."""
    small = ["--max-len", "12", "--batch-tokens", "26"]
    one = _options(corpus, tmp_path / "one", 3, *small)
    assert run(1, one).returncode == 0
    done = run(2, _options(corpus, tmp_path / "two", 3, *small))
    assert done.returncode == 0, done.stderr
    assert_same_run(tmp_path / "one", tmp_path / "two")
