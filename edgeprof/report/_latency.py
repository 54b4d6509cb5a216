"""Latency against input and output length: measured points, fits, intervals, residuals.

The figures are :func:`edgeprof.report._fit_figures.profile_figures` (the same as ``edgeprof fit
--plots``), one per fitted model × quant × engine × power mode that has measured rows here.
"""

from __future__ import annotations

from typing import Any

from edgeprof.catalog import resolve_model
from edgeprof.report._figures import to_data_uri
from edgeprof.report._html import Section, badge, esc, image, note, raw_note
from edgeprof.report._model_errors import pct


def _name(model: str) -> str:
    try:
        return resolve_model(model).name
    except Exception:
        return model


def _matching(profile: Any, rows: list[Any]) -> list[Any]:
    seen = {(_name(r.model), r.quant, r.power_mode) for r in rows if r.ok and r.batch == 1}
    return [e for e in profile.entries if (e.model, e.quant, e.power_mode) in seen]


def latency_section(inp: Any) -> Section:
    key, title = "latency", "Latency vs input and output length"
    if inp.profile is None:
        return Section(key, title, note(inp.missing.get("profile", "no profile")),
                       {"present": False, "figures": 0})
    if not inp.rows:
        return Section(key, title, note(
            "The fits are drawn over their measurements, and no sweep was found: "
            + inp.missing.get("sweep", "pass --sweep PATH")), {"present": False, "figures": 0})
    from edgeprof.report._fit_figures import profile_figures

    entries = _matching(inp.profile, inp.rows)
    if not entries:
        return Section(key, title, note(
            f"None of the profile's fits ({len(inp.profile.fits)}) matches an ok batch-1 row "
            f"of the sweep {inp.sweep_path}; fit this sweep with edgeprof fit."),
            {"present": False, "figures": 0})
    sources = " ".join(badge(s) for s in sorted({r.source for r in inp.rows}))
    body = raw_note(
        f"Dots: measured rows {sources} (every repeat, batch 1). Lines: the fitted "
        f"model {badge('predicted:measured-fit')}; bands: its 90 % interval. Left: time to "
        "first token (prefill) against input tokens; right: decode time against output tokens, "
        "one color per input length. Bottom: residual = predicted ÷ measured − 1; "
        "red × marks a flagged outlier.")
    for entry, fig in profile_figures(inp.profile, inp.rows, entries):
        mode = f" {entry.power_mode}" if entry.power_mode else ""
        caption = (f"{entry.model} {entry.quant} {entry.engine}{mode}: prefill CV MAPE "
                   f"{pct(entry.prefill.cv_mape if entry.prefill else None)}, decode CV MAPE "
                   f"{pct(entry.decode.cv_mape if entry.decode else None)}")
        body += f"<h3>{esc(caption)}</h3>" + image(to_data_uri(fig), caption)
    return Section(key, title, body, {"present": True, "figures": len(entries)})
