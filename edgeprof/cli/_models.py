"""``edgeprof models``: the catalog of known architectures."""

from __future__ import annotations

import typer
from rich.table import Table

from edgeprof.catalog import CATALOG, QUANT_FORMATS, resolve_model
from edgeprof.cli._common import out, print_json
from edgeprof.units import format_bytes


def describe(name: str) -> dict:
    arch = resolve_model(name)
    d = arch.model_dump(exclude_none=True)
    d["params"] = arch.params
    d["weight_bytes"] = {q: arch.weight_bytes(q) for q in QUANT_FORMATS}
    d["decode_stream_bytes"] = {q: arch.decode_stream_bytes(q) for q in QUANT_FORMATS}
    d["kv_bytes_per_token"] = arch.kv_bytes_per_token(2)
    if arch.published_params:
        d["params_vs_published"] = arch.params / arch.published_params - 1
    return d


def models(
    names: list[str] = typer.Argument(None, help="Models to show (default: the whole catalog)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List the model catalog: architecture, parameters, weight bytes per quant, KV bytes.

    Examples:

      edgeprof models

      edgeprof models qwen2.5-0.5b-scaled-4L --json

      edgeprof models ./my-hf-model-folder
    """
    entries = [describe(n) for n in (names or list(CATALOG))]
    if as_json:
        print_json(entries)
        return
    table = Table(title="edgeprof model catalog (figures from each model's config.json)")
    for col in ("model", "layers", "hidden", "heads/kv", "head_dim", "ffn", "vocab", "tied",
                "params", "fp16", "int8", "int4", "KV/token (16-bit)"):
        table.add_column(col, justify="right" if col not in ("model",) else "left")
    for d in entries:
        table.add_row(
            d["name"], str(d["layers"]), str(d["hidden"]), f"{d['heads']}/{d['kv_heads']}",
            str(d["head_dim"]), str(d["ffn"]), str(d["vocab"]), "yes" if d["tied_embeddings"]
            else "no", f"{d['params'] / 1e9:.3f} B", format_bytes(d["weight_bytes"]["fp16"]),
            format_bytes(d["weight_bytes"]["int8"]), format_bytes(d["weight_bytes"]["int4"]),
            format_bytes(d["kv_bytes_per_token"]),
        )
    out.print(table)
    out.print("Scaled-down variants for quick CPU runs: <model>-scaled-<N>L "
              "(same widths, N layers), e.g. qwen2.5-0.5b-scaled-4L.")


def register(app: typer.Typer) -> None:
    app.command("models")(models)
