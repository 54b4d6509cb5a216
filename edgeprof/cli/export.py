"""``edgeprof export`` (recommendation → manifest) and ``edgeprof validate`` (manifest check)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from edgeprof.cli._common import err
from edgeprof.errors import UserInputError


def export(
    recommendation: Path = typer.Argument(..., help="recommendation.json from `recommend --out`."),
    out_path: Path = typer.Option(..., "--out", "-o", help="manifest.yaml or manifest.json."),
    temperature: float = typer.Option(None, "--temperature", help="Sampling temperature "
                                      "(default 0.6, DeepSeek-R1's recommendation)."),
    top_p: float = typer.Option(None, "--top-p", help="Nucleus sampling (default 0.95)."),
) -> None:
    """Write a deployment manifest for the recommended configuration."""
    from edgeprof.manifest import build_manifest, write_manifest
    from edgeprof.search.result import load_recommendation

    manifest = build_manifest(load_recommendation(recommendation), temperature=temperature,
                              top_p=top_p)
    write_manifest(manifest, out_path)
    err.print(f"Wrote {out_path}; check it with `edgeprof validate {out_path}`.")


def validate(manifest: Path = typer.Argument(..., help="manifest.yaml or .json to check.")
             ) -> None:
    """Validate a manifest (schema and consistency); one line per problem, exit 2."""
    from edgeprof.manifest.validate import problems, read_manifest_file

    if not manifest.is_file():
        raise UserInputError(f"{manifest} does not exist; write one with `edgeprof export`.")
    data = read_manifest_file(manifest)
    if data is None:
        raise UserInputError(f"{manifest} is empty; write one with `edgeprof export`.")
    if isinstance(data, Exception):
        raise UserInputError(f"{manifest} is not valid YAML/JSON ({str(data).splitlines()[0]}).")
    found = problems(data)
    for line in found:
        print(f"{manifest}: {line}", file=sys.stderr)
    if found:
        raise UserInputError(f"{manifest} has {len(found)} problem(s), listed above; fix them "
                             f"or re-export with `edgeprof export`.")
    err.print(f"{manifest}: valid (schema version {data['schema_version']}).")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("validate")(validate)
