"""``edgeprof import``: other tools' published measurements → an edgeprof table."""

from __future__ import annotations

from pathlib import Path

import typer

from edgeprof.cli._common import err, print_json
from edgeprof.errors import UserInputError
from edgeprof.importers import IMPORTERS, TOOL_IMPORTERS
from edgeprof.table import read_measurements, read_run_conditions


def import_(
    kind: str = typer.Argument(
        ..., help=f"Importer: {', '.join([*IMPORTERS, *TOOL_IMPORTERS])}."),
    folder: Path = typer.Argument(
        ..., help="The folder holding the published files, or a tool's result file "
        "(or a folder of them)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output sweep folder."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    device: str | None = typer.Option(
        None, "--device", "-d", help="Tool outputs: the device profile the run was on "
        "(required), e.g. jetson-orin-nx-16gb or a profile YAML."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Tool outputs: catalog model, when the file's is unclear."),
    quant: str | None = typer.Option(
        None, "--quant", "-q", help="Tool outputs: weight format, when the file does not say."),
    engine: str | None = typer.Option(
        None, "--engine", help="Tool outputs: serving engine, when the file does not say."),
    tool_version: str | None = typer.Option(
        None, "--tool-version", help="Tool outputs: the tool's version, when not recorded."),
    power_mode: str | None = typer.Option(
        None, "--power-mode", help="Tool outputs: the power mode the run used (Jetson)."),
    batch: int | None = typer.Option(
        None, "--batch", min=1, help="Tool outputs: concurrent sequences, when not recorded."),
    statistic: str = typer.Option(
        "p50", "--statistic", help="genai-perf / aiperf: p50 or avg of each latency."),
) -> None:
    """Import published measurements as a measurements table (a sweep folder).

    Examples:

      edgeprof import edgereasoning ../shared/reference/edgereasoning-jetson-agx-orin --out er/

      edgeprof import llama-bench bench.json --device jetson-orin-nx-16gb --out lb/

      edgeprof import vllm-bench result.json --device l40s --quant bf16 --out vb/
    """
    options = {"model": model, "quant": quant, "engine": engine, "tool_version": tool_version,
               "power_mode": power_mode, "batch": batch}
    if kind in TOOL_IMPORTERS:
        if not device:
            raise UserInputError(f"`edgeprof import {kind}` needs --device: the shipped profile "
                                 "the run was on (e.g. jetson-orin-nx-16gb) or a profile YAML.")
        extra = {"statistic": statistic} if kind in ("genai-perf", "aiperf") else {}
        path = TOOL_IMPORTERS[kind](folder, out, device=device, **options, **extra)
    elif kind in IMPORTERS:
        given = [f"--{k.replace('_', '-')}" for k, v in {**options, "device": device}.items()
                 if v is not None]
        if given:
            raise UserInputError(f"`edgeprof import {kind}` takes no {', '.join(given)}; "
                                 "its data say where they were measured.")
        path = IMPORTERS[kind](folder, out)
    else:
        known = ", ".join([*IMPORTERS, *TOOL_IMPORTERS])
        raise UserInputError(f"Unknown importer {kind!r}; choose one of {known}.")
    rows = read_measurements(path)
    info = {"table": str(path), "rows": len(rows), "models": sorted({r.model for r in rows})}
    run = read_run_conditions(path.parent)
    extra = run.model_dump() if run else {}
    for key in ("tool", "tool_version", "assumptions"):
        if key in extra:
            info[key] = extra[key]
    if as_json:
        print_json(info)
    else:
        tool = (f" ({info['tool']}, version {info['tool_version']})" if "tool" in info
                else "")
        err.print(f"wrote {info['rows']} rows for {', '.join(info['models'])}{tool} to {path}")
        for note in info.get("assumptions", []):
            err.print(f"  assumed: {note}")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
