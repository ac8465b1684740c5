"""PyTorch's beginner tutorial ("Build the Neural Network", "Optimizing Model Parameters"),
on random 28x28 images: nn.Flatten, nn.Sequential, CrossEntropyLoss, SGD with momentum,
RMSprop for a second model, torch.device, a DataLoader over a TensorDataset. Plain PyTorch."""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.linear_relu_stack(self.flatten(x))


def build():
    torch.manual_seed(0)
    return NeuralNetwork().to(device)


def train(model, steps):
    rng = np.random.default_rng(0)
    images = torch.tensor(rng.random((64, 1, 28, 28)), dtype=torch.float32)
    labels = torch.tensor(rng.integers(0, 10, 64))
    loader = DataLoader(TensorDataset(images, labels), batch_size=16)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
    losses = []
    model.train()
    for _ in range(steps):
        for X, y in loader:
            X, y = X.to(device), y.to(device)
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        losses.append(loss.item())
    # a second optimizer, as the tutorial suggests trying
    rms = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    for X, y in loader:
        loss = loss_fn(model(X), y)
        rms.zero_grad()
        loss.backward()
        rms.step()
    losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pred = model(images)
        correct = (pred.argmax(1) == labels).type(torch.float).sum().item()
    return {"losses": losses, "correct": correct, "device": str(device)}
