"""``edgeprof predict``: latency, memory and energy from a profile, with intervals."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import typer

from edgeprof.cli._common import out, print_json, print_jsonl
from edgeprof.errors import DataFormatError, UserInputError
from edgeprof.fit import Profile
from edgeprof.fit.engine_terms import ENGINES, normalize_engine

COLUMNS = ("model", "quant", "input_tokens", "output_tokens")


def _points(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise UserInputError(f"{path} does not exist; pass a CSV with columns "
                             f"{', '.join(COLUMNS)}[, batch].")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataFormatError(f"{path} is not UTF-8 text; pass a CSV with columns "
                              f"{', '.join(COLUMNS)}[, batch, power_mode, engine].") from None
    except IsADirectoryError:
        raise UserInputError(f"{path} is a folder; pass a CSV file of points.") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataFormatError(f"{path} lacks the columns {', '.join(missing)}; needed: "
                              f"{', '.join(COLUMNS)}[, batch, power_mode].")
    pts = []
    for n, row in enumerate(reader, 2):
        try:
            pts.append({"model": row["model"], "quant": row["quant"],
                        "input_tokens": int(row["input_tokens"]),
                        "output_tokens": int(row["output_tokens"]),
                        "batch": int(row.get("batch") or 1),
                        "power_mode": row.get("power_mode") or None,
                        "engine": row.get("engine") or None})
        except (ValueError, TypeError):
            raise DataFormatError(f"{path}:{n}: token counts and batch must be "
                                  "integers.") from None
        if min(pts[-1][k] for k in ("input_tokens", "output_tokens", "batch")) < 1:
            raise DataFormatError(f"{path}:{n}: input_tokens, output_tokens and batch "
                                  "must be ≥ 1.")
        if pts[-1]["engine"]:
            pts[-1]["engine"] = normalize_engine(pts[-1]["engine"])
    if not pts:
        raise DataFormatError(f"{path} holds no points.")
    return pts


def predict(
    profile: str = typer.Option(None, "--profile", help="Profile file or shipped device name."),
    device: str = typer.Option(None, "--device", help="Alias of --profile for a device name."),
    points: Path = typer.Option(None, "--points", help="CSV: model, quant, input_tokens, "
                                "output_tokens[, batch, power_mode]."),
    model: str = typer.Option(None, "--model"),
    quant: str = typer.Option("bf16", "--quant"),
    input_tokens: int = typer.Option(None, "--input-tokens"),
    output_tokens: int = typer.Option(None, "--output-tokens"),
    batch: int = typer.Option(1, "--batch"),
    power_mode: str = typer.Option(None, "--power-mode"),
    engine: str = typer.Option(None, "--engine", help=f"Serving engine: {', '.join(ENGINES)} "
                               "(Ollama is llama.cpp). Default: the profile's calibration "
                               "engine."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per point (JSONL)."),
) -> None:
    """Predict TTFT, decode, end-to-end time, peak memory and energy.

    Examples:

      edgeprof predict --profile jetson-agx-orin-64gb --model deepseek-r1-distill-qwen-1.5b
      --quant bf16 --input-tokens 512 --output-tokens 1024 --json

      edgeprof predict --profile my.yaml --points points.csv --json

      edgeprof predict --device jetson-orin-nx-16gb --engine llama.cpp --model llama-3.2-3b
      --quant int4 --input-tokens 64 --output-tokens 50
    """
    if profile and device and profile != device:
        raise UserInputError("Give --profile or --device, not both.")
    source = profile or device
    if source is None:
        raise UserInputError("Pass --profile FILE or --device NAME.")
    eng = normalize_engine(engine) if engine else None
    prof = Profile.load(source)
    if points is not None:
        pts = _points(points)
    else:
        if model is None or input_tokens is None or output_tokens is None:
            raise UserInputError("Pass --points FILE.csv, or --model, --input-tokens and "
                                 "--output-tokens.")
        pts = [{"model": model, "quant": quant, "input_tokens": input_tokens,
                "output_tokens": output_tokens, "batch": batch, "power_mode": power_mode,
                "engine": None}]
    results = []
    from edgeprof.catalog import resolve_model

    for p in pts:
        p_eng = p.pop("engine") or eng
        limit = resolve_model(p["model"]).max_position  # lengths within the model's context
        if p["input_tokens"] + p["output_tokens"] > limit or p["batch"] > 65536:
            raise UserInputError(f"{p['model']}: input {p['input_tokens']} + output "
                                 f"{p['output_tokens']} tokens (batch {p['batch']}) exceeds "
                                 f"its context length of {limit} (or batch 65536); use "
                                 "shorter lengths.")
        pred = prof.predict(p["model"], p["quant"], p["input_tokens"], p["output_tokens"],
                            p["batch"], p["power_mode"], engine=p_eng)
        d = pred.to_dict()
        d["engine"] = prof.resolved_engine(p_eng)
        d["engine_source"] = ("--engine" if engine else "points file" if p_eng
                              else "the profile's calibration engine")
        if d["energy_j"] is None:
            d.pop("energy_j")
            d.pop("avg_power_w")
        results.append({**p, **d})
    if as_json:
        if len(results) == 1 and points is None:
            print_json(results[0])
        else:
            print_jsonl(results)
        return
    for r in results:
        out.print(f"{r['model']}/{r['quant']} I={r['input_tokens']} O={r['output_tokens']} "
                  f"B={r['batch']} engine={r['engine']}: e2e {r['e2e_s']['value']:.3f} s "
                  f"[{r['e2e_s']['lo']:.3f}, {r['e2e_s']['hi']:.3f}] "
                  f"mem {r['peak_mem_bytes']['value'] / 2**30:.2f} GiB "
                  f"({r['e2e_s']['provenance']})")


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
