"""Power over time per phase: the sweep's power trace, and per-phase averages from the rows.

With ``power_trace.jsonl`` (written by the sweep when a power source exists) the section
draws the whole sweep's power over time colored by phase, and one run per model × quant with
its prefill and decode spans. Without a trace but with power columns (imported data, older
sweeps) it plots each phase's average power against its duration. Without any power it says
so and names the sources that were tried.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from typing import Any

from edgeprof.report._figures import PHASE_COLORS, pyplot, to_data_uri
from edgeprof.report._html import Section, badge, esc, image, raw_note, table
from edgeprof.table import Measurement
from edgeprof.telemetry._trace import TRACE_FILE, TraceLine

MAX_RUN_PANELS = 6


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v:.{digits}f}"


def _powered(rows: list[Measurement]) -> list[Measurement]:
    return [r for r in rows if r.ok and any(x is not None for x in (
        r.avg_power_w, r.prefill_power_w, r.decode_power_w))]


def phase_table(rows: list[Measurement]) -> tuple[str, list[dict[str, Any]]]:
    """Median power per phase and energy per request, per model × quant (× mode)."""
    groups: dict[tuple[str, str, str], list[Measurement]] = defaultdict(list)
    for r in rows:
        groups[(r.model, r.quant, r.power_mode or "")].append(r)
    data = []
    for (m, q, mode), rs in sorted(groups.items()):
        data.append({
            "model": m, "quant": q, "power_mode": mode or None, "rows": len(rs),
            "idle_w": _median([r.idle_power_w for r in rs if r.idle_power_w is not None]),
            "prefill_w": _median([r.prefill_power_w for r in rs
                                  if r.prefill_power_w is not None]),
            "decode_w": _median([r.decode_power_w for r in rs if r.decode_power_w is not None]),
            "run_w": _median([r.avg_power_w for r in rs if r.avg_power_w is not None]),
            "energy_j": _median([r.energy_j for r in rs if r.energy_j is not None]),
            "source": sorted({r.source for r in rs})[0],
            "sensor": sorted({str(r.power_source) for r in rs})[0],
        })
    with_mode = any(d["power_mode"] for d in data)
    sensors = sorted({d["sensor"] for d in data})
    one_sensor = len(sensors) == 1  # then named in the caption, not in a column
    heads = ["model", "quant", *(["mode"] if with_mode else []), "rows", "idle W",
             "prefill W", "decode W", "whole run W", "energy / run J",
             *([] if one_sensor else ["sensor"]), "data"]
    body = [[d["model"], d["quant"], *([d["power_mode"] or "-"] if with_mode else []),
             d["rows"], _fmt(d["idle_w"]), _fmt(d["prefill_w"]), _fmt(d["decode_w"]),
             _fmt(d["run_w"]), _fmt(d["energy_j"], 2), *([] if one_sensor else [d["sensor"]]),
             badge(d["source"])] for d in data]
    k = 2 + with_mode
    numeric = [False] * k + [True] * 6 + [False, False]
    caption = ("medians over the rows with power (a row is one run; n/a: the phase was not "
               "measured separately)" + (f"; sensor: {sensors[0]}" if one_sensor else ""))
    return table(heads, body, numeric=numeric, raw_cols=(len(heads) - 1,),
                 caption=caption), data


def _label(point: dict[str, Any]) -> str:
    mode = f" {point['power_mode']}" if point.get("power_mode") else ""
    return (f"{point['model']} {point['quant']}{mode}\nI{point['input_tokens']} "
            f"O{point['output_tokens']} B{point['batch']}")


def _session_offsets(trace: list[TraceLine]) -> dict[str, float]:
    """Seconds from the first session's start to each session's start."""
    starts = {ln.session: ln.session_start() for ln in trace}
    known = [s for s in starts.values() if s is not None]
    first = min(known) if known else None
    return {k: ((v - first).total_seconds() if v is not None and first is not None else 0.0)
            for k, v in starts.items()}


def trace_figure(trace: list[TraceLine]) -> str:
    """Top: every sample of the sweep over time, colored by phase. Below: the longest run of
    each model × quant with its prefill and decode spans shaded."""
    plt = pyplot()
    offsets = _session_offsets(trace)
    runs: dict[tuple, TraceLine] = {}
    for ln in trace:
        if ln.point is None or len(ln.edges_s) < 3:
            continue
        g = (ln.point["model"], ln.point["quant"], ln.point.get("power_mode") or "")
        if g not in runs or (ln.edges_s[2] - ln.edges_s[0] >
                             runs[g].edges_s[2] - runs[g].edges_s[0]):
            runs[g] = ln
    shown = [runs[g] for g in sorted(runs)][:MAX_RUN_PANELS]
    cols = min(3, max(1, len(shown)))
    rows_n = (len(shown) + cols - 1) // cols
    fig = plt.figure(figsize=(13, 3.6 + 3.0 * rows_n))
    grid = fig.add_gridspec(1 + rows_n, cols, height_ratios=[1.25] + [1] * rows_n, hspace=0.75,
                            wspace=0.28)
    ax = fig.add_subplot(grid[0, :])
    t_all = sorted((offsets[ln.session] + t, w, ph) for ln in trace
                   for t, w, ph in zip(ln.t_s, ln.power_w, ln.phase, strict=False))
    scale, unit = (60.0, "min") if t_all and t_all[-1][0] > 600 else (1.0, "s")
    xs, ys = _gapped([t for t, _, _ in t_all], [w for _, w, _ in t_all])
    ax.plot([x / scale for x in xs], ys, color="#c9ced4", lw=0.8, zorder=1)
    for phase in ("idle", "prefill", "decode"):
        pts = [(t / scale, w) for t, w, ph in t_all if ph == phase]
        if pts:
            ax.scatter(*zip(*pts, strict=True), s=9, color=PHASE_COLORS[phase], label=phase,
                       zorder=2)
    ax.set(xlabel=f"time since the sweep started ({unit}; model loads between runs are not "
                  "sampled into the trace)", ylabel="power (W)",
           title="power over the whole sweep, by phase (measured)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    ax.grid(alpha=0.3)
    for k, ln in enumerate(shown):
        a = fig.add_subplot(grid[1 + k // cols, k % cols])
        t0, t1, t2 = ln.edges_s[:3]
        a.axvspan(0, (t1 - t0) * 1e3, color=PHASE_COLORS["prefill"], alpha=0.18, lw=0,
                  label="prefill")
        a.axvspan((t1 - t0) * 1e3, (t2 - t0) * 1e3, color=PHASE_COLORS["decode"], alpha=0.2,
                  lw=0, label="decode")
        a.plot([(t - t0) * 1e3 for t in ln.t_s], ln.power_w, "o-", ms=3, lw=1, color="#1d232a")
        a.set(title=_label(ln.point or {}), xlabel="ms since the run started", ylabel="W")
        a.grid(alpha=0.3)
    return to_data_uri(fig)


def _gapped(ts: list[float], ws: list[float]) -> tuple[list[float], list[float]]:
    """Break the line (NaN) where no sample was kept for longer than 5 sampling periods, so
    that a model load between runs is not drawn as a measured straight line."""
    steps = sorted(b - a for a, b in itertools.pairwise(ts) if b > a)
    limit = 5 * steps[len(steps) // 2] if steps else math.inf
    xs: list[float] = []
    ys: list[float] = []
    for k, (t, w) in enumerate(zip(ts, ws, strict=True)):
        if k and t - ts[k - 1] > limit:
            xs.append(math.nan)
            ys.append(math.nan)
        xs.append(t)
        ys.append(w)
    return xs, ys


def duration_figure(rows: list[Measurement]) -> str:
    """Each phase's average power against the phase's duration (no time series stored)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(11, 4.8))
    series = [("prefill", [(r.ttft_s, r.prefill_power_w) for r in rows
                           if r.ttft_s and r.prefill_power_w is not None]),
              ("decode", [(r.decode_s, r.decode_power_w) for r in rows
                          if r.decode_s and r.decode_power_w is not None]),
              ("whole run", [(r.e2e_s or (r.ttft_s or 0) + (r.decode_s or 0), r.avg_power_w)
                             for r in rows if r.avg_power_w is not None and r.prefill_power_w
                             is None and r.decode_power_w is None])]
    colors = {"prefill": PHASE_COLORS["prefill"], "decode": PHASE_COLORS["decode"],
              "whole run": "#5b6770"}
    for name, pts in series:
        pts = [(d, w) for d, w in pts if d and d > 0]
        if pts:
            ax.scatter(*zip(*pts, strict=True), s=12, alpha=0.7, color=colors[name],
                       label=f"{name} ({len(pts)} runs)")
    ax.set_xscale("log")
    ax.set(xlabel="duration of the phase (s, log)", ylabel="average power (W)",
           title="average power of each run's phases against their duration")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return to_data_uri(fig)


def _no_power_note(inp: Any) -> str:
    from edgeprof.telemetry._detect import DETECTORS

    tele = (inp.run or {}).get("telemetry") or {}
    source = tele.get("source") or sorted({str(r.power_source) for r in inp.rows})[0]
    tried = ", ".join(DETECTORS)
    return raw_note(
        f"<strong>power not measured on this device (source: {esc(source)})</strong>. "
        f"The sweep looks for a power source in this order: {esc(tried)}; none was readable "
        "here (or EDGEPROF_POWER_SOURCE=none forced it). On a Jetson make the INA rails "
        "readable (or use tegrastats); on an NVIDIA GPU install edgeprof[nvml]; on an "
        "Intel/AMD CPU make /sys/class/powercap/intel-rapl:*/energy_uj readable (often "
        "root-only). Latency and memory are unaffected; energy constraints need a power "
        "model.", "warn")


def power_section(inp: Any) -> Section:
    key, title = "power", "Power over time per phase"
    if not inp.rows and not inp.trace:
        return Section(key, title, raw_note(esc(inp.missing.get("sweep", "no sweep"))),
                       {"present": False})
    powered = _powered(inp.rows)
    if not powered and not inp.trace:
        return Section(key, title, _no_power_note(inp),
                       {"present": False, "source": (inp.run or {}).get("telemetry", {})
                        .get("source")})
    body = ""
    if inp.trace:
        n = sum(len(ln.t_s) for ln in inp.trace)
        body += raw_note(
            f"{n} power samples {badge('measured')} from {esc(TRACE_FILE)} "
            f"({sum(ln.point is not None for ln in inp.trace)} runs and the idle baseline). "
            "Orange: prefill (start → first token), blue: decode (first → last token), grey: "
            "idle baseline and the sample kept on each side of a run. Below: the longest run "
            "of each model × quant, prefill and decode shaded. Power is the sensor's total as "
            "read by the sampler; a window shorter than the sensor's update period holds "
            "interpolated values.")
        body += image(trace_figure(inp.trace), "power over time by phase")
    else:
        body += raw_note(
            f"No power time series is stored with this sweep ({esc(TRACE_FILE)} is written "
            "by edgeprof sweep when a power source exists; imported data and older sweeps "
            "have only per-run averages). Below: each phase's average power against its "
            "duration, which shows how power ramps up with run length.")
        body += image(duration_figure(powered), "average power per phase against duration")
    html_table, data = phase_table(powered)
    body += html_table
    summary = {"present": True, "trace_windows": len(inp.trace),
               "trace_samples": sum(len(ln.t_s) for ln in inp.trace),
               "rows_with_power": len(powered), "groups": data}
    return Section(key, title, body, summary)
