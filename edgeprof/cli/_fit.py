"""``edgeprof fit``: measurements tables → a profile of fitted models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from edgeprof.cli._common import err, print_json
from edgeprof.device._spec import DeviceSpec, list_device_names, load_device_spec
from edgeprof.errors import UserInputError
from edgeprof.fit import Profile, fit_rows
from edgeprof.fit._schema import FitEntry
from edgeprof.table import read_measurements, read_run_json


def fit(
    measurements: list[Path] = typer.Argument(..., help="Tables: JSONL, CSV, Parquet or sweep "
                                              "folders."),
    out: Path = typer.Option(..., "--out", "-o", help="Profile to write (.yaml or .json)."),
    device: str = typer.Option(None, "--device", help="Device spec name or YAML (default: the "
                               "tables' device column)."),
    plots: Path = typer.Option(None, "--plots", help="Folder for one PNG per model."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
) -> None:
    """Fit prefill, decode, memory and power models and write a profile.

    Examples:

      edgeprof fit sweep-out/ --out my-device.yaml

      edgeprof fit imported/edgereasoning --out orin.yaml --plots figs/
    """
    from edgeprof.files import check_output_dir, check_output_path

    check_output_path(out)
    if plots is not None:
        check_output_dir(plots, "--plots")
    rows = [r for path in measurements for r in read_measurements(path)]
    if not rows:
        raise UserInputError("The measurements tables are empty; run `edgeprof sweep` or "
                             "`edgeprof import` first.")
    spec = load_device_spec(device) if device else _tables_device(rows, measurements)
    fits = fit_rows(rows, spec)
    from edgeprof.fit._concurrency import attach_concurrency  # rows of `edgeprof load`

    for note in attach_concurrency(fits, rows):
        err.print(f"Note: {note}.")
    prov = {"tables": [str(p) for p in measurements], "rows": len(rows),
            "sources": sorted({r.source for r in rows})}
    profile = Profile.from_fits(spec, fits, prov)
    profile.save(out)
    if plots is not None:
        from edgeprof.report._fit_figures import plot_profile

        for png in plot_profile(profile, rows, plots):
            err.print(f"wrote {png}")
    summary = [_summary(f) for f in fits]
    if as_json:
        print_json({"profile": str(out), "hash": profile.hash(), "fits": summary})
    else:
        for s in summary:
            err.print(f"{s['model']}/{s['quant']}/{s['engine']}/{s['power_mode']}: "
                      f"prefill CV MAPE {_pct(s['prefill_cv_mape'])}, decode CV MAPE "
                      f"{_pct(s['decode_cv_mape'])}, {s['outliers']} outlier(s) flagged"
                      + (f", {s['throttled_rows']} throttled/clock-drop row(s) "
                         f"{s['throttled_rule']}" if s["throttled_rows"] else ""))
        err.print(f"wrote {out}")


def _summary(f: FitEntry) -> dict[str, Any]:
    """One entry's line of the summary: CV errors, outliers, throttled rows."""
    throttled = f.throttled_rows or {}
    return {"model": f.model, "quant": f.quant, "engine": f.engine, "power_mode": f.power_mode,
            **{f"{ph}_cv_mape": rec.cv_mape if rec else None
               for ph, rec in (("prefill", f.prefill), ("decode", f.decode))},
            "outliers": sum(len(rec.outliers) for rec in (f.prefill, f.decode, f.memory)
                            if rec),
            "throttled_rows": len(throttled.get("rows", [])),
            "throttled_rule": throttled.get("rule")}


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f} %"


def register(app: typer.Typer) -> None:
    app.command("fit")(fit)


def _tables_device(rows: list, measurements: list[Path]) -> DeviceSpec:
    """The device the tables were measured on: a shipped profile of that name, else the spec
    the sweep recorded in its ``run.json`` (a CPU's measured bandwidth, say)."""
    names = sorted({r.device for r in rows})
    if len(names) != 1 or names[0] == "unknown":
        raise UserInputError(f"The tables name devices {names}; pass --device NAME or YAML.")
    if names[0] in list_device_names():
        return load_device_spec(names[0])
    for path in measurements:
        recorded = (read_run_json(path) or {}).get("device_spec")
        if recorded and recorded.get("name") == names[0]:
            return DeviceSpec.model_validate(recorded)
    raise UserInputError(f"{names[0]!r} is not a shipped device and no run.json beside the "
                         "tables records its spec; pass --device YAML (see `edgeprof devices "
                         "--json`).")
