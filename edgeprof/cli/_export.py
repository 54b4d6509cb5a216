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
    allow_scaled: bool = typer.Option(False, "--allow-scaled", help="Export a scaled toy "
                                      "(<model>-scaled-<N>L) as itself; without it a toy "
                                      "winner is refused."),
) -> None:
    """Write a deployment manifest for the recommended configuration.

    Beside the manifest it writes the files its commands name: the TensorRT-LLM
    extra_llm_api_options YAML and, where no pre-quantized checkpoint is published, the
    llm-compressor recipe for vLLM.

    Examples:
      edgeprof export rec.json --out deploy/manifest.yaml
      edgeprof export rec.json --out manifest.yaml --allow-scaled
    """
    import math

    from edgeprof.files import check_output_path
    from edgeprof.manifest import build_manifest, write_manifest
    from edgeprof.manifest._build import side_files
    from edgeprof.search._result import load_recommendation

    check_output_path(out_path)
    if temperature is not None and not (math.isfinite(temperature) and temperature >= 0):
        raise UserInputError(f"--temperature must be a finite number ≥ 0; got {temperature}.")
    if top_p is not None and not (math.isfinite(top_p) and 0 < top_p <= 1):
        raise UserInputError(f"--top-p must be in (0, 1]; got {top_p}.")
    manifest = build_manifest(load_recommendation(recommendation), temperature=temperature,
                              top_p=top_p, allow_scaled=allow_scaled)
    write_manifest(manifest, out_path)
    extra = ", ".join(sorted(side_files(manifest)))
    err.print(f"Wrote {out_path} (and beside it: {extra}); check it with "
              f"`edgeprof validate {out_path}`.")


def validate(manifest: Path = typer.Argument(..., help="manifest.yaml or .json to check.")
             ) -> None:
    """Validate a manifest; one line per problem, exit 2.

    Checks the schema, consistency between fields, that every command round-trips through
    shlex.split and uses only flags recorded for the pinned engine version, and that the
    artifacts deploy the model the predictions were made for.
    """
    from edgeprof.manifest._validate import problems, read_manifest_file, side_file_problems

    if manifest.is_dir():
        raise UserInputError(f"{manifest} is a folder; give the manifest file inside it.")
    if not manifest.is_file():
        raise UserInputError(f"{manifest} does not exist; write one with `edgeprof export`.")
    data = read_manifest_file(manifest)
    if data is None:
        raise UserInputError(f"{manifest} is empty; write one with `edgeprof export`.")
    if isinstance(data, Exception):
        raise UserInputError(f"{manifest} is not valid YAML/JSON ({str(data).splitlines()[0]}).")
    found = problems(data)
    if not found:
        found = side_file_problems(data, manifest.parent)
    for line in found:
        print(f"{manifest}: {line}", file=sys.stderr)
    if found:
        raise UserInputError(f"{manifest} has {len(found)} problem(s), listed above; fix them "
                             f"or re-export with `edgeprof export`.")
    err.print(f"{manifest}: valid (schema version {data['schema_version']}).")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("validate")(validate)
