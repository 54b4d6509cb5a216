"""Import TensorRT Edge-LLM profiles: ``llm_inference --dumpProfile --profileOutputFile F``.

The profile JSON (written by the example's ``addJsonPrefillSummary`` /
``addJsonGenerationSummary`` / ``addJsonMemorySummary``) holds
``prefill: {total_runs, reused_tokens, computed_tokens, average_tokens_per_run,
average_time_per_run_ms, tokens_per_second, average_time_per_token_ms}``,
``generation: {total_runs, generated_tokens, average_tokens_per_run, tokens_per_second,
average_time_per_token_ms}``, per-stage GPU times under ``stages`` and
``peak_unified_memory_bytes`` (Jetson) or ``peak_gpu_memory_bytes`` (discrete GPU).
One file is one row, the average request of the run:

* ``input_tokens`` = prefill ``average_tokens_per_run``; ``ttft_s`` = ``average_time_per_run_ms``
  (prefill of the prompt, as the runtime times it);
* generation: ``tbt_s`` = ``average_time_per_token_ms``; ``output_tokens`` =
  ``average_tokens_per_run`` + 1 (the first token comes out of the prefill);
  ``decode_s`` = ``tbt_s`` × (output_tokens − 1);
* ``peak_mem_bytes`` from the peak memory field.

The profile names neither the model, the weight format, the batch nor the Edge-LLM version:
pass ``--model`` and ``--quant`` (and ``--batch`` when the input file batched requests, default 1;
``--tool-version``). Engine ``trtllm`` (TensorRT Edge-LLM is a TensorRT-LLM-family engine).
Runs that reused KV cache (``reused_tokens`` > 0) are flagged ``kv-reuse``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgeprof.importers._tool import (
    UNRECORDED,
    ImportOptions,
    ImportResult,
    common,
    engine_name,
    fail,
    input_files,
    integer,
    load_json,
    model_name,
    number,
    positive,
    quant_name,
    renumber_repeats,
    write_import,
)
from edgeprof.table import Measurement

TOOL = "tensorrt-edge-llm"
ENGINE = "trtllm"
PATTERNS = ("*.json",)


def _section(path: Path, data: dict[str, Any], key: str) -> dict[str, Any]:
    sec = data.get(key)
    if sec is None:
        raise fail(path, f"lacks the field {key!r}; was llm_inference run with --dumpProfile "
                         "and --profileOutputFile (and without --eagle)?")
    if not isinstance(sec, dict):
        raise fail(path, f"field {key!r} is not an object.")
    return sec


def _row(path: Path, data: dict[str, Any], options: ImportOptions) -> tuple[Measurement, str]:
    pre = _section(path, data, "prefill")
    gen = _section(path, data, "generation")
    runs = integer(pre, "total_runs", path, "prefill")
    if not runs:
        raise fail(path, "prefill field 'total_runs' is 0.")
    tokens = number(pre, "average_tokens_per_run", path, "prefill", required=False)
    if tokens is None:
        computed = integer(pre, "computed_tokens", path, "prefill")
        reused = integer(pre, "reused_tokens", path, "prefill", required=False) or 0
        assert computed is not None
        tokens = (computed + reused) / runs
    ttft = positive(number(pre, "average_time_per_run_ms", path, "prefill") or 0.0,
                    "average_time_per_run_ms", path, "prefill") / 1e3
    tbt = positive(number(gen, "average_time_per_token_ms", path, "generation") or 0.0,
                   "average_time_per_token_ms", path, "generation") / 1e3
    gen_tokens = number(gen, "average_tokens_per_run", path, "generation")
    assert gen_tokens is not None
    steps = max(round(gen_tokens), 0)
    peak = integer(data, "peak_unified_memory_bytes", path, required=False)
    if peak is None:
        peak = integer(data, "peak_gpu_memory_bytes", path, required=False)
    version = options.tool_version or str(data.get("version") or UNRECORDED)
    base = common(options, TOOL, version, engine_name(options, ENGINE, path, TOOL),
                  model_name(options, [], path, TOOL), quant_name(options, None, path, TOOL))
    flags = ["kv-reuse"] if (integer(pre, "reused_tokens", path, "prefill", required=False)
                             or 0) > 0 else []
    row = Measurement(
        **base, input_tokens=max(round(tokens), 1), output_tokens=steps + 1,
        batch=options.batch or 1, repeat=0, ttft_s=ttft, tbt_s=tbt,
        decode_s=tbt * steps if steps else None, e2e_s=ttft + tbt * steps,
        peak_mem_bytes=peak, flags=flags, prefill_runs=runs,
        generation_runs=integer(gen, "total_runs", path, "generation", required=False),
        stages=data.get("stages"), phase="prefill+decode")
    return row, version


def edge_llm_rows(path: Path | str, options: ImportOptions) -> ImportResult:
    path = Path(path)
    result = ImportResult(rows=[], tool=TOOL, assumptions=[
        "output_tokens = generation average_tokens_per_run + 1 (first token from the prefill)",
        f"batch {options.batch or 1} ({'--batch' if options.batch else 'default'}; "
        "the profile does not record it)",
    ])
    for f in input_files(path, PATTERNS, "TensorRT Edge-LLM profile"):
        data = load_json(f, "TensorRT Edge-LLM profile")
        if not isinstance(data, dict):
            raise fail(f, "is not a TensorRT Edge-LLM profile object.")
        if path.is_dir() and "prefill" not in data and "responses" in data:
            result.assumptions.append(f"skipped {f}: an llm_inference --outputFile, not a "
                                      "profile")
            continue
        row, version = _row(f, data, options)
        result.files.append(str(f))
        result.rows.append(row)
        result.versions.add(version)
    if UNRECORDED in result.versions:
        result.assumptions.append("the profile names no Edge-LLM version (pass --tool-version)")
    result.rows = renumber_repeats(result.rows)
    return result


def import_edge_llm(path: Path | str, out: Path | str, **options: Any) -> Path:
    """Write a sweep folder from Edge-LLM profile JSON; returns the measurements path."""
    opts = ImportOptions(**options)
    result = edge_llm_rows(path, opts)
    return write_import(out, result, opts)
