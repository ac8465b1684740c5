"""The course notes' model (``MiPrimerLLM``: the notes' layers, names, sizes and order; the
imports and the layout of ``forward`` are ours) trains like PyTorch's."""

import numpy as np
import pytest

import tinytorch as torch  # the notes import torch: this line and the one below
from tinytorch import nn


class MiPrimerLLM(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.linear1 = nn.Linear(embedding_dim, hidden_size)
        self.relu = nn.ReLU()
        self.linear2 = nn.Linear(hidden_size, vocab_size)

    def forward(self, x):
        return self.linear2(self.relu(self.linear1(self.embedding(x))))


def _task(vocab, n=64, seed=0):
    """Next-token prediction on a fixed rule: token t is followed by (3 t + 1) mod vocab."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, size=n)
    return x, (3 * x + 1) % vocab


def _train(lib, nn_mod, model, steps, vocab):
    criterio = nn_mod.CrossEntropyLoss()
    optimizador = lib.optim.Adam(model.parameters(), lr=0.001)
    losses = []
    for step in range(steps):
        x, y = _task(vocab, seed=step)
        prediccion = model(lib.tensor(x))
        perdida = criterio(prediccion, lib.tensor(y))
        optimizador.zero_grad()
        perdida.backward()
        optimizador.step()
        losses.append(perdida.item())
    return losses


def test_course_model_learns():
    torch.manual_seed(0)
    modelo = MiPrimerLLM(vocab_size=100, embedding_dim=32, hidden_size=64)
    losses = _train(torch, nn, modelo, 150, 100)
    assert losses[-1] < 0.5 * losses[0]


def test_course_model_matches_pytorch_loss_curve():
    th = pytest.importorskip("torch")
    ours = MiPrimerLLM(vocab_size=1000, embedding_dim=128, hidden_size=256)

    class Theirs(th.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = th.nn.Embedding(1000, 128)
            self.linear1 = th.nn.Linear(128, 256)
            self.relu = th.nn.ReLU()
            self.linear2 = th.nn.Linear(256, 1000)

        def forward(self, x):
            return self.linear2(self.relu(self.linear1(self.embedding(x))))

    theirs = Theirs()
    with th.no_grad():  # the same initial weights
        for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == m
            q.copy_(th.from_numpy(p.detach().numpy().copy()))
    a = _train(torch, nn, ours, 30, 1000)
    b = _train(th, th.nn, theirs, 30, 1000)
    np.testing.assert_allclose(a, b, rtol=2e-4)
    assert a[-1] < a[0]
