"""Sweep coverage: rows per status per model × quant, a status grid of every shape, failures.

A *point* is one shape (input, output, batch) of one model × quant (× power mode); its
status is the status its repeats share, or ``mixed``. Planned points come from the sweep
spec in ``run.json``; a planned point without a row is ``missing`` (an interrupted sweep).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from edgeprof.report._figures import STATUS_COLORS, pyplot, to_data_uri
from edgeprof.report._html import Section, badge, esc, image, note, raw_note, table
from edgeprof.report._inputs import ReportInputs
from edgeprof.table import Measurement

STATUSES = ("ok", "error", "oom", "killed", "unsupported")
MAX_COLUMNS = 48  # beyond this many shapes, one panel per model × quant × batch
MAX_PANELS = 12
ABSENT = "#eceef1"
Group = tuple[str, str, str]  # model, quant, power mode ("" when none)
Shape = tuple[int, int, int]  # batch, input, output


@dataclass
class Coverage:
    rows_by_status: dict[Group, Counter[str]]
    points: dict[Group, dict[Shape, str]]  # point status (incl. mixed / missing)
    failures: list[tuple[Group, str, str, int]]  # group, status, error, rows

    def totals(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for c in self.rows_by_status.values():
            out.update(c)
        return {s: out.get(s, 0) for s in self.statuses()}

    def statuses(self) -> tuple[str, ...]:
        """The status columns: ``killed`` only when some row was killed."""
        seen = any(c.get("killed") for c in self.rows_by_status.values())
        return tuple(s for s in STATUSES if s != "killed" or seen)

    def point_totals(self) -> dict[str, int]:
        out = Counter(s for pts in self.points.values() for s in pts.values())
        return dict(sorted(out.items()))


def _group(r: Measurement) -> Group:
    return r.model, r.quant, r.power_mode or ""


def planned_points(run: dict[str, Any] | None) -> set[tuple[Group, Shape]]:
    """The points the sweep spec in ``run.json`` asks for (empty when unknown)."""
    spec = (run or {}).get("sweep_spec")
    if not spec:
        return set()
    try:
        from edgeprof.sweep._grid import all_points
        from edgeprof.sweep._spec import SweepSpec

        points = all_points(SweepSpec.model_validate(spec))
    except Exception:  # an older or foreign spec: coverage then shows what was measured
        return set()
    return {((p.model, p.quant, p.power_mode or ""), (p.batch, p.input_tokens,
                                                      p.output_tokens)) for p in points}


def coverage(rows: list[Measurement], run: dict[str, Any] | None = None) -> Coverage:
    by_status: dict[Group, Counter[str]] = defaultdict(Counter)
    statuses: dict[Group, dict[Shape, set[str]]] = defaultdict(lambda: defaultdict(set))
    errors: Counter[tuple[Group, str, str]] = Counter()
    for r in rows:
        g, status = _group(r), str(r.status)
        by_status[g][status] += 1
        statuses[g][(r.batch, r.input_tokens, r.output_tokens)].add(status)
        if status != "ok":
            errors[(g, status, r.error or "")] += 1
    points: dict[Group, dict[Shape, str]] = {
        g: {s: (next(iter(v)) if len(v) == 1 else "mixed") for s, v in shapes.items()}
        for g, shapes in statuses.items()}
    for g, shape in planned_points(run):
        points.setdefault(g, {}).setdefault(shape, "missing")
        by_status.setdefault(g, Counter())
    failures = [(g, s, e, n) for (g, s, e), n in errors.most_common()]
    return Coverage(dict(by_status), points, failures)


def _legend(ax: Any, kinds: list[str], absent: bool) -> None:
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=STATUS_COLORS[k], edgecolor="#888", label=k) for k in kinds]
    if absent:
        handles.append(Patch(facecolor=ABSENT, edgecolor="#888", label="no such point"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _grid_figure(cov: Coverage) -> str:
    """Rows: model × quant; columns: every shape. Small multiples when there are many."""
    import numpy as np
    from matplotlib.colors import ListedColormap

    groups = sorted(cov.points)
    shapes = sorted({s for pts in cov.points.values() for s in pts})
    if len(shapes) > MAX_COLUMNS:
        return _multiples_figure(cov)
    plt = pyplot()
    kinds = [k for k in STATUS_COLORS if any(k in p.values() for p in cov.points.values())]
    code = {k: i for i, k in enumerate(kinds)}
    grid = np.full((len(groups), len(shapes)), np.nan)
    for gi, g in enumerate(groups):
        for si, s in enumerate(shapes):
            if s in cov.points[g]:
                grid[gi, si] = code[cov.points[g][s]]
    width = min(15.0, max(8.0, 0.36 * len(shapes) + 4.5))
    fig, ax = plt.subplots(figsize=(width, 1.9 + 0.45 * len(groups)))
    cmap = ListedColormap([STATUS_COLORS[k] for k in kinds]).with_extremes(bad=ABSENT)
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-0.5, vmax=len(kinds) - 0.5,
              aspect="auto", interpolation="nearest")
    ax.set_yticks(range(len(groups)), [" ".join(x for x in g if x) for g in groups])
    ax.set_xticks(range(len(shapes)), [f"B{b} I{i} O{o}" for b, i, o in shapes], rotation=60,
                  ha="right", rotation_mode="anchor")
    ax.set_xticks(np.arange(-0.5, len(shapes)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(groups)), minor=True)
    ax.grid(which="minor", color="white", lw=2)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("point: batch B, input tokens I, output tokens O")
    _legend(ax, kinds, bool(np.isnan(grid).any()))
    ax.set_title("status of every point (all repeats)")
    return to_data_uri(fig)


def _multiples_figure(cov: Coverage) -> str:
    """One panel per model × quant (× mode) × batch: input tokens across, output up."""
    import numpy as np
    from matplotlib.colors import ListedColormap

    plt = pyplot()
    kinds = [k for k in STATUS_COLORS if any(k in p.values() for p in cov.points.values())]
    code = {k: i for i, k in enumerate(kinds)}
    cmap = ListedColormap([STATUS_COLORS[k] for k in kinds]).with_extremes(bad=ABSENT)
    panels = [(g, b) for g in sorted(cov.points)
              for b in sorted({s[0] for s in cov.points[g]})][:MAX_PANELS]
    cols = min(2, len(panels))
    rows_n = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(5.2 * cols + 2.0, 4.0 * rows_n),
                             squeeze=False)
    absent = False
    for ax, (g, b) in zip(axes.flat, panels, strict=False):
        pts = {(i, o): st for (bb, i, o), st in cov.points[g].items() if bb == b}
        ins = sorted({i for i, _ in pts})
        outs = sorted({o for _, o in pts})
        grid = np.full((len(outs), len(ins)), np.nan)
        for (i, o), st in pts.items():
            grid[outs.index(o), ins.index(i)] = code[st]
        absent |= bool(np.isnan(grid).any())
        ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-0.5, vmax=len(kinds) - 0.5,
                  aspect="auto", interpolation="nearest", origin="lower")
        for axis, values, setter in ((ax.xaxis, ins, ax.set_xticks),
                                     (ax.yaxis, outs, ax.set_yticks)):
            step = max(1, len(values) // 8)
            setter(range(0, len(values), step), [str(v) for v in values[::step]])
            axis.set_tick_params(labelsize=10)
        ax.set(title=f"{' '.join(x for x in g if x)}, batch {b}", xlabel="input tokens",
               ylabel="output tokens")
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    _legend(axes.flat[cols - 1], kinds, absent)
    fig.suptitle("status of every point (all repeats)")
    fig.tight_layout()
    return to_data_uri(fig)


def coverage_section(inp: ReportInputs) -> Section:
    key, title = "coverage", "Sweep coverage"
    if not inp.rows:
        return Section(key, title, note(inp.missing.get("sweep", "no sweep rows")),
                       {"present": False})
    cov = coverage(inp.rows, inp.run)
    with_mode = any(g[2] for g in cov.rows_by_status)
    statuses = cov.statuses()
    heads = ["model", "quant", *(["power mode"] if with_mode else []), *statuses,
             "points", "missing"]
    body_rows = []
    for g in sorted(cov.rows_by_status):
        c = cov.rows_by_status[g]
        pts = cov.points.get(g, {})
        missing = sum(v == "missing" for v in pts.values())
        body_rows.append([g[0], g[1], *([g[2] or "-"] if with_mode else []),
                          *(c.get(s, 0) for s in statuses), len(pts) - missing, missing])
    totals = cov.totals()
    n_points = sum(len(p) for p in cov.points.values())
    n_missing = cov.point_totals().get("missing", 0)
    body_rows.append(["all", "", *([""] if with_mode else []), *totals.values(),
                      n_points - n_missing, n_missing])
    numeric = [False, False, *([False] if with_mode else []), *[True] * (len(STATUSES) + 2)]
    sources = " ".join(badge(s) for s in sorted({r.source for r in inp.rows}))
    body = raw_note(
        f"{len(inp.rows)} rows {sources} from {esc(inp.sweep_path)}: one row per "
        "repeat, so a point measured 3 times counts 3 in its status column. "
        "<em>points</em> = distinct shapes with a row; <em>missing</em> = shapes the sweep "
        "spec asks for that have no row yet (rerun the sweep to finish them).")
    body += table(heads, body_rows, numeric=numeric,
                  caption="rows per status per model × quant")
    body += image(_grid_figure(cov), "status grid",
                  "One cell per point; mixed = repeats ended differently; "
                  "missing = planned, not measured yet.")
    if cov.failures:
        fail_rows = [[g[0], g[1], s, n, e] for g, s, e, n in cov.failures[:12]]
        more = len(cov.failures) - 12
        body += "<h3>Why points failed</h3>" + table(
            ["model", "quant", "status", "rows", "message"], fail_rows,
            numeric=[False, False, False, True, False],
            caption=("distinct messages, most frequent first"
                     + (f" ({more} more not shown)" if more > 0 else "")))
    summary = {"present": True, "rows": len(inp.rows), "rows_by_status": totals,
               "points": n_points, "point_status": cov.point_totals(),
               "groups": len(cov.rows_by_status)}
    return Section(key, title, body, summary)
