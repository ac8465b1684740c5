"""parallel.py: the thread helper gives the serial pass's bits, and set/get_num_threads."""

import numpy as np
import pytest

import tinytorch as torch
import tinytorch.parallel as parallel
from tinytorch.optim import Adam


@pytest.fixture
def threads():
    """Force the helper on (2 threads, no size threshold); restore afterwards."""
    before = parallel.get_num_threads()
    limit = parallel.MIN_ELEMENTS

    def use(n, min_elements=1):
        parallel.set_num_threads(n)
        parallel.MIN_ELEMENTS = min_elements
    yield use
    parallel.MIN_ELEMENTS = limit
    parallel.set_num_threads(before)


def test_set_get_num_threads(threads):
    threads(3)
    assert torch.get_num_threads() == 3
    with pytest.raises(ValueError, match="positive"):
        torch.set_num_threads(0)


def test_rows_parallel_splits_rows_and_covers_all(threads):
    threads(3)
    x = np.arange(700.0).reshape(70, 10)
    out = np.zeros_like(x)
    seen = []

    def fn(a, b):
        seen.append(a.shape[0])
        np.multiply(a, 2, out=b)
    parallel.rows_parallel(fn, x, out)
    assert seen and sorted(seen) == [16, 22, 32]  # blocks cut at multiples of 16 rows
    assert np.array_equal(out, 2 * x)
    seen.clear()
    parallel.rows_parallel(fn, x, out, min_elements=x.size + 1)
    assert seen == [70]                           # under the threshold: one serial call


def test_rows_parallel_off_by_default(threads):
    threads(2, min_elements=None)                 # the shipped default: always serial
    seen = []
    parallel.rows_parallel(lambda a: seen.append(a.shape[0]), np.zeros((64, 1024)))
    assert seen == [64]


def test_rows_parallel_reraises(threads):
    threads(2)

    def boom(a):
        raise RuntimeError("from a thread")
    with pytest.raises(RuntimeError, match="from a thread"):
        parallel.rows_parallel(boom, np.zeros((4, 4)))


def _layer_norm_run(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal(shape, dtype=np.float32) * 3 + 1, requires_grad=True)
    w = torch.tensor(rng.standard_normal(shape[-1], dtype=np.float32), requires_grad=True)
    b = torch.tensor(rng.standard_normal(shape[-1], dtype=np.float32), requires_grad=True)
    g = rng.standard_normal(shape, dtype=np.float32)
    y = torch.nn.functional.layer_norm(x, (shape[-1],), w, b)
    (y * torch.tensor(g)).sum().backward()
    return y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()


@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("shape", [(5, 13, 48), (7, 29, 96)])
def test_layer_norm_threads_bit_identical(threads, n, shape):
    # The same BLAS threads both times; only the helper goes from serial to n blocks.
    threads(n, min_elements=10**12)
    serial = _layer_norm_run(shape)
    threads(n)
    assert all(np.array_equal(a, b) for a, b in zip(serial, _layer_norm_run(shape)))


def _adam_run(amsgrad, steps=3):
    rng = np.random.default_rng(1)
    p = torch.tensor(rng.standard_normal((600, 300), dtype=np.float32), requires_grad=True)
    opt = Adam([p], lr=1e-2, weight_decay=0.1, amsgrad=amsgrad)
    for _ in range(steps):
        p.grad = torch.tensor(rng.standard_normal((600, 300), dtype=np.float32))
        opt.step()
    return p.detach().numpy().copy(), opt.state[p]["exp_avg_sq"].numpy().copy()


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_threads_bit_identical(threads, amsgrad):
    threads(2, min_elements=10**12)
    serial = _adam_run(amsgrad)        # 180,000 > 2 * CHUNK: the sliced path
    threads(2)
    assert all(np.array_equal(a, b) for a, b in zip(serial, _adam_run(amsgrad)))
