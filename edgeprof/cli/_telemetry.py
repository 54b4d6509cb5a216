"""``edgeprof telemetry``: a live readout of every sensor found, to check them before a sweep."""

from __future__ import annotations

import time
from typing import Any

import typer
from rich.table import Table

from edgeprof.cli._common import err, out, print_json
from edgeprof.telemetry import Sampler, detect_source
from edgeprof.units import format_bytes, parse_duration

NO_POWER = (
    "No power source available on this machine (no Jetson rails, tegrastats, NVML power or "
    "readable RAPL): energy and power will be reported as unavailable, never as zero."
)


def readout(duration_s: float, period_s: float, source: str | None = None) -> dict[str, Any]:
    """Sample for ``duration_s`` and summarise power per rail, total, energy, temps, clocks."""
    sampler = Sampler(detect_source(source), period_s)
    with sampler:
        time.sleep(min(period_s, 0.05))  # one sample before the window opens
        t0 = time.perf_counter_ns()
        time.sleep(duration_s)
        t1 = time.perf_counter_ns()
        phase = sampler.window(t0, t1)
        throttle = sampler.throttle_flags(t0, t1)
        cond = sampler.conditions()
    window_s = (t1 - t0) / 1e9
    rails_w = {k: v / window_s for k, v in phase.rails_j.items()} if window_s > 0 else {}
    data: dict[str, Any] = {
        "source": sampler.source,
        "provenance": "measured",  # every figure below is a sensor reading taken now
        "power_available": sampler.available and phase.energy_j is not None,
        "total_rule": cond.pop("total", None),
        "window_s": window_s,
        "rails_w": rails_w,
        "total_w": phase.avg_power_w,
        "energy_j": phase.energy_j,
        "energy_method": phase.method,
        "n_samples": phase.n_samples,
        "flags": phase.flags,
        "throttle_flags": throttle,
        **{k: v for k, v in cond.items() if k != "source"},
    }
    if not data["power_available"]:
        data["message"] = NO_POWER
    return data


def _table(data: dict[str, Any]) -> None:
    title = (f"edgeprof telemetry — measured, source: {data['source']} "
             f"({data['window_s']:.2f} s window)")
    table = Table(title=title)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, w in data["rails_w"].items():
        table.add_row(f"rail {name}", f"{w:.3f} W")
    if data["power_available"]:
        table.add_row(f"total ({data['total_rule']})", f"{data['total_w']:.3f} W")
        table.add_row(f"energy ({data['energy_method']})", f"{data['energy_j']:.3f} J")
    else:
        table.add_row("power", "unavailable")
        table.caption = NO_POWER
    rate = data.get("achieved_rate_hz")
    table.add_row("samples / achieved rate", f"{data['n_samples']} / "
                  f"{'n/a' if rate is None else f'{rate:.1f} Hz'}")
    for zone, c in data.get("temps_c", {}).items():
        table.add_row(f"temp {zone}", f"{c:.1f} °C")
    for clock, mhz in data.get("clocks_mhz", {}).items():
        table.add_row(f"clock {clock}", f"{mhz:.0f} MHz")
    freqs = data.get("cpu_freq_mhz", {})
    if freqs:
        table.add_row("CPU clocks", f"{min(freqs.values()):.0f}–{max(freqs.values()):.0f} MHz")
    for key, value in data.get("memory", {}).items():
        table.add_row(f"memory {key.removesuffix('_bytes')}", format_bytes(value))
    if "power_mode" in data:
        table.add_row("power mode", str(data["power_mode"].get("name")))
    if "jetson_clocks" in data:
        table.add_row("jetson_clocks pinned", str(data["jetson_clocks"].get("pinned")))
    flags = data["flags"] + data["throttle_flags"]
    if flags:
        table.add_row("flags", ", ".join(flags))
    out.print(table)


def telemetry(
    duration: str = typer.Option("5s", "--duration", help="How long to sample, e.g. 5s, 500ms."),
    period: str = typer.Option("50ms", "--period", help="Sampling period, e.g. 50ms."),
    source: str = typer.Option(
        None, "--source",
        help="Force a power source: jetson, tegrastats, nvml, rapl or none "
        "(default: auto-detect; same as EDGEPROF_POWER_SOURCE).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Read every power, thermal, clock and memory sensor found, over a short window.

    Run it before a long sweep to check that the sensors work.

    Examples:

      edgeprof telemetry

      edgeprof telemetry --duration 10s --period 20ms --json

      EDGEPROF_SYSFS_ROOT=tests/fixtures/telemetry/orin-agx-jp6/sys edgeprof telemetry
    """
    duration_s, period_s = parse_duration(duration), parse_duration(period)
    data = readout(duration_s, period_s, source)
    if not data["power_available"]:
        err.print(f"[yellow]{NO_POWER}[/yellow]")
    if as_json:
        print_json(data)
    else:
        _table(data)


def register(app: typer.Typer) -> None:
    app.command("telemetry")(telemetry)
