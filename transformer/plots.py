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


def smooth(values, weight: float | None = None):
    """Exponential moving average with bias correction (TensorBoard's smoothing):
    s_t = weight * s_(t-1) + (1 - weight) * v_t, divided by 1 - weight**t so that the first
    points are not pulled towards 0. The default weight averages over about a 30th of
    the run (1 - weight = 30 / steps, kept between 0.6 and 0.99)."""
    if weight is None:
        weight = min(max(1 - 30 / max(len(values), 1), 0.6), 0.99)
    out, s = [], 0.0
    for t, v in enumerate(values, 1):
        s = weight * s + (1 - weight) * v
        out.append(s / (1 - weight ** t))
    return np.array(out)


def plot_loss(metrics_file, png, curve=None, train_label: str = "train") -> None:
    """The loss against the steps: the training loss of every step (``curve``: rows of
    (step, loss, lr), raw and smoothed) and the learning rate on a second axis, with the
    evaluations of a metrics.jsonl file on top (their validation loss; their mean training
    loss when there is no curve, as in older runs)."""
    plt = _pyplot()
    with open(metrics_file, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    curve = np.zeros((0, 3)) if curve is None else np.asarray(curve, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    if len(curve):
        steps, loss, lr = curve[:, 0], curve[:, 1], curve[:, 2]
        ax.plot(steps, loss, color="tab:blue", alpha=0.25, linewidth=0.8,
                label=f"{train_label}, each step")
        ax.plot(steps, smooth(loss), color="tab:blue", label=f"{train_label}, smoothed")
        ax2 = ax.twinx()
        ax2.plot(steps, lr, color="tab:gray", linestyle="--", linewidth=1, label="learning rate")
        ax2.set_ylabel("learning rate")
        ax2.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    elif rows:
        ax.plot([r["step"] for r in rows], [r["train_loss"] for r in rows], color="tab:blue",
                label=f"{train_label} (mean since the last evaluation)")
    if rows:
        ax.plot([r["step"] for r in rows], [r["valid_loss"] for r in rows], "o-",
                color="tab:orange", label="validation", zorder=3)
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy per token")
    handles = [h for a in fig.axes for h in a.get_legend_handles_labels()[0]]
    ax.legend(handles=handles, loc="upper right", fontsize=8)
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
