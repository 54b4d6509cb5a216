"""Pareto plots: accuracy against latency (SLO line) and against energy, winner marked."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from edgeprof.search.report import Candidate, Recommendation

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _label(c: Candidate) -> str:
    mode = f" {c.power_mode}" if c.power_mode else ""
    return f"{c.model} {c.quant} B{c.budget} N{c.samples}{mode}"


def plot_pareto(rec: Recommendation, path: str | Path) -> Path:
    """Write a two-panel PNG; returns its path."""
    import matplotlib.pyplot as plt

    fig = pareto_figure(rec)
    out = Path(path)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def pareto_figure(rec: Recommendation) -> Figure:
    """Accuracy against latency (SLO line) and, with a power model, against energy; the
    winner is a star. The caller saves and closes the figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pr = rec.problem
    with_energy = bool(rec.pareto_energy)
    fig, axes = plt.subplots(1, 2 if with_energy else 1, figsize=(15 if with_energy else 9, 6.5),
                             squeeze=False)
    panels = [("latency_s", f"predicted e2e latency at p{pr['percentile']:g} (s)",
               rec.pareto_latency, pr["slo_s"], "SLO (s)")]
    if with_energy:
        panels.append(("energy_j", "predicted energy per request (J, mean output length)",
                       rec.pareto_energy, pr.get("energy_budget_j"), "energy budget (J)"))
    for ax, (attr, xlabel, front, limit, limit_name) in zip(axes[0], panels, strict=False):
        pts = [p for p in rec.points if getattr(p, attr) is not None]
        ax.scatter([getattr(p, attr) for p in pts], [p.accuracy for p in pts], s=9,
                   color="0.75", label="evaluated configurations", zorder=1)
        xs = [getattr(p, attr) for p in front]
        ax.step(xs, [p.accuracy for p in front], where="post", color="tab:blue", lw=1.5,
                zorder=2)
        ax.scatter(xs, [p.accuracy for p in front], s=28, color="tab:blue", zorder=3,
                   label="Pareto front")
        step = max(1, len(front) // 8)
        for p in front[::step]:
            ax.annotate(_label(p), (getattr(p, attr), p.accuracy), fontsize=7,
                        xytext=(4, -10), textcoords="offset points", color="tab:blue",
                        clip_on=True)
        ax.margins(x=0.25)
        if limit:
            ax.axvline(limit, color="tab:red", ls="--", lw=1.2, label=f"{limit_name} {limit:g}")
        w = rec.winner
        if w is not None:
            wx = w.latency_pct.value if attr == "latency_s" else (
                w.energy_j.value if w.energy_j else None)
            if wx is not None:
                ax.scatter([wx], [w.accuracy.value], marker="*", s=260, color="tab:orange",
                           edgecolor="black", zorder=4,
                           label=f"winner: {w.model} {w.quant} B{w.budget} N{w.samples}")
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("predicted accuracy (majority vote)")
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"edgeprof recommend — {pr['device']}, input {pr['input_tokens']} tokens "
                 f"(all values predicted; see provenance in the JSON)", fontsize=11)
    fig.tight_layout()
    return fig
