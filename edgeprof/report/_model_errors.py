"""The model error table: per fit and phase, the held-out errors the profile stores."""

from __future__ import annotations

from typing import Any

from edgeprof.fit._schema import FitEntry, PhaseFit
from edgeprof.report._html import Section, badge, esc, note, raw_note, table

PHASES = (("prefill", ("prefill",)), ("decode", ("decode",)), ("memory", ("memory",)),
          ("prefill power", ("power", "prefill_power")),
          ("decode energy", ("power", "decode_energy")))
RANGE_NAMES = {"input_tokens": "I", "output_tokens": "O", "batch": "B", "decode_s": "T"}
UNITS = {"prefill": "s", "decode": "s", "memory": "B", "prefill power": "W",
         "decode energy": "J"}


def _phase(entry: FitEntry, path: tuple[str, ...]) -> PhaseFit | None:
    if path[0] == "power":
        return (entry.power or {}).get(path[1])
    return getattr(entry, path[0])


def pct(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{100 * v:.{digits}f} %"


def _ranges(fitted_on: dict[str, list[float]] | None) -> str:
    parts = []
    for name, (lo, hi) in (fitted_on or {}).items():
        short = RANGE_NAMES.get(name, name)
        unit = " s" if name == "decode_s" else ""
        parts.append(f"{short} {lo:.4g}{unit}" if lo == hi else f"{short} {lo:.4g}–{hi:.4g}{unit}")
    return ", ".join(parts) or "n/a"


def _extrap(rec: PhaseFit) -> str:
    ex = rec.extrapolation
    if not ex:
        return "n/a (too few points)"
    return f"{pct(ex.get('mape'))} (fit ≤ {ex.get('fit_max', 0):.4g}, {ex.get('test_n')} tested)"


def error_rows(profile: Any) -> list[dict[str, Any]]:
    """One row per fit entry × fitted phase, as plain data (also used by ``--json``)."""
    out = []
    for entry in profile.entries:
        for name, path in PHASES:
            rec = _phase(entry, path)
            if rec is None:
                continue
            iv = rec.interval
            out.append({
                "model": entry.model, "quant": entry.quant,
                "engine": entry.engine, "power_mode": entry.power_mode,
                "phase": name, "n": rec.n, "cv_mape": rec.cv_mape,
                "train_mape": rec.train_mape,
                "extrapolation_mape": (rec.extrapolation or {}).get("mape"),
                "extrapolation": _extrap(rec),
                "interval": [iv.lo, iv.hi] if iv else [None, None],
                "outliers": len(rec.outliers),
                "fitted_on": _ranges(rec.fitted_on),
                "sources": ", ".join(entry.sources),
                "provenance": str(entry.provenance or "predicted:measured-fit"),
                "outlier_points": rec.outliers,
            })
    return out


def _interval(iv: list[float | None]) -> str:
    lo, hi = iv
    if lo is None or hi is None:
        return "n/a"
    return f"×{lo:.2f} – ×{hi:.2f}"


def errors_section(inp: Any) -> Section:
    key, title = "model-errors", "Model error table"
    if inp.profile is None:
        return Section(key, title, note(inp.missing.get("profile", "no profile")),
                       {"present": False})
    rows = error_rows(inp.profile)
    if not rows:
        return Section(key, title, note(
            f"The profile {inp.profile_path} holds no fitted models (spec-only): every "
            "prediction from it is predicted:spec-derived. Fit measurements with edgeprof fit."),
            {"present": True, "fits": 0})
    heads = ["phase", "n", "CV MAPE", "train MAPE", "extrapolation MAPE", "90 % interval",
             "outliers", "fitted on"]
    body_rows: list[list[Any] | str] = []
    last = None
    for r in rows:
        fit = (r["model"], r["quant"], r["engine"], r["power_mode"])
        if fit != last:
            last = fit
            srcs = " ".join(badge(x.strip()) for x in r["sources"].split(",") if x.strip())
            body_rows.append(f"{esc(' '.join(str(x) for x in fit if x))} "
                             f"<span class=\"sub\">data:</span> {srcs}")
        body_rows.append([r["phase"], r["n"], pct(r["cv_mape"]), pct(r["train_mape"]),
                          r["extrapolation"], _interval(r["interval"]), r["outliers"],
                          r["fitted_on"]])
    body = raw_note(
        f"Held-out errors stored in {esc(inp.profile_path)} by <code>edgeprof fit</code>, one "
        "block per fitted model × quant × engine (× power mode). CV MAPE: 5-fold "
        "cross-validated mean absolute percentage error. Extrapolation: fit on the short half "
        "(input ≤ median for prefill, context ≤ median for decode), error on the long half. "
        "90 % interval: multiplicative band around a prediction, from the CV residuals. "
        f"Predictions from these fits are labeled {badge('predicted:measured-fit')}; outliers "
        "are kept in the profile, listed below, and left out of the refit.")
    body += table(heads, body_rows,
                  numeric=[False, True, True, True, False, True, True, False],
                  caption="I input tokens, O output tokens, B batch, T decode seconds")
    flagged = [(r, o) for r in rows for o in r["outlier_points"]]
    if flagged:
        out_rows = [[r["model"], r["quant"], r["phase"],
                     ", ".join(f"{RANGE_NAMES.get(n, n)}={o[n]:g}{' s' * (n == 'decode_s')}"
                               for n in RANGE_NAMES if n in o),
                     f"{o.get('measured', float('nan')):.4g} {UNITS.get(r['phase'], '')}",
                     f"{100 * o.get('relative_residual', float('nan')):+.0f} %"]
                    for r, o in flagged[:20]]
        body += "<h3>Flagged outliers</h3>" + table(
            ["model", "quant", "phase", "point", "measured", "fit vs measured"], out_rows,
            numeric=[False, False, False, False, True, True],
            caption="measured values more than 5 robust σ and 20 % off the fit"
                    + (f" (first 20 of {len(flagged)})" if len(flagged) > 20 else ""))
    cal = inp.profile.calibration
    if cal:
        facts = ", ".join(f"{k} {v:.3g}" for k, v in cal.items() if isinstance(v, float))
        body += raw_note(f"Calibration of the spec-sheet roofline (for models and quants "
                         f"without a fit, {badge('predicted:spec-derived')}): {esc(facts)}.")
    summary = {"present": True, "fits": len(inp.profile.fits), "rows": [
        {k: v for k, v in r.items() if k not in ("outlier_points", "extrapolation")}
        for r in rows]}
    return Section(key, title, body, summary)
