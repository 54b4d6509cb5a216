"""``edgeprof import``: other tools' published measurements → an edgeprof table."""

from __future__ import annotations

from pathlib import Path

import typer

from edgeprof.cli._common import err, print_json
from edgeprof.errors import UserInputError
from edgeprof.importers import IMPORTERS
from edgeprof.table import read_measurements


def import_(
    kind: str = typer.Argument(..., help=f"Importer: {', '.join(IMPORTERS)}."),
    folder: Path = typer.Argument(..., help="The folder holding the published files."),
    out: Path = typer.Option(..., "--out", "-o", help="Output sweep folder."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Import published measurements as a measurements table (a sweep folder).

    Example:

      edgeprof import edgereasoning ../shared/reference/edgereasoning-jetson-agx-orin --out er/
    """
    if kind not in IMPORTERS:
        raise UserInputError(f"Unknown importer {kind!r}; choose one of {', '.join(IMPORTERS)}.")
    path = IMPORTERS[kind](folder, out)
    rows = read_measurements(path)
    info = {"table": str(path), "rows": len(rows), "models": sorted({r.model for r in rows})}
    if as_json:
        print_json(info)
    else:
        err.print(f"wrote {info['rows']} rows for {', '.join(info['models'])} to {path}")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
