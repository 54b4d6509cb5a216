"""``edgeprof predict``: latency, memory and energy from a profile, with intervals."""

from __future__ import annotations

from pathlib import Path

import typer

from edgeprof.catalog import check_context, get_quant
from edgeprof.cli._common import out, print_json, print_jsonl
from edgeprof.cli._points import MAX_BATCH, read_points
from edgeprof.errors import UnsupportedError, UserInputError
from edgeprof.fit import Profile
from edgeprof.fit._engine_terms import ENGINES, normalize_engine


def predict(
    profile: str = typer.Option(None, "--profile", help="Profile file or shipped device name."),
    device: str = typer.Option(None, "--device", help="Alias of --profile for a device name."),
    points: Path = typer.Option(None, "--points", help="CSV: model, quant, input_tokens, "
                                "output_tokens[, batch, power_mode, engine]; other columns "
                                "are echoed in --json as input_columns."),
    model: str = typer.Option(None, "--model"),
    quant: str = typer.Option("bf16", "--quant"),
    input_tokens: int = typer.Option(None, "--input-tokens"),
    output_tokens: int = typer.Option(None, "--output-tokens"),
    batch: int = typer.Option(1, "--batch"),
    power_mode: str = typer.Option(None, "--power-mode"),
    engine: str = typer.Option(None, "--engine", help=f"Serving engine: {', '.join(ENGINES)} "
                               "(Ollama is llama.cpp). Default: the profile's calibration "
                               "engine."),
    prefix_caching: bool = typer.Option(
        False, "--prefix-caching", help="Batch N is N samples of one prompt on a server "
        "whose prefix cache shares its prefill (vLLM V1's default): TTFT of one prefill plus "
        "each other sample's last partial KV block. Default: N prefills (vLLM V0, "
        "llama-server, distinct prompts)."),
    kv_cache_dtype: str = typer.Option(
        "auto", "--kv-cache-dtype", help="auto (the engine's default cache), fp8 (vLLM on "
        "compute capability 9.x; TensorRT-LLM / Edge-LLM on Ampere+ GPUs and Thor) or q8_0 "
        "(llama.cpp): KV memory, and the KV reads of engines whose kernels read it, at 8 "
        "bits. Spec-derived; answer quality with it is not modelled."),
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
    if prefix_caching:
        prof = prof.with_prefix_caching()
    prof = prof.with_kv_cache_dtype(kv_cache_dtype)
    if points is not None:
        pts = read_points(points)
    else:
        if model is None or input_tokens is None or output_tokens is None:
            raise UserInputError("Pass --points FILE.csv, or --model, --input-tokens and "
                                 "--output-tokens.")
        for flag, value in (("--input-tokens", input_tokens), ("--output-tokens",
                                                                output_tokens)):
            if value < 1:
                raise UserInputError(f"{flag} must be ≥ 1; got {value}.")
        if not 1 <= batch <= MAX_BATCH:
            raise UserInputError(f"--batch must be in 1..{MAX_BATCH}; got {batch}.")
        check_context(model, input_tokens, output_tokens, inputs="--input-tokens",
                      outputs="--output-tokens")
        pts = [{"model": model, "quant": quant, "input_tokens": input_tokens,
                "output_tokens": output_tokens, "batch": batch, "power_mode": power_mode,
                "engine": None}]
    results, failed = [], []
    for k, p in enumerate(pts, 1):
        p_eng = p.pop("engine") or eng
        given = p.pop("input_columns", None)  # the points file's other columns, echoed
        try:
            if "error" in p:  # the points file's row names an unknown model, or too long
                raise UserInputError(p.pop("error"))
            pred = prof.predict(p["model"], p["quant"], p["input_tokens"], p["output_tokens"],
                                p["batch"], p["power_mode"], engine=p_eng)
        except (UnsupportedError, UserInputError) as exc:
            if points is None:
                raise
            # one point the profile cannot run (or a model, quant or power mode it does not
            # know) does not cost the file's other predictions
            failed.append(f"point {k} ({p['model']}/{p['quant']}): {exc}")
            results.append({**p, "error": str(exc),
                            **({"input_columns": given} if given else {})})
            continue
        d = pred.to_dict()
        d["quant_format"] = get_quant(p["quant"]).name  # e.g. "awq" as given → "int4"
        d["device"] = prof.device.name  # the profile a short name ("h100") resolved to
        d["engine"] = prof.resolved_engine(p_eng)
        d["engine_source"] = ("--engine" if engine else "points file" if p_eng
                              else "the profile's calibration engine")
        d["kv_cache_dtype"] = kv_cache_dtype
        if d["energy_j"] is None:
            d.pop("energy_j")
            d.pop("avg_power_w")
        results.append({**p, **d, **({"input_columns": given} if given else {})})
    if as_json:
        if len(results) == 1 and points is None:
            print_json(results[0])
        else:
            print_jsonl(results)
    else:
        _print_results(results)
    if failed:
        raise UserInputError(f"{len(failed)} of {len(results)} points could not be predicted "
                               f"(the others were; --json gives each its `error`): "
                               f"{failed[0]}")


def _print_results(results: list[dict]) -> None:
    for r in results:
        if "error" in r:
            out.print(f"{r['model']}/{r['quant']} I={r['input_tokens']} O={r['output_tokens']} "
                      f"B={r['batch']}: not predicted: {r['error']}")
            continue
        out.print(f"{r['model']}/{r['quant_format']} I={r['input_tokens']} O={r['output_tokens']} "
                  f"B={r['batch']} on {r['device']} engine={r['engine']}"
                  f"{'' if r['kv_cache_dtype'] == 'auto' else ' kv=' + r['kv_cache_dtype']}: "
                  f"e2e {r['e2e_s']['value']:.3f} s "
                  f"[{r['e2e_s']['lo']:.3f}, {r['e2e_s']['hi']:.3f}] "
                  f"mem {r['peak_mem_bytes']['value'] / 2**30:.2f} GiB "
                  f"({r['e2e_s']['provenance']})")


def register(app: typer.Typer) -> None:
    app.command("predict")(predict)
