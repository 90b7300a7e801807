"""Plot Mitchell's relative error over the mantissa square: docs/mitchell_error.png.

    python bench/plot_mitchell_error.py [--out docs/mitchell_error.png]

x and y are the mantissas of a = 1 + x and b = 1 + y (float32, on a grid of
1024 x 1024 points of [0, 1)); the error of the result against the exact a*b
or a/b is computed through logsketch's own kernels, plain and compensated.
The exponents do not matter: they add exactly.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import logsketch as ls

GRID = 1024  # k / 1024 is exact in float32, and the grid holds x = y = 1/2 (multiply's worst case)
LIMIT = 0.125  # one colour scale for all panels: Mitchell's bounds are -1/9 (multiply) and +1/8 (divide)


def relative_errors():
    m = np.arange(GRID, dtype=np.float32) / GRID
    a, b = np.meshgrid(1 + m, 1 + m)  # a varies along columns (x), b along rows (y)
    exact = {"multiply": a.astype(np.float64) * b, "divide": a.astype(np.float64) / b}
    kernels = {"multiply": ls.mitchell_multiply, "divide": ls.mitchell_divide}
    return {
        (op, compensated): kernels[op](a, b, compensated=compensated) / exact[op] - 1
        for op in kernels
        for compensated in (False, True)
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_out = Path(__file__).resolve().parent.parent / "docs" / "mitchell_error.png"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args()

    errors = relative_errors()
    fig, axes = plt.subplots(2, 2, figsize=(10, 9), constrained_layout=True)
    for ax, ((op, compensated), err) in zip(axes.flat, errors.items()):
        image = ax.imshow(err, origin="lower", extent=(0, 1, 0, 1), cmap="RdBu_r", vmin=-LIMIT, vmax=LIMIT)
        fig.colorbar(image, ax=ax, label="relative error", shrink=0.85)
        ax.set_title(
            f"{op}, {'compensated' if compensated else 'plain'}\n"
            f"min {err.min():+.4f}  max {err.max():+.4f}  mean {err.mean():+.4f}",
            fontsize=10,
        )
        ax.set_xlabel("mantissa x of a = 1 + x")
        ax.set_ylabel("mantissa y of b = 1 + y")
    fig.suptitle("Mitchell log-multiplication and division: relative error (logsketch float32 kernels)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
