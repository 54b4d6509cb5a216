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

``llm_bench --outputDir D`` E2E CSVs (``e2e_prefill_inputlen128.csv``,
``e2e_decode_pastkvlen128.csv``: ``mode,batch_size,osl,e2e_time_ms,per_token_ms,
throughput_tps`` plus ``input_len`` or ``past_kv_len``, written by its ``writeE2ECsv``) are read
too: ``prefill`` rows give ``ttft_s`` = ``e2e_time_ms`` for ``input_len`` tokens; ``decode``
rows give ``decode_s`` = ``e2e_time_ms`` over max(osl − 1, 1) steps at context ``past_kv_len``
(llm_bench times one step when ``osl`` is 1, the whole sequence otherwise); ``batch`` =
``batch_size``. Other modes (visual, Eagle) are skipped. Layer CSVs are not read.
"""

from __future__ import annotations

import csv
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
    write_import,
)
from edgeprof.table import Measurement

TOOL = "tensorrt-edge-llm"
ENGINE = "trtllm"
PATTERNS = ("*.json", "e2e_*.csv")
E2E_HEADER = ("mode", "batch_size", "osl", "e2e_time_ms", "per_token_ms", "throughput_tps")


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


def _bench_rows(path: Path, options: ImportOptions) -> tuple[list[Measurement], str]:
    """Rows of one llm_bench E2E CSV (one data row per file, by its writer)."""
    with open(path, newline="") as fh:
        records = list(csv.DictReader(fh))
    if not records or tuple(records[0])[:len(E2E_HEADER)] != E2E_HEADER:
        raise fail(path, f"is not an llm_bench E2E CSV (header {', '.join(E2E_HEADER)}, …).")
    version = options.tool_version or UNRECORDED
    base = common(options, TOOL, version, engine_name(options, ENGINE, path, TOOL),
                  model_name(options, [], path, TOOL), quant_name(options, None, path, TOOL))
    rows = []
    for i, rec in enumerate(records, 1):
        where = f"row {i}"
        mode = rec["mode"]
        batch = integer(rec, "batch_size", path, where) or 1
        e2e = positive(number(rec, "e2e_time_ms", path, where) or 0.0, "e2e_time_ms", path,
                       where) / 1e3
        osl = integer(rec, "osl", path, where) or 1
        cols: dict[str, Any] = {"batch": batch, "repeat": 0, "llm_bench_mode": mode}
        if mode == "prefill":
            n = integer(rec, "input_len", path, where)
            if not n:
                raise fail(path, f"{where}: field 'input_len' is missing or 0.")
            cols.update(input_tokens=n, output_tokens=1, ttft_s=e2e, e2e_s=e2e, decode_s=0.0,
                        phase="prefill")
        elif mode == "decode":
            kv = integer(rec, "past_kv_len", path, where)
            if kv is None:
                raise fail(path, f"{where} lacks the field 'past_kv_len'.")
            steps = max(osl - 1, 1)
            cols.update(input_tokens=max(kv, 1), output_tokens=steps + 1, decode_s=e2e,
                        tbt_s=e2e / steps, phase="decode")
        else:
            continue
        rows.append(Measurement(**base, **cols))
    return rows, version


def edge_llm_rows(path: Path | str, options: ImportOptions) -> ImportResult:
    path = Path(path)
    result = ImportResult(rows=[], tool=TOOL, assumptions=[
        "output_tokens = generation average_tokens_per_run + 1 (first token from the prefill)",
        f"batch {options.batch or 1} ({'--batch' if options.batch else 'default'}; "
        "the profile does not record it)",
    ])
    for f in input_files(path, PATTERNS, "TensorRT Edge-LLM profile"):
        if f.suffix == ".csv":
            rows, version = _bench_rows(f, options)
            result.files.append(str(f))
            result.rows += rows
            result.versions.add(version)
            continue
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
    return result.finish("the profile names no Edge-LLM version")


def import_edge_llm(path: Path | str, out: Path | str, **options: Any) -> Path:
    """Write a sweep folder from Edge-LLM profile JSON; returns the measurements path."""
    opts = ImportOptions(**options)
    result = edge_llm_rows(path, opts)
    return write_import(out, result, opts)
