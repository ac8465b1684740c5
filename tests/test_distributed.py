"""tinytorch.distributed and DistributedDataParallel (issue 18).

Two kinds of test: in this process (a world of one process: MPI needs no mpiexec for
that), and real runs of 2 ranks, ``mpiexec -n 2 python tests/distributed_programs.py
<program>`` in a subprocess with a timeout, so that a hang fails instead of blocking the
suite. The equality tests use no dropout (the models have none): with dropout each rank
would draw its own masks, and the run would equal the one-process run only in
distribution.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinytorch as torch
from tinytorch import nn

pytest.importorskip("mpi4py")
import tinytorch.distributed as dist  # noqa: E402
from tinytorch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import distributed_programs as programs  # noqa: E402


def find_mpiexec() -> str | None:
    """The mpiexec that belongs to this Python (the venv's bin/, where pip's mpich puts
    it), else the one on PATH."""
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


MPIEXEC = find_mpiexec()
needs_mpiexec = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")


def mpiexec(n: int, *args, timeout: float = 120, env=None):
    """Run ``mpiexec -n n python tests/distributed_programs.py *args``; a run that does not
    end within ``timeout`` seconds fails the test (a hang)."""
    environ = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
               **(env or {})}
    cmd = [MPIEXEC, "-n", str(n), sys.executable, str(HERE / "distributed_programs.py"),
           *map(str, args)]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=environ)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"mpiexec -n {n} {' '.join(map(str, args))} did not end within "
                             f"{timeout} s (a hang)\n{e.stderr}") from None


@pytest.fixture
def world_of_one():
    """A process group of this process alone; destroyed after the test."""
    dist.init_process_group("mpi")
    yield
    dist.destroy_process_group()


# -- the engine hook DDP uses ------------------------------------------------------------------
def test_post_accumulate_grad_hook_sees_the_accumulated_grad_once_per_backward():
    w = torch.ones(3, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 2 + w).sum().backward()      # two paths into w: the hook sees their sum, once
    (w * w).sum().backward()          # accumulated: 3 + 2
    assert seen == [[3.0] * 3, [5.0] * 3]
    handle.remove()
    (w * 2).sum().backward()
    assert len(seen) == 2 and w.grad.tolist() == [7.0] * 3


def test_post_accumulate_grad_hook_runs_after_the_gradient_hooks():
    w = torch.ones(2, requires_grad=True)
    order = []
    w.register_hook(lambda g: order.append("grad hook") or g * 10)
    w.register_post_accumulate_grad_hook(lambda p: order.append(("post", p.grad.tolist())))
    w.sum().backward()
    assert order == ["grad hook", ("post", [10.0, 10.0])]


def test_post_accumulate_grad_hook_only_on_leaves_that_require_grad():
    with pytest.raises(RuntimeError, match="non-leaf"):
        (torch.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="does not require grad"):
        torch.ones(2).register_post_accumulate_grad_hook(print)


def test_autograd_grad_does_not_run_post_accumulate_hooks():
    w = torch.ones(2, requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(seen.append)
    (g,) = torch.autograd.grad((w * 3).sum(), [w])
    assert g.tolist() == [3.0, 3.0] and seen == [] and w.grad is None


# -- one process: the API without mpiexec ------------------------------------------------------
def test_world_of_one(world_of_one):
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert (dist.get_rank(), dist.get_world_size()) == (0, 1)
    t = torch.tensor([1.0, 2.0])
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    dist.broadcast(t, src=0)
    out = [torch.zeros(2)]
    dist.all_gather(out, t)
    dist.barrier()
    assert t.tolist() == [1.0, 2.0] and out[0].tolist() == [1.0, 2.0]
    objs = [None]
    dist.all_gather_object(objs, {"a": 1})
    assert objs == [{"a": 1}]


def test_all_reduce_bumps_the_version_so_a_stale_backward_refuses(world_of_one):
    x = torch.ones(3, requires_grad=True)
    h = torch.ones(3) * 1.0
    y = (x * h).sum()       # saves h for backward
    dist.all_reduce(h)      # changes h in place (here: to the same values)
    with pytest.raises(RuntimeError, match="modified by an in-place"):
        y.backward()


def test_ddp_in_one_process_is_plain_training(world_of_one):
    ref = programs.train("float64", "adam", 8)
    got = programs.train("float64", "adam", 8, wrap=DDP)
    for k, v in programs.weights(ref).items():
        np.testing.assert_array_equal(programs.weights(got)[k], v)


def test_ddp_module_state_dict_and_forward(world_of_one):
    model = nn.Linear(3, 2)
    ddp = DDP(model, device_ids=[0])
    assert ddp.module is model
    assert list(ddp.state_dict()) == ["module.weight", "module.bias"]
    x = torch.randn(4, 3)
    np.testing.assert_array_equal(ddp(x).detach().numpy(), model(x).detach().numpy())


def test_ddp_forward_under_no_grad_is_no_collective(world_of_one):
    """An evaluation (no backward follows) neither marks parameters ready nor reduces:
    nothing may wait for the other ranks, which may not be evaluating."""
    model = nn.Linear(3, 2)
    ddp = DDP(model, find_unused_parameters=True)
    with torch.no_grad():
        ddp(torch.randn(4, 3))
    assert model.weight.grad is None
    ddp(torch.randn(4, 3)).sum().backward()   # and training goes on
    assert model.weight.grad is not None


def test_mistakes_say_what_to_do(world_of_one):
    with pytest.raises(RuntimeError, match="twice"):
        dist.init_process_group("mpi")
    with pytest.raises(ValueError, match="0..0"):
        dist.broadcast(torch.ones(2), src=1)
    with pytest.raises(ValueError, match="AVG needs a floating point"):
        dist.all_reduce(torch.tensor([1, 2]), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="one per rank"):
        dist.all_gather([torch.zeros(2), torch.zeros(2)], torch.zeros(2))
    with pytest.raises(TypeError, match="Tensor"):
        dist.all_reduce(np.ones(2))


def test_before_init_and_other_backends():
    with pytest.raises(RuntimeError, match="init_process_group"):
        dist.get_rank()
    with pytest.raises(RuntimeError, match="init_process_group"):
        DDP(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="'mpi' backend only"):
        dist.init_process_group("nccl")
    with pytest.raises(ValueError, match="world_size=4"):
        dist.init_process_group("mpi", world_size=4)
    assert not dist.is_initialized()


def test_without_mpi4py_one_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now fails
    with pytest.raises(ImportError, match=r'pip install -e "\.\[distributed\]"'):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_importing_tinytorch_imports_no_mpi():
    code = "import sys, tinytorch, tinytorch.distributed; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=HERE.parent)
    assert out.stdout.strip() == "False", out.stderr


# -- two ranks -----------------------------------------------------------------------------------
@needs_mpiexec
@pytest.mark.parametrize("dtype_name, optimizer, batch, tol", [
    ("float32", "sgd", 8, 1e-6),
    ("float32", "adam", 7, 1e-6),     # 7 rows: rank 0 holds 4, rank 1 holds 3 (weighted)
    ("float64", "adam", 8, 1e-12),
    ("float64", "sgd", 7, 1e-12),
])
def test_two_ranks_with_half_batches_equal_one_process_with_the_whole(tmp_path, dtype_name,
                                                                      optimizer, batch, tol):
    """K = 5 steps. The ranks start from different weights (seeded by rank): the wrap
    must give them rank 0's."""
    run = mpiexec(2, "equal_weights", tmp_path, dtype_name, optimizer, batch)
    assert run.returncode == 0, run.stderr
    expected = programs.weights(programs.train(dtype_name, optimizer, batch))
    for rank in (0, 1):
        got = np.load(tmp_path / f"rank{rank}.npz")
        for k, v in expected.items():
            assert got[k].dtype == v.dtype
            np.testing.assert_allclose(got[k], v, rtol=0, atol=tol, err_msg=f"rank {rank} {k}")


@needs_mpiexec
@pytest.mark.parametrize("overlap, bucket_mb", [("0", "25"), ("1", "0.0001")])
def test_buckets_and_overlap_give_the_same_weights(tmp_path, overlap, bucket_mb):
    """One bucket reduced after backward, or one bucket per parameter started during it."""
    run = mpiexec(2, "equal_weights", tmp_path, "float64", "adam", 8, overlap, bucket_mb)
    assert run.returncode == 0, run.stderr
    expected = programs.weights(programs.train("float64", "adam", 8))
    got = np.load(tmp_path / "rank1.npz")
    for k, v in expected.items():
        np.testing.assert_allclose(got[k], v, rtol=0, atol=1e-12)


@needs_mpiexec
def test_collectives_on_two_ranks(tmp_path):
    run = mpiexec(2, "collectives", tmp_path)
    assert run.returncode == 0, run.stderr
    seen = json.loads((tmp_path / "results.json").read_text())
    assert seen["sum"] == [11.0, 22.0] and seen["AVG"] == [5.5, 11.0]
    assert seen["MAX"] == [10.0, 20.0] and seen["MIN"] == [1.0, 2.0]
    assert seen["PRODUCT"] == [10.0, 40.0]
    assert seen["bool_max"] == [True, False] and seen["int_band"] == [1 & 2, 6]
    assert seen["broadcast_view"] == [[0.0, 6.0], [2.0, 8.0], [4.0, 10.0]]  # rank 1's, x2
    assert seen["all_gather"] == [[0.0, 0.5], [1.0, 1.5]]
    assert seen["async"] == [1.0, True]
    assert seen["objects"] == [{"rank": 0}, {"rank": 1}]
    assert seen["broadcast_object"] == ["hello"]


@needs_mpiexec
def test_a_rank_that_raises_stops_every_rank(tmp_path):
    """Rank 0 waits in all_reduce for rank 1, which raises: MPI_Abort ends both (without
    it, rank 0 would wait forever: the timeout below would fail the test)."""
    run = mpiexec(2, "rank_raises", tmp_path, timeout=60)
    assert run.returncode != 0
    assert "rank 1 fails on purpose" in run.stderr
    assert "stopping every rank" in run.stderr


@needs_mpiexec
def test_parameters_that_differ_across_ranks_are_reported_at_wrap_time(tmp_path):
    run = mpiexec(2, "shapes_differ", tmp_path, timeout=60)
    assert run.returncode != 0
    assert "the ranks' models differ" in run.stderr
    assert "0.weight: rank 1 has torch.float32 (17, 6), rank 0 has torch.float32 (16, 6)" \
        in run.stderr


@needs_mpiexec
def test_a_collective_that_waits_past_the_timeout_raises(tmp_path):
    run = mpiexec(2, "timeout", tmp_path, timeout=60, env={"DIST_TIMEOUT": "2"})
    assert run.returncode != 0
    assert "DistError" in run.stderr and "waited more than 2 s" in run.stderr


@needs_mpiexec
def test_unused_parameters(tmp_path):
    """Without find_unused_parameters the next forward says which parameters had no
    gradient; with it they count as zero, and the used ones are averaged (accumulated
    over two backward passes: rank 0's x = 1 and rank 1's x = 2 give 3 and 6 per pass)."""
    run = mpiexec(2, "unused_parameters", tmp_path, "0", timeout=60)
    assert run.returncode != 0
    assert "got no gradient in the last backward: unused.bias, unused.weight" in run.stderr
    assert "find_unused_parameters=True" in run.stderr
    run = mpiexec(2, "unused_parameters", tmp_path, "1")
    assert run.returncode == 0, run.stderr
    grads = json.loads((tmp_path / "grads.json").read_text())
    assert grads["used.weight"] == [[9.0] * 4] * 2 and grads["used.bias"] == [6.0, 6.0]
    assert grads["unused.weight"] == [[0.0] * 4] * 2


@needs_mpiexec
def test_no_sync_accumulates_locally_then_averages_the_sum(tmp_path):
    run = mpiexec(2, "no_sync", tmp_path)
    assert run.returncode == 0, run.stderr
    seen = json.loads((tmp_path / "no_sync.json").read_text())
    assert seen["inside"] == [[1.0] * 3]            # rank 0's own gradient, not averaged
    assert seen["after"] == [[(3 * 1 + 3 * 2) / 2] * 3]


def test_distributed_sampler_asks_the_process_group(world_of_one):
    from tinytorch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(5), shuffle=False)
    assert (sampler.num_replicas, sampler.rank, list(sampler)) == (1, 0, [0, 1, 2, 3, 4])
