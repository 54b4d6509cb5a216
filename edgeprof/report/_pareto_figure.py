"""Pareto plots: accuracy against latency (SLO line) and against energy, winner marked."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from edgeprof.search._result import Candidate, ConfigOut, Recommendation

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _label(c: Candidate | ConfigOut) -> str:
    mode = f" {c.power_mode}" if c.power_mode else ""
    return f"{c.model} {c.quant} B{c.budget} N{c.samples}{mode}"


def plot_pareto(rec: Recommendation, path: str | Path) -> Path:
    """Write a two-panel PNG; returns its path."""
    import matplotlib.pyplot as plt

    fig = pareto_figure(rec)
    out = Path(path)
    from edgeprof.files import atomic_savefig

    atomic_savefig(fig, out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out


def _spread(front: list[Candidate], attr: str, most: int) -> list[Candidate]:
    """At most ``most`` front points to label, spread along the front in log-x and
    accuracy so that labels do not sit on top of each other."""
    if not front:
        return []
    xs = [math.log10(max(getattr(p, attr), 1e-12)) for p in front]
    ys = [p.accuracy for p in front]
    dx = (max(xs) - min(xs)) or 1.0
    dy = (max(ys) - min(ys)) or 1.0
    picked: list[int] = []
    for k in sorted(range(len(front)), key=lambda k: -ys[k]):  # accurate end first
        near = any(abs(xs[k] - xs[j]) / dx < 0.4 and abs(ys[k] - ys[j]) / dy < 0.08
                   for j in picked)  # labels are wide: keep them apart vertically
        if not near:
            picked.append(k)
        if len(picked) == most:
            break
    return [front[k] for k in sorted(picked)]


def pareto_figure(rec: Recommendation, stacked: bool = False) -> Figure:
    """Accuracy against latency (SLO line) and, with a power model, against energy; the
    winner is a star. ``stacked`` puts the panels one above the other (for a page). The
    caller saves and closes the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pr = rec.problem
    with_energy = bool(rec.pareto_energy)
    n = 2 if with_energy else 1
    shape, size = ((n, 1), (11, 5.8 * n)) if stacked else ((1, n), (7.5 * n, 6.8))
    fig, axes = plt.subplots(*shape, figsize=size, squeeze=False)
    panels = [("latency_s", f"predicted e2e latency at {pr.pct_label} (s, log)",
               rec.pareto_latency, pr.slo_s, "SLO")]
    if with_energy:
        panels.append(("energy_j", "predicted energy per request (J, mean output length, log)",
                       rec.pareto_energy, pr.energy_budget_j, "energy budget"))
    for ax, (attr, xlabel, front, limit, limit_name) in zip(axes.flat, panels, strict=False):
        pts = [p for p in rec.points if getattr(p, attr) is not None]
        ax.scatter([getattr(p, attr) for p in pts], [p.accuracy for p in pts], s=9,
                   color="0.78", label="evaluated configurations", zorder=1)
        xs = [getattr(p, attr) for p in front]
        ax.step(xs, [p.accuracy for p in front], where="post", color="tab:blue", lw=1.5,
                zorder=2)
        ax.scatter(xs, [p.accuracy for p in front], s=28, color="tab:blue", zorder=3,
                   label="Pareto front (labels: model quant, budget B, samples N)")
        span = [getattr(p, attr) for p in pts] or [1.0]
        lo_x, hi_x = math.log10(max(min(span), 1e-12)), math.log10(max(max(span), 1e-12))
        for p in _spread(front, attr, 7):
            x = getattr(p, attr)
            right = math.log10(max(x, 1e-12)) > lo_x + 0.45 * (hi_x - lo_x)  # label leftwards
            ax.annotate(_label(p), (x, p.accuracy), fontsize=8,
                        xytext=(-8 if right else 8, -12),
                        textcoords="offset points", ha="right" if right else "left",
                        color="#143d6b", clip_on=True, zorder=5,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                              "alpha": 0.8})
        ax.margins(x=0.08)
        if limit:
            unit = "s" if attr == "latency_s" else "J"
            ax.axvline(limit, color="tab:red", ls="--", lw=1.4,
                       label=f"{limit_name} {limit:g} {unit}")
        w = rec.winner
        if w is not None:
            wx = w.latency_pct.value if attr == "latency_s" else (
                w.energy_j.value if w.energy_j else None)
            if wx is not None:
                ax.scatter([wx], [w.accuracy.value], marker="*", s=300, color="tab:orange",
                           edgecolor="black", zorder=6,
                           label=f"winner: {_label(w)}")
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("predicted accuracy (majority vote)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=9,
                  frameon=False)
    fig.suptitle(f"edgeprof recommend — {pr.device}, input {pr.input_tokens} tokens "
                 f"(all values predicted; see provenance in the JSON)", fontsize=11)
    fig.tight_layout()
    return fig
