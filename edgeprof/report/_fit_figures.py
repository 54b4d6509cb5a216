"""One figure per fitted model: measured points, fitted curves with intervals, residuals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeprof.catalog import resolve_model
from edgeprof.fit._profile import Profile
from edgeprof.fit._schema import FitEntry
from edgeprof.table import Measurement

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def plot_profile(profile: Profile, rows: list[Measurement], folder: Path) -> list[Path]:
    """Write one PNG per fit entry into ``folder``; returns the paths."""
    import matplotlib.pyplot as plt

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry, fig in profile_figures(profile, rows):
        mode = entry.power_mode or "default"
        path = folder / f"{entry.model}_{entry.quant}_{entry.engine}_{mode}.png"
        from edgeprof.files import atomic_savefig

        atomic_savefig(fig, path, dpi=90)
        plt.close(fig)
        written.append(path)
    return written


def profile_figures(profile: Profile, rows: list[Measurement],
                    entries: list[FitEntry] | None = None,
                    ) -> Iterator[tuple[FitEntry, Figure]]:
    """Per fit entry (all of the profile's, or ``entries``), a 2 × 2 figure: prefill and
    decode (batch 1) with fits, 90 % intervals and residuals. The caller saves and closes
    each figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for entry in profile.entries if entries is None else entries:
        m, q, mode = entry.model, entry.quant, entry.power_mode
        mine = [r for r in rows if r.status == "ok" and resolve_model(r.model).name == m
                and r.quant == q and r.power_mode == mode and r.batch == 1]
        pre = sorted((r for r in mine if r.ttft_s), key=lambda r: r.input_tokens)
        dec = [r for r in mine if r.decode_s and r.output_tokens > 1]
        fig, ax = plt.subplots(2, 2, figsize=(12, 8), height_ratios=[3, 1])
        if pre:
            i = np.array([r.input_tokens for r in pre], float)
            t = np.array([r.ttft_s for r in pre])
            grid = np.linspace(1, i.max() * 1.05, 400)
            # One prediction for the curve and the measured points; both are drawn from it.
            xs = np.concatenate([grid, i])
            both = profile.predict_grid(m, q, xs, np.ones_like(xs), np.ones_like(xs), mode)
            g = {k: np.asarray(both[k])[: grid.size] for k in ("ttft_s", "ttft_lo", "ttft_hi")}
            p = np.asarray(both["ttft_s"])[grid.size:]
            ax[0, 0].fill_between(grid, g["ttft_lo"], g["ttft_hi"], alpha=0.25,
                                  label="90 % interval")
            ax[0, 0].plot(grid, g["ttft_s"], label="fit")
            ax[0, 0].plot(i, t, "o", ms=4, label="measured")
            flagged = _flagged(pre, entry.prefill.outliers if entry.prefill else [])
            if flagged:
                top = np.max(np.delete(t, flagged)) * 1.3 if len(flagged) < len(t) else None
                shown_t = t[flagged] if top is None else np.minimum(t[flagged], 0.97 * top)
                ax[0, 0].plot(i[flagged], shown_t, "rx", ms=10, label="flagged outlier")
                if top is not None:
                    ax[0, 0].set_ylim(0, top)
                    for x, y in zip(i[flagged], t[flagged], strict=True):
                        if y > top:  # off the scale: drawn at the top edge, value written
                            ax[0, 0].annotate(f"{y:.3g} s ↑", (x, 0.97 * top), color="red",
                                              xytext=(8, -4), textcoords="offset points",
                                              fontsize=8)
            ax[0, 0].set(title=f"{m} {q}{f' {mode}' if mode else ''}: prefill",
                         xlabel="input tokens",
                         ylabel="TTFT (s)")
            ax[0, 0].legend(fontsize=8)
            res = 100 * (p / t - 1)
            ax[1, 0].plot(i, res, "o", ms=4)
            ax[1, 0].axhline(0, color="k", lw=0.5)
            ax[1, 0].set(xlabel="input tokens", ylabel="residual (%)",
                         ylim=_residual_limits(np.delete(res, flagged), 25))
        else:
            _empty(ax[0, 0], ax[1, 0], "no batch-1 rows with a TTFT")
        if dec:
            residuals = []
            ins = sorted({r.input_tokens for r in dec})
            show = ins[:: max(1, len(ins) // 4)]
            for inp in show:
                pts = sorted((r for r in dec if r.input_tokens == inp),
                             key=lambda r: r.output_tokens)
                o = np.array([r.output_tokens for r in pts], float)
                t = np.array([r.decode_s for r in pts])
                grid = np.linspace(2, o.max(), 200)
                xs = np.concatenate([grid, o])
                both = profile.predict_grid(m, q, inp, xs, np.ones_like(xs), mode)
                g = {k: np.asarray(both[k])[: grid.size]
                     for k in ("decode_s", "decode_lo", "decode_hi")}
                pr = np.asarray(both["decode_s"])[grid.size:]
                line = ax[0, 1].plot(grid, g["decode_s"], label=f"fit, I={inp}")[0]
                ax[0, 1].fill_between(grid, g["decode_lo"], g["decode_hi"], alpha=0.15,
                                      color=line.get_color())
                ax[0, 1].plot(o, t, "o", ms=3, color=line.get_color())
                residuals.append(100 * (pr / t - 1))
                ax[1, 1].plot(o, residuals[-1], "o", ms=3, color=line.get_color())
            ax[0, 1].set(title="decode (dots measured)", xlabel="output tokens",
                         ylabel="decode time (s)")
            ax[0, 1].legend(fontsize=8)
            ax[1, 1].axhline(0, color="k", lw=0.5)
            ax[1, 1].set(xlabel="output tokens", ylabel="residual (%)",
                         ylim=_residual_limits(np.concatenate(residuals), 5))
        else:
            _empty(ax[0, 1], ax[1, 1], "no batch-1 rows with more than one output token")
        fig.tight_layout()
        yield entry, fig


def _flagged(rows: list[Measurement], outliers: list[dict[str, Any]]) -> list[int]:
    """Indices of the rows the fit flagged (same shape and the same measured value)."""
    return [k for k, r in enumerate(rows) if any(
        r.input_tokens == o.get("input_tokens") and r.output_tokens == o.get("output_tokens",
                                                                             r.output_tokens)
        and r.batch == o.get("batch", r.batch)
        and np.isclose(r.ttft_s or 0.0, o.get("measured", -1.0), rtol=1e-6) for o in outliers)]


def _residual_limits(res: np.ndarray, at_least: float) -> tuple[float, float]:
    """Symmetric limits that show every residual (± ``at_least`` %, at most ± 100 %)."""
    finite = np.abs(res[np.isfinite(res)])
    lim = min(100.0, max(at_least, 1.15 * float(finite.max()) if finite.size else 0.0))
    return -lim, lim


def _empty(top: Any, bottom: Any, why: str) -> None:
    top.text(0.5, 0.5, why, ha="center", va="center", transform=top.transAxes, color="0.4")
    top.set(xticks=[], yticks=[])
    bottom.set_axis_off()
