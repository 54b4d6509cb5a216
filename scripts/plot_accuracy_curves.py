"""Figures for docs/accuracy.md: per model, the modeled accuracy-vs-budget curve (with its
interval) and the published figures it rests on.

    python scripts/plot_accuracy_curves.py [--out docs/figures]

Writes ``accuracy_<benchmark>.png`` for MATH-500 and AIME 2024 (bf16; N = 1). Points: every
shipped pass@1 figure of that model and benchmark at a stated budget (one marker per
source); crosses on the axis: the published mean output length the truncation model uses.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from edgeprof.accuracy import load_accuracy
from edgeprof.catalog import canonical_name

BENCHMARKS = ("MATH-500", "AIME 2024")


def plot(benchmark: str, out: Path) -> Path:
    data = load_accuracy("published-table", benchmark=benchmark)
    models = sorted({m for m, q in data.measured_pairs() if q == "bf16"})
    cols = 3
    rows = -(-len(models) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, model in zip(axes.ravel(), models, strict=False):
        pm = data.models[(model, "bf16")]
        top = pm.max_budget
        if pm.curve is not None:
            bs = np.unique(np.geomspace(64, top, 60).astype(int))
            est = [data.accuracy(model, "bf16", int(b), 1) for b in bs]
            ax.fill_between(bs, [e.lo for e in est], [e.hi for e in est], alpha=0.25,
                            label="90 % interval")
            ax.plot(bs, [e.value for e in est], lw=1.5, label="model")
            if pm.budget_points:
                ax.set_title(f"{model}\n(curve fitted to budget points)", fontsize=8)
            else:
                ax.set_title(f"{model}\n(truncation model, mean length)", fontsize=8)
        else:
            ax.set_title(f"{model}\n(published budget only)", fontsize=8)
        for r in data.rows:
            if (canonical_name(r.model) == model and r.quant == "bf16" and r.samples == 1
                    and r.benchmark == benchmark and r.budget is not None):
                ax.plot(r.budget, r.accuracy, "o", ms=4, color="k", alpha=0.7)
        ax.plot([], [], "o", color="k", ms=4, label="published")
        ax.set_xscale("log")
        ax.set_ylim(0, 1)
        ax.set_xlim(64, max(top, 40000))
        ax.set_xlabel("token budget", fontsize=8)
        ax.set_ylabel(f"{benchmark} pass@1", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(models):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{benchmark}: modeled accuracy vs token budget (bf16, N = 1) and the "
                 "published figures (imported)", fontsize=10)
    fig.tight_layout()
    path = out / f"accuracy_{benchmark.lower().replace(' ', '').replace('-', '')}.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs"
                    / "figures")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for b in BENCHMARKS:
        print(plot(b, args.out))


if __name__ == "__main__":
    main()
