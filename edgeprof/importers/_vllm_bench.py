"""Import ``vllm bench serve --save-result`` JSON (also ``--append-result`` files, one per line).

The summary fields are milliseconds: ``{mean,median,std,pN}_{ttft,tpot,itl,e2el}_ms``, with
``completed``, ``total_input_tokens``, ``total_output_tokens``, ``max_concurrency``,
``request_rate``, ``num_prompts`` and ``model_id``. With ``--save-detailed`` the file also holds
per-request ``input_lens``, ``output_lens``, ``ttfts`` (s), ``itls`` (s, one list per request)
and ``errors``.

* Detailed file: one row per request: its own lengths, ``ttft_s``, every inter-token gap in
  ``token_times_s``, ``decode_s`` their sum, ``tbt_s`` their median, ``e2e_s`` TTFT + decode.
  Failed requests become ``status: error`` rows.
* Summary file: one row at the mean lengths (totals / completed): ``ttft_s`` = median TTFT,
  ``tbt_s`` = median ITL, ``decode_s`` = median TPOT × (output_tokens − 1), ``e2e_s`` = median
  E2EL; every mean/median/std/percentile is kept in ``summary_ms``.

``batch`` (and ``concurrency``) is ``max_concurrency``: closed-loop requests in flight, about
the sequences the engine batches in steady decode. Without it, all ``num_prompts`` requests
were sent at once when ``request_rate`` is ``inf`` (batch = num_prompts, an upper bound);
otherwise it is the peak concurrent requests the tool reports. The file names neither the
vLLM version nor the weight format: pass ``--tool-version`` and ``--quant`` (a
``--metadata version=…`` entry is read).
"""

from __future__ import annotations

import json
import re
import statistics
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
    quant_name,
    write_import,
)
from edgeprof.table import Measurement

TOOL = "vllm-bench-serve"
ENGINE = "vllm"
PATTERNS = ("*.json",)
METRICS = ("ttft", "tpot", "itl", "e2el")
_STAT = re.compile(r"^(mean|median|std|p[0-9.]+)_(ttft|tpot|itl|e2el)_ms$")


def _results(path: Path) -> list[dict[str, Any]]:
    """One result object, or several appended ones (one JSON object per line)."""
    text = path.read_text() if path.exists() else ""
    if not text.strip():
        return [load_json(path, TOOL)]  # raises the right one-line error
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = [load_line(path, i, line) for i, line in enumerate(text.splitlines(), 1)
                if line.strip()]
    results = data if isinstance(data, list) else [data]
    if not all(isinstance(r, dict) for r in results):
        raise fail(path, "is not a vllm bench serve result object.")
    return results


def load_line(path: Path, i: int, line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise fail(path, f"line {i} is not valid JSON ({exc.msg}); pass a vllm bench serve "
                         "--save-result file.") from None


def _batch(path: Path, res: dict[str, Any], where: str,
           options: ImportOptions) -> tuple[int, str]:
    if options.batch:
        return options.batch, "--batch"
    conc = integer(res, "max_concurrency", path, where, required=False)
    if conc:
        return conc, "max_concurrency"
    if str(res.get("request_rate", "inf")) == "inf":
        prompts = integer(res, "num_prompts", path, where, required=False) or integer(
            res, "completed", path, where)
        assert prompts is not None
        return max(prompts, 1), "num_prompts (request_rate inf, no max_concurrency: upper bound)"
    peak = integer(res, "max_concurrent_requests", path, where, required=False)
    if peak:
        return peak, "max_concurrent_requests (peak)"
    raise fail(path, f"{where} lacks the field 'max_concurrency' (and the request rate is "
                     "finite); pass --batch.")


def _summary(res: dict[str, Any]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for key, value in res.items():
        m = _STAT.match(key)
        if m and isinstance(value, int | float):
            out.setdefault(m[2], {})[m[1]] = float(value)
    return out


def _rows(path: Path, res: dict[str, Any], i: int, options: ImportOptions
          ) -> tuple[list[Measurement], str]:
    where = f"result {i}"
    meta_version = res.get("vllm_version") or res.get("version")
    version = options.tool_version or (str(meta_version) if meta_version else UNRECORDED)
    model = model_name(options, [res.get("model_id"), res.get("tokenizer_id")], path, TOOL)
    quant = quant_name(options, None, path, TOOL)
    engine = engine_name(options, ENGINE, path, TOOL)
    batch, batch_from = _batch(path, res, where, options)
    base = common(options, TOOL, version, engine, model, quant)
    base.update({"batch": batch, "concurrency": batch, "batch_from": batch_from,
                 "request_rate": str(
        res.get("request_rate", "inf")), "vllm_backend": res.get("backend")})
    if isinstance(res.get("ttfts"), list):
        return _detailed(path, res, where, base), version
    completed = integer(res, "completed", path, where)
    if not completed:
        raise fail(path, f"{where}: field 'completed' is 0; no request finished.")
    tin = integer(res, "total_input_tokens", path, where)
    tout = integer(res, "total_output_tokens", path, where)
    assert tin is not None and tout is not None
    n_in, n_out = max(round(tin / completed), 1), max(round(tout / completed), 1)
    stats = _summary(res)
    if "ttft" not in stats and "e2el" not in stats:
        raise fail(path, f"{where} lacks the field 'median_ttft_ms' (and every other TTFT or "
                         "E2EL statistic).")

    def pick(metric: str) -> float | None:
        s = stats.get(metric, {})
        value = s.get("median", s.get("mean"))
        return value / 1e3 if value is not None and value > 0 else None

    tpot = pick("tpot")
    row = Measurement(
        **base, input_tokens=n_in, output_tokens=n_out, repeat=0, ttft_s=pick("ttft"),
        tbt_s=pick("itl"), decode_s=tpot * (n_out - 1) if tpot and n_out > 1 else None,
        e2e_s=pick("e2el"), summary_ms=stats, requests=completed,
        failed_requests=integer(res, "failed", path, where, required=False),
        duration_s=number(res, "duration", path, where, required=False),
        statistic="median", phase="serve")
    return [row], version


def _detailed(path: Path, res: dict[str, Any], where: str,
              base: dict[str, Any]) -> list[Measurement]:
    ttfts, itls = res["ttfts"], res.get("itls")
    ins, outs = res.get("input_lens"), res.get("output_lens")
    for key, value in (("itls", itls), ("input_lens", ins), ("output_lens", outs)):
        if not isinstance(value, list) or len(value) != len(ttfts):
            raise fail(path, f"{where}: field {key!r} is not a list as long as 'ttfts'.")
    assert isinstance(itls, list) and isinstance(ins, list) and isinstance(outs, list)
    errors = res.get("errors") or [""] * len(ttfts)
    rows = []
    for j, (ttft, gaps, n_in, n_out) in enumerate(zip(ttfts, itls, ins, outs, strict=True)):
        if errors[j] or not ttft:
            rows.append(Measurement(**base, input_tokens=max(int(n_in or 1), 1),
                                    output_tokens=max(int(n_out or 1), 1), repeat=0,
                                    status="error", error=str(errors[j] or "no first token"),
                                    phase="serve"))
            continue
        if not isinstance(gaps, list) or not all(isinstance(g, int | float) for g in gaps):
            raise fail(path, f"{where}: field 'itls' item {j} is not a list of times.")
        decode = float(sum(gaps))
        rows.append(Measurement(
            **base, input_tokens=max(int(n_in), 1), output_tokens=max(int(n_out), 1), repeat=0,
            ttft_s=float(ttft), token_times_s=[float(g) for g in gaps],
            decode_s=decode if gaps else None,
            tbt_s=float(statistics.median(gaps)) if gaps else None,
            e2e_s=float(ttft) + decode, request_index=j, phase="serve"))
    return rows


def vllm_bench_rows(path: Path | str, options: ImportOptions) -> ImportResult:
    path = Path(path)
    result = ImportResult(rows=[], tool=TOOL, assumptions=[
        "summary results: the median of each latency statistic (mean where no median)",
        "summary results: lengths are total tokens / completed requests",
    ])
    for f in input_files(path, PATTERNS, TOOL):
        if path.is_dir() and f.name.endswith(".pytorch.json"):
            continue  # the PyTorch-benchmark-format copy vllm writes beside each result
        result.files.append(str(f))
        for i, res in enumerate(_results(f), 1):
            rows, version = _rows(f, res, i, options)
            result.rows += rows
            result.versions.add(version)
    return result.finish("the result file names no vLLM version")


def import_vllm_bench(path: Path | str, out: Path | str, **options: Any) -> Path:
    """Write a sweep folder from vllm bench serve results; returns the measurements path."""
    opts = ImportOptions(**options)
    result = vllm_bench_rows(path, opts)
    return write_import(out, result, opts)
