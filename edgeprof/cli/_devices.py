"""``edgeprof devices``: what this machine has, and the spec edgeprof uses for each."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from edgeprof.cli._common import err, out, print_json
from edgeprof.device._detect import detect
from edgeprof.device._spec import DeviceSpec, load_device_spec
from edgeprof.device._types import DetectedDevice
from edgeprof.device.cpu._info import cpu_spec, read_cpu
from edgeprof.device.nvidia._gpus import derived_gpu_spec
from edgeprof.errors import UserInputError
from edgeprof.units import format_bytes


def _spec_for(dev: DetectedDevice, bandwidth: dict[str, Any] | None) -> DeviceSpec | None:
    if dev.profile:
        return load_device_spec(dev.profile)
    if dev.kind == "cpu":
        if bandwidth is None:
            return None
        return cpu_spec(bandwidth["gbs"], f"{bandwidth['method']}, {bandwidth['size_bytes']} B "
                                          f"× {bandwidth['repeats']}", read_cpu())
    return derived_gpu_spec(dev)


def devices(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    no_bandwidth: bool = typer.Option(False, "--no-bandwidth",
                                      help="Skip the ~1 s CPU memory-bandwidth measurement."),
    seconds: float = typer.Option(1.0, help="Seconds for the bandwidth measurement."),
) -> None:
    """List the CPU, CUDA GPUs and Jetson board, each with the spec edgeprof uses.

    A Jetson or known GPU maps to its shipped profile (label spec); the CPU's memory
    bandwidth is measured here (label measured) and its peak compute estimated from cores ×
    clock × FLOPs/cycle (label estimated).

    Examples:

      edgeprof devices

      edgeprof devices --json --no-bandwidth
    """
    if not no_bandwidth and not seconds > 0:
        raise UserInputError(f"--seconds must be > 0; got {seconds:g} (or pass --no-bandwidth).")
    found = detect()
    bandwidth: dict[str, Any] | None = None
    if not no_bandwidth:
        from edgeprof.device._bandwidth import measure_memory_bandwidth

        err.print(f"Measuring CPU memory bandwidth ({seconds:g} s)…")
        r = measure_memory_bandwidth(seconds=seconds)
        bandwidth = {"gbs": r.gbs, "method": r.method, "size_bytes": r.size_bytes,
                     "repeats": r.repeats, "label": "measured"}
    entries = []
    for dev in found:
        spec = _spec_for(dev, bandwidth)
        entry = dev.to_dict()
        entry["spec"] = spec.model_dump(mode="json") if spec else None
        if dev.kind == "cpu":
            entry["memory_bandwidth"] = bandwidth
        entries.append(entry)
    if as_json:
        print_json(entries)
        return
    table = Table(title="devices on this machine")
    for col in ("id", "kind", "name", "profile / spec", "memory", "bandwidth GB/s",
                "peak TFLOPS", "native quants", "CC", "notes"):
        table.add_column(col, overflow="fold")
    for e in entries:
        spec = e["spec"] or {}
        bw = spec.get("memory_bandwidth_gbs")
        label = "measured" if e["kind"] == "cpu" else spec.get("label", "")
        bw_text = f"{bw:.1f} ({label})" if bw else "not measured"
        peaks = spec.get("peak_tflops") or {}
        peak_label = "estimated" if e["kind"] == "cpu" else spec.get("label", "")
        peak_text = ", ".join(f"{k} {v:g}" for k, v in peaks.items())
        notes = []
        if e["details"].get("l4t"):
            notes.append(f"L4T {e['details']['l4t']}")
        if e["kind"] == "cpu":
            d = e["details"]
            notes.append(f"{d['physical_cores']} cores, {d['logical_cores']} threads, "
                         f"{(d['mhz'] or 0):.0f} MHz")
        table.add_row(e["id"], e["kind"], e["name"], e["profile"] or spec.get("name", "—"),
                      format_bytes(e["memory_bytes"]), bw_text,
                      f"{peak_text} ({peak_label})" if peak_text else "—",
                      ",".join(spec.get("native_quants", [])) or "—",
                      e["compute_capability"] or "—", "; ".join(notes))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command("devices")(devices)
