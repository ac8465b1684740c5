"""GPU breakage caught on the CPU: tinytorch and the transformer under a strict fake CuPy.

tests/fake_cupy.py stands in for CuPy: ``device='cuda'`` tensors hold arrays that refuse
implicit conversion to NumPy and any mixing with host arrays (as CuPy's do), and every
device-to-host copy is counted with where it happened. Here the core ops, one training step
of the translator, greedy and beam generation and evaluation run on that "device" and must
give the CPU's numbers; the host transfers of a training step are counted and bounded, so a
change that adds a synchronisation per parameter fails.
"""

import numpy as np
import pytest

import fake_cupy
import tinytorch as tt
import tinytorch.nn.functional as F
from tinytorch import nn


@pytest.fixture
def fake_cuda(monkeypatch):
    """tinytorch sees tests/fake_cupy.py as CuPy with one GPU (undone after the test)."""
    return fake_cupy.install(monkeypatch)


def host(t):
    """A tensor's values as a NumPy array (a counted transfer when it is on the device)."""
    return t.detach().cpu().numpy()


# -- the guard itself can fail ----------------------------------------------------------------
def test_fake_device_refuses_implicit_conversion_and_host_mixing(fake_cuda):
    x = tt.ones(3, device="cuda")
    assert x.device.type == "cuda" and not isinstance(x.array, np.ndarray)
    with pytest.raises(TypeError, match="Implicit conversion"):
        np.asarray(x.array)
    with pytest.raises(TypeError, match="Unsupported type"):
        x.array + np.ones(3)
    with pytest.raises(TypeError, match="Unsupported type"):
        np.exp(np.ones(3)) * x.array
    with pytest.raises(TypeError, match="numpy"):
        x.numpy()
    fake_cuda.reset()
    assert x.sum().item() == 3.0
    assert len(fake_cuda.to_host) == 1
    assert fake_cuda.to_host[0].startswith("tinytorch/tensor.py")
    assert "test_device_guard.py" in fake_cuda.to_host[0]


def test_mixing_devices_in_an_op_is_refused(fake_cuda):
    with pytest.raises((TypeError, RuntimeError)):
        tt.ones(3, device="cuda") + tt.ones(3)


# -- core ops: the same numbers on the device ---------------------------------------------------
def _ops_forward_backward(device):
    """Loss and gradients of a small graph that uses the common ops, on ``device``."""
    gen = np.random.default_rng(0)
    x_np = gen.standard_normal((4, 5, 8))
    w_np = gen.standard_normal((8, 6))
    emb_np = gen.standard_normal((10, 8))
    ids_np = np.array([[1, 2, 2, 9, 0], [3, 3, 3, 1, 4], [0, 0, 5, 6, 7], [9, 8, 7, 6, 5]])
    target_np = np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1])
    x = tt.tensor(x_np, device=device, requires_grad=True)
    w = tt.tensor(w_np, device=device, requires_grad=True)
    emb = tt.tensor(emb_np, device=device, requires_grad=True)
    ids = tt.tensor(ids_np, device=device)
    target = tt.tensor(target_np, device=device)
    h = x + F.embedding(ids, emb)                               # gather rows, repeats
    h = F.layer_norm(h, (8,))
    h = F.gelu(h) + tt.tanh(h) * tt.sigmoid(h)
    h = h[:, 1:, :] * 2.0                                        # slicing
    h = h[:, [0, 2, 3]]                                          # advanced indexing
    logits = h.reshape(-1, 8) @ w                                # (12, 6)
    probs = F.softmax(logits, dim=-1)
    loss = F.cross_entropy(logits, target[:12]) + probs.max(dim=-1).values.mean()
    loss = loss + F.log_softmax(logits, dim=-1).mean() * 0.1 + (logits ** 2).mean() * 0.01
    masked = logits.masked_fill(logits > 1.0, 0.0).sum()
    loss = loss + masked * 0.001 + tt.where(logits > 0, logits, -logits).sum() * 0.001
    loss.backward()
    return [host(loss), host(x.grad), host(w.grad), host(emb.grad)]


def test_core_ops_forward_backward_match_cpu(fake_cuda):
    cpu = _ops_forward_backward("cpu")
    cuda = _ops_forward_backward("cuda")
    for a, b in zip(cpu, cuda):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def test_dropout_and_linear_module_on_device(fake_cuda):
    layer = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
    layer.to("cuda")
    x = tt.randn(4, 8, device="cuda")
    out = layer(x)
    assert out.device.type == "cuda" and out.shape == (4, 2)
    out.sum().backward()
    assert all(p.grad.device.type == "cuda" for p in layer.parameters())
    layer.eval()
    x_cpu = x.cpu()
    np.testing.assert_allclose(host(layer(x)), host(layer.to("cpu")(x_cpu)), rtol=1e-6)
