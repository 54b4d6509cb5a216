"""The report's header: device, fingerprint, engine, library versions, dates, inputs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from edgeprof import __version__
from edgeprof.report._html import badge, definition_list, esc, note
from edgeprof.report._inputs import ReportInputs

FINGERPRINT_KEYS = ("cpu_model", "cpu_logical_cores", "memory_gib", "gpus", "jetson_model",
                    "l4t", "arch", "kernel", "hostname")


def _device(inp: ReportInputs) -> str:
    if inp.run and inp.run.get("device"):
        return str(inp.run["device"])
    if inp.profile is not None:
        return str(inp.profile.device.name)
    if inp.rec is not None:
        return inp.rec.problem.device
    devices = sorted({r.device for r in inp.rows})
    return ", ".join(devices) or "unknown"


def _fingerprint(fp: dict[str, Any]) -> str:
    parts = [f"{k}={v}" for k in FINGERPRINT_KEYS if (v := fp.get(k)) not in (None, [], "")]
    return "; ".join(parts) or "not recorded"


def header_facts(inp: ReportInputs) -> list[tuple[str, str]]:
    """``(label, html)`` rows; plain facts are escaped here."""
    run = inp.run or {}
    facts: list[tuple[str, str]] = [("device", esc(_device(inp)))]
    if inp.profile is not None:
        dev = inp.profile.device
        label = getattr(dev, "label", None) or "spec"
        facts.append(("device spec", f"{esc(getattr(dev, 'display_name', None) or dev.name)} "
                                     f"{badge(str(label))}"))
    facts.append(("fingerprint", esc(_fingerprint(run.get("device_fingerprint") or {}))
                  if run else esc("not recorded (no run.json)")))
    engines = sorted({r.engine for r in inp.rows}) or ([run["engine"]] if run.get("engine")
                                                        else [])
    if inp.profile is not None and not engines:
        engines = sorted({f.engine or "?" for f in inp.profile.entries})
    facts.append(("engine", esc(", ".join(engines) or "unknown")))
    versions = run.get("library_versions") or {}
    facts.append(("library versions", esc(", ".join(f"{k} {v}" for k, v in versions.items())
                                          or "not recorded")))
    if run.get("power_mode"):
        facts.append(("power mode", esc(run["power_mode"])))
    if run.get("clocks"):
        facts.append(("clocks", esc(", ".join(f"{k} {v}" for k, v in run["clocks"].items())
                                    if isinstance(run["clocks"], dict) else run["clocks"])))
    if run.get("started_at"):
        resumed = run.get("resumed_at") or []
        more = f" (resumed {len(resumed)}×, last {resumed[-1]})" if resumed else ""
        facts.append(("sweep started", esc(f"{run['started_at']}{more}")))
    tele = (run.get("telemetry") or {}).get("source")
    if tele:
        facts.append(("power source", esc(tele)))
    facts.append(("inputs", esc("; ".join(
        f"{name}: {path}" for name, path in (("sweep", inp.sweep_path),
                                             ("profile", inp.profile_path),
                                             ("recommendation", inp.rec_path)) if path)
        or "none")))
    if inp.profile is not None:
        facts.append(("profile hash", esc(inp.profile.hash()[:16])))
    made = datetime.now(UTC).isoformat(timespec="seconds")
    facts.append(("report", esc(f"made {made} by edgeprof {__version__}")))
    return facts


def header_html(inp: ReportInputs) -> str:
    body = definition_list(header_facts(inp))
    if inp.run is None and inp.rows:
        body += note("The measurements have no run.json beside them: conditions "
                     "(fingerprint, versions, power source) are unknown.", "warn")
    if "run" in inp.missing:
        body += note(inp.missing["run"], "warn")
    return f'<section id="header">{body}</section>'
