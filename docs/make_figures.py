"""Draw the figures of the docs that come from the code, not from a training run.

    python docs/make_figures.py               write docs/images/positional-encoding.png
    python docs/make_figures.py --out /tmp    somewhere else

positional-encoding.png (chapter 4): the sinusoidal table of
``transformer.positional.sinusoidal_table`` for 50 positions x 64 features as a heatmap,
and a few of its columns as curves against the position. Needs matplotlib (the
``[train]`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere: import the checkout's code
    sys.path.insert(0, str(ROOT))

from transformer.positional import sinusoidal_table

#: Columns drawn as curves: a fast pair (sin 0, cos 1) and two slower sines.
CURVES = (0, 1, 10, 30)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("make_figures.py needs matplotlib: pip install -e '.[train]'") from None
    return plt


def positional_encoding(png: Path, positions: int = 50, features: int = 64, dpi: int = 120):
    """Heatmap of sinusoidal_table(positions, features), and some columns as curves."""
    plt = _pyplot()
    table = sinusoidal_table(positions, features)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2),
                                      gridspec_kw={"width_ratios": [1.15, 1]})
    image = left.imshow(table, cmap="RdBu", vmin=-1, vmax=1, aspect="auto",
                        interpolation="nearest")
    left.set_xlabel("feature (column): 2i = sin, 2i + 1 = cos")
    left.set_ylabel("position (pos)")
    left.set_title(f"sinusoidal_table({positions}, {features})")
    fig.colorbar(image, ax=left, fraction=0.05, pad=0.02)
    for col in CURVES:
        if col >= features:
            continue
        i = col // 2
        kind = "sin" if col % 2 == 0 else "cos"
        wavelength = 10000 ** (2 * i / features)
        right.plot(range(positions), table[:, col], marker=".", markersize=3,
                   label=f"column {col}: {kind}(pos / {wavelength:.3g})")
    right.set_xlabel("position (pos)")
    right.set_ylabel("value")
    right.set_ylim(-1.75, 1.1)  # room for the legend below the curves
    right.set_title("a few columns: later pairs turn more slowly")
    right.grid(alpha=0.3)
    right.legend(fontsize=8, loc="lower center", ncol=2)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=dpi)
    plt.close(fig)
    return png


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images",
                        help="directory for the PNG files (default: docs/images)")
    parser.add_argument("--positions", type=int, default=50, help="rows of the table (50)")
    parser.add_argument("--features", type=int, default=64, help="d_model, columns (64)")
    parser.add_argument("--dpi", type=int, default=120)
    args = parser.parse_args(argv)
    png = positional_encoding(args.out / "positional-encoding.png", args.positions,
                              args.features, args.dpi)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
