"""``edgeprof report``: one self-contained HTML page from a sweep, a profile and a
recommendation."""

from __future__ import annotations

from pathlib import Path

import typer

from edgeprof.cli._common import err, print_json


def report(
    folder: Path = typer.Argument(None, help="Folder with sweep/, profile.yaml and rec.json, "
                                  "or a sweep folder."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write."),
    sweep: Path = typer.Option(None, "--sweep", help="Sweep folder or measurements file."),
    profile: Path = typer.Option(None, "--profile", help="Profile from edgeprof fit."),
    recommendation: Path = typer.Option(None, "--recommendation",
                                        help="rec.json from edgeprof recommend --out."),
    as_json: bool = typer.Option(False, "--json", help="Print what went into the report."),
) -> None:
    """Write an HTML report: latency fits, power per phase, Pareto front, coverage, errors.

    Examples:

      edgeprof report runs/demo --out report.html

      edgeprof report --sweep runs/cpu --profile cpu.yaml --recommendation rec.json
    """
    from edgeprof.errors import UserInputError
    from edgeprof.report import write_report

    if folder is None and not (sweep or profile or recommendation):
        raise UserInputError("Give a folder (edgeprof report DIR) or --sweep/--profile/"
                             "--recommendation.")
    from edgeprof.files import check_output_path

    check_output_path(out)
    rep = write_report(folder, out, sweep=sweep, profile=profile,
                       recommendation=recommendation)
    if as_json:
        print_json({"out": str(out), **rep.summary()})
    for why in rep.inputs.missing.values():
        err.print(f"note: {why}")
    err.print(f"wrote {out} ({len(rep.html.encode()) / 1024:.0f} KiB)")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
