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


# -- the translator: one training step ----------------------------------------------------------
def _trainer(corpus, out, device, dropout=0.0):
    from transformer.train import TrainArgs, Trainer

    args = TrainArgs(data=str(corpus), out=str(out), size="tiny", vocab_size=300, steps=2,
                     minutes=None, batch_tokens=200, warmup=5, eval_every=1000,
                     dropout=dropout, progress=False, device=device)
    return Trainer(args, log=lambda *a: None)


def _weights(trainer):
    return {k: host(v) for k, v in trainer.model.state_dict().items()}


def test_training_step_on_device_matches_cpu(fake_cuda, corpus, tmp_path):
    """The trainer's own step (forward, loss, backward, clip, Adam, scheduler), twice.

    In float64: the device path sums some things in another order (the embedding's
    scatter-add, each attention row's own max), and Adam's first steps turn the float32
    rounding of a near-zero gradient into a difference as large as the learning rate."""
    cpu = _trainer(corpus, tmp_path / "cpu", "cpu")
    cuda = _trainer(corpus, tmp_path / "gpu", "cuda")
    assert all(p.device.type == "cuda" for p in cuda.model.parameters())
    cpu.model.double()
    cuda.model.double()
    for _ in range(2):
        loss_cpu, n_cpu = cpu.train_step(next(cpu.batches))
        loss_cuda, n_cuda = cuda.train_step(next(cuda.batches))
        assert n_cuda == n_cpu
        np.testing.assert_allclose(loss_cuda, loss_cpu, rtol=1e-12)
    a, b = _weights(cpu), _weights(cuda)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-9, atol=1e-12, err_msg=k)


# -- generation and evaluation ------------------------------------------------------------------
def _translator(device):
    from transformer import Transformer, TransformerConfig

    tt.manual_seed(3)
    config = TransformerConfig(src_vocab_size=40, tgt_vocab_size=40, d_model=32, nhead=4,
                               num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64,
                               dropout=0.0, max_len=32, pad_id=0)
    return Transformer(config).to(device).eval()


SRC = np.array([[5, 6, 7, 8, 2], [9, 10, 2, 0, 0], [11, 12, 13, 2, 0]])


@pytest.mark.parametrize("num_beams", [1, 3])
@pytest.mark.parametrize("use_cache", [True, False])
def test_generation_on_device_matches_cpu(fake_cuda, num_beams, use_cache):
    from transformer import generate

    got = {}
    for device in ("cpu", "cuda"):
        model = _translator(device)
        fake_cuda.reset()
        got[device] = generate(model, tt.tensor(SRC, device=device), bos_id=1, eos_id=2,
                               max_len=12, num_beams=num_beams, use_cache=use_cache)
    assert got["cuda"] == got["cpu"]
    assert any(len(row) > 3 for row in got["cpu"])  # an untrained model runs on: many steps


def test_evaluation_on_device_matches_cpu(fake_cuda, corpus, tmp_path):
    """The trainer's evaluation: validation loss, then translating and scoring (BLEU)."""
    pytest.importorskip("sacrebleu")
    rows = {d: _trainer(corpus, tmp_path / d, d).measure(train_loss=0.0) for d in ("cpu", "cuda")}
    np.testing.assert_allclose(rows["cuda"]["valid_loss"], rows["cpu"]["valid_loss"], rtol=1e-5)
    assert rows["cuda"]["valid_bleu_200"] == rows["cpu"]["valid_bleu_200"]


def test_whole_training_run_on_device(fake_cuda, corpus, tmp_path):
    """Train, evaluate, save the checkpoint, then the final report (test BLEU, greedy and
    beam), as ``python -m transformer train --device cuda`` does; the checkpoint loads on
    the CPU."""
    pytest.importorskip("sacrebleu")
    from transformer.checkpoint import load_checkpoint, model_from_checkpoint

    trainer = _trainer(corpus, tmp_path / "run", "cuda")
    trainer.args.eval_every = 2
    trainer.run()
    assert trainer.step == 2 and trainer.metrics[-1]["step"] == 2
    report = trainer.final_report()
    assert {"greedy", "beam 4"} <= report.keys() and 0 <= report["beam 4"]["bleu"] <= 100
    state = load_checkpoint(trainer.ckpt, kind="translator")
    model, _ = model_from_checkpoint(state, trainer.ckpt, "cpu")
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), host(trainer.model.state_dict()[k]), err_msg=k)


# -- host transfers: each one makes a GPU wait for everything queued before it ------------------
def test_host_transfers_per_training_step_are_few(fake_cuda, corpus, tmp_path):
    """A training step reads 7 values back to the host, whatever the model's size; a
    change that adds one per parameter or per layer (e.g. ``float(norm)`` per gradient in
    clip_grad_norm_, which made 89 of them in this model) fails here.

    The 7 (measured), in the order they happen:
    - 2 packing layouts (transformer/layout.py, Layout.__init__): the kept positions of the
      source and target batch, ``keep.cpu()``, to build the packing index;
    - 2 embedding range checks (tinytorch/ops/embedding.py): one bool each (source, target);
    - 1 target range check of the fused loss (tinytorch/ops/loss.py, check_target_range);
    - 1 ``flatnonzero`` of the non-ignored targets in the fused loss (its size is read back);
    - 1 ``loss.item()`` in Trainer.train_step, for the log.
    """
    trainer = _trainer(corpus, tmp_path / "gpu", "cuda", dropout=0.1)
    trainer.train_step(next(trainer.batches))  # the first step also makes Adam's state
    for _ in range(2):
        fake_cuda.reset()
        trainer.train_step(next(trainer.batches))
        where = "\n".join(f"{n} x {w}" for w, n in fake_cuda.summary().items())
        assert len(fake_cuda.to_host) <= 7, f"host transfers in one training step:\n{where}"
        assert len(fake_cuda.to_device) <= 6  # the batch's 3 id arrays, 2 packing indexes, 1 scalar


def test_host_transfers_per_generated_token_are_few(fake_cuda):
    """Greedy decoding reads the step's logits back (the search runs in NumPy) and the
    embedding's range check, 2 per token; beam search's reorders add one index check per
    reordered tensor (memory, source padding, each layer's cross-attention keys and values)."""
    from transformer import generate

    model = _translator("cuda")
    src = tt.tensor(SRC, device="cuda")
    for num_beams, per_token in ((1, 2), (3, 2 + 2 + 2 * model.config.num_decoder_layers)):
        fake_cuda.reset()
        out = generate(model, src, bos_id=1, eos_id=2, max_len=12, num_beams=num_beams)
        steps = max(len(row) for row in out) + 1
        where = "\n".join(f"{n} x {w}" for w, n in fake_cuda.summary().items())
        assert len(fake_cuda.to_host) <= per_token * steps + 1, where


# -- what the device paths changed: same results, same errors -----------------------------------
@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])  # clipped, and left alone
def test_clip_grad_norm_on_device_matches_cpu(fake_cuda, norm_type, max_norm):
    grads = [np.random.default_rng(i).standard_normal(s) for i, s in enumerate([(3, 4), (5,)])]
    result = {}
    for device in ("cpu", "cuda"):
        params = [tt.zeros(g.shape, dtype=tt.float64, device=device, requires_grad=True)
                  for g in grads]
        for p, g in zip(params, grads):
            p.grad = tt.tensor(g, device=device)
        fake_cuda.reset()
        total = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        if device == "cuda":
            assert fake_cuda.to_host == []  # nothing read back: the GPU never waits
        result[device] = [host(total)] + [host(p.grad) for p in params]
    for a, b in zip(result["cpu"], result["cuda"]):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_clip_grad_norm_on_device_nonfinite(fake_cuda):
    p = tt.zeros(3, device="cuda", requires_grad=True)
    p.grad = tt.tensor([1.0, float("nan"), 2.0], device="cuda")
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert np.isnan(host(nn.utils.clip_grad_norm_([p], 1.0)))
    assert np.isnan(host(p.grad)).all()  # as in PyTorch: a NaN norm spreads to every gradient


def test_range_checks_still_raise_on_device(fake_cuda):
    weight = tt.randn(5, 3, device="cuda")
    with pytest.raises(IndexError, match=r"ids in \[0, 7\]"):
        F.embedding(tt.tensor([0, 7], device="cuda"), weight)
    with pytest.raises(IndexError, match="index out of range"):
        weight.index_select(0, tt.tensor([-1, 2], device="cuda"))
    logits = tt.randn(3, 4, device="cuda")
    with pytest.raises(IndexError, match=r"got \[0, 4\]"):
        F.cross_entropy(logits, tt.tensor([0, 4, -100], device="cuda"))
    F.cross_entropy(logits, tt.tensor([0, 3, -100], device="cuda"))  # ignored rows are fine


def test_embedding_padding_idx_backward_on_device(fake_cuda):
    grads = {}
    for device in ("cpu", "cuda"):
        tt.manual_seed(1)
        emb = nn.Embedding(6, 4, padding_idx=0).to(device)
        out = emb(tt.tensor([[0, 1, 1, 5], [0, 0, 2, 1]], device=device))
        (out * out).sum().backward()
        grads[device] = host(emb.weight.grad)
    assert not grads["cuda"][0].any()
    np.testing.assert_allclose(grads["cuda"], grads["cpu"], rtol=1e-6)


def test_language_model_generation_and_sampling_on_device_match_cpu(fake_cuda):
    """A decoder-only model (GPT): greedy from prompts of two lengths, and sampling (the
    draw runs on the host's logits, so the same generator gives the same tokens)."""
    from transformer import DecoderOnly, TransformerConfig, generate

    got = {}
    for device in ("cpu", "cuda"):
        tt.manual_seed(4)
        config = TransformerConfig(src_vocab_size=30, tgt_vocab_size=30, d_model=16, nhead=2,
                                   num_encoder_layers=1, num_decoder_layers=2,
                                   dim_feedforward=32, dropout=0.0, max_len=24, pad_id=0,
                                   norm_first=True, activation="gelu")
        model = DecoderOnly(config).to(device)
        prompts = [[3, 4, 5], [6, 7], [8, 9, 10]]
        greedy = generate(model, prompts, bos_id=1, eos_id=2, max_len=8)
        sampled = generate(model, prompts, bos_id=1, eos_id=2, max_len=8, do_sample=True,
                           top_k=5, generator=tt.Generator().manual_seed(7))
        got[device] = (greedy, sampled)
    assert got["cuda"] == got["cpu"]


# -- the repository's own CUDA tests, which skip without a GPU, run on the fake device ----------
@pytest.mark.parametrize("name", ["rmsprop_centered_momentum_wd", "adagrad_lr_decay",
                                  "adamax_betas_wd", "nadam_decoupled", "radam_wd"])
def test_optimizers_step_and_resume_on_device(fake_cuda, name):
    from test_optim_more import test_cuda_steps_and_resumes_like_the_cpu as check

    check(name)


def test_checkpoint_round_trip_on_device(fake_cuda, tmp_path):
    from test_serialization import test_gpu_round_trip as check

    check(tmp_path)
