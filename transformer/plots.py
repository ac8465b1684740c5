"""Pictures and tables: the loss curve, and attention maps (source x target tokens).

matplotlib is optional (the ``[train]`` extra): without it the functions that draw
say how to install it, and the text table still works.
"""

from __future__ import annotations

import json

import numpy as np


class MissingDependency(RuntimeError):
    """An optional package the asked-for feature needs is not installed."""


def _pyplot():
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        raise MissingDependency("plots need matplotlib: pip install -e '.[train]' "
                                "(or pip install matplotlib)") from None
    return plt


def plot_loss(metrics_file, png) -> None:
    """Training and validation loss against steps, from a metrics.jsonl file."""
    plt = _pyplot()
    with open(metrics_file, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, [r["train_loss"] for r in rows], label="train (label-smoothed)")
    ax.plot(steps, [r["valid_loss"] for r in rows], label="valid")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy per token")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)


def plot_attention(weights, src_tokens, tgt_tokens, png, title="cross-attention",
                   layer_word="layer", head_word="head") -> None:
    """weights: (layers, heads, tgt_len, src_len) -> a grid of heatmaps, one per layer/head:
    rows are the queries (``tgt_tokens``), columns the keys (``src_tokens``)."""
    plt = _pyplot()
    weights = np.asarray(weights)
    layers, heads = weights.shape[:2]
    fig, axes = plt.subplots(layers, heads, figsize=(2.2 * heads + 1, 2.2 * layers + 1),
                             squeeze=False)
    for i in range(layers):
        for h in range(heads):
            ax = axes[i][h]
            ax.imshow(weights[i, h], cmap="viridis", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(len(src_tokens)))
            ax.set_xticklabels(src_tokens, rotation=90, fontsize=7)
            ax.set_yticks(range(len(tgt_tokens)))
            ax.set_yticklabels(tgt_tokens, fontsize=7)
            ax.set_title(f"{layer_word} {i + 1}, {head_word} {h + 1}", fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)


def attention_table(weights, src_tokens, tgt_tokens) -> str:
    """One (tgt_len, src_len) weight matrix as a text table, rows = target tokens."""
    weights = np.asarray(weights)
    width = max(5, *(len(t) for t in src_tokens))
    head = " " * (max(len(t) for t in tgt_tokens) + 1)
    lines = [head + " ".join(t.rjust(width) for t in src_tokens)]
    for t, row in zip(tgt_tokens, weights):
        lines.append(t.ljust(len(head)) + " ".join(f"{w:.2f}".rjust(width) for w in row))
    return "\n".join(lines)
