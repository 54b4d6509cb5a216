"""Assemble the report: gather inputs, draw each section, write one self-contained page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeprof import __version__
from edgeprof.report._coverage import coverage_section
from edgeprof.report._figures import style
from edgeprof.report._header import header_html
from edgeprof.report._html import Section, page
from edgeprof.report._inputs import ReportInputs, gather
from edgeprof.report._latency import latency_section
from edgeprof.report._model_errors import errors_section
from edgeprof.report._pareto import pareto_section
from edgeprof.report._power import power_section

SECTIONS = (latency_section, power_section, pareto_section, coverage_section, errors_section)


@dataclass
class Report:
    html: str
    sections: list[Section]
    inputs: ReportInputs

    def summary(self) -> dict[str, Any]:
        """What went into the report, for ``--json``."""
        inp = self.inputs
        return {"edgeprof_version": __version__,
                "inputs": {"sweep": _s(inp.sweep_path), "profile": _s(inp.profile_path),
                           "recommendation": _s(inp.rec_path)},
                "missing": inp.missing,
                "sections": {s.key: s.summary for s in self.sections},
                "bytes": len(self.html.encode())}


def _s(path: Path | None) -> str | None:
    return None if path is None else str(path)


def build_report(inputs: ReportInputs, title: str | None = None) -> Report:
    """Draw every section from whatever ``inputs`` hold."""
    with style():
        sections = [make(inputs) for make in SECTIONS]
    device = (inputs.run or {}).get("device") or (
        inputs.profile.device.name if inputs.profile is not None else None)
    title = title or f"edgeprof report{f' — {device}' if device else ''}"
    return Report(page(title, header_html(inputs), sections), sections, inputs)


def write_report(root: Path | None, out: Path, *, sweep: Path | None = None,
                 profile: Path | None = None, recommendation: Path | None = None) -> Report:
    """Gather, build and write ``out``; returns the report (for its summary)."""
    report = build_report(gather(root, sweep=sweep, profile=profile,
                                 recommendation=recommendation))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    from edgeprof.files import atomic_write

    atomic_write(out, report.html)
    return report
