"""Import NVIDIA GenAI-Perf (``profile_export_genai_perf.json``) and AIPerf
(``profile_export_aiperf.json``) aggregate exports.

Both write one JSON object whose metrics are ``{"unit": …, "avg": …, "p50": …, "p99": …,
"min": …, "max": …, "std": …}``: ``time_to_first_token``, ``inter_token_latency``,
``request_latency`` (ms), ``input_sequence_length`` and ``output_sequence_length`` (tokens),
plus ``input_config`` (the run's settings). One file is one load point, so one row:

* lengths: the measured ``input_sequence_length`` / ``output_sequence_length`` averages;
* ``ttft_s``, ``tbt_s`` (ITL) and ``e2e_s`` (request latency): the p50, or ``avg`` where the
  export has no p50 (``--statistic avg`` picks the mean); every statistic is kept in
  ``summary_ms``; ``decode_s`` = ITL × (output_tokens − 1);
* ``batch``: the concurrency in ``input_config`` (GenAI-Perf ``concurrency`` or
  ``perf_analyzer.stimulus.concurrency``, AIPerf ``loadgen.concurrency``), else the
  ``…-concurrencyN`` artifact folder name, else ``--batch``;
* AIPerf GPU telemetry (``gpu_power_usage`` avg, W) becomes ``avg_power_w``.

Neither export names the tool version, the weight format or (usually) the serving engine:
pass ``--tool-version``, ``--quant`` and ``--engine``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from edgeprof.errors import UserInputError
from edgeprof.importers._tool import (
    UNRECORDED,
    ImportOptions,
    ImportResult,
    common,
    engine_name,
    fail,
    input_files,
    load_json,
    model_name,
    quant_name,
    write_import,
)
from edgeprof.table import Measurement

PATTERNS = ("profile_export*genai_perf.json", "profile_export*aiperf.json", "*genai_perf.json",
            "*aiperf.json")
_TO_S = {"ms": 1e-3, "msec": 1e-3, "s": 1.0, "sec": 1.0, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
_ENGINES = {"tensorrtllm": "trtllm", "trtllm": "trtllm", "tensorrt-llm": "trtllm",
            "vllm": "vllm"}
STATISTICS = ("p50", "avg")


def _tool(path: Path, data: dict[str, Any]) -> str:
    cfg = data.get("input_config") or {}
    if "aiperf" in path.name or "loadgen" in cfg or "cli_command" in cfg:
        return "aiperf"
    return "genai-perf"


def _metric(path: Path, data: dict[str, Any], key: str, *, unit_kind: str,
            statistic: str, required: bool = True) -> tuple[float | None, dict[str, float]]:
    """(value in s or tokens, every statistic as given) of one exported metric."""
    m = data.get(key)
    if m is None:
        if required:
            raise fail(path, f"lacks the field {key!r}.")
        return None, {}
    if not isinstance(m, dict) or not any(isinstance(v, int | float) for v in m.values()):
        raise fail(path, f"field {key!r} is not a statistics object (unit, avg, p50, …).")
    stats = {k: float(v) for k, v in m.items() if isinstance(v, int | float)
             and not isinstance(v, bool)}
    order = (statistic, "avg") if statistic != "avg" else ("avg",)
    value = next((stats[s] for s in order if s in stats), None)
    if value is None:
        raise fail(path, f"field {key!r} has neither {statistic!r} nor 'avg'.")
    if unit_kind == "time":
        unit = str(m.get("unit", "ms")).strip().lower()
        if unit not in _TO_S:
            raise fail(path, f"field {key!r} has unit {m.get('unit')!r}; expected ms, s, us "
                             "or ns.")
        if value <= 0:
            raise fail(path, f"field {key!r} {statistic} is {value!r}; a time must be > 0.")
        return value * _TO_S[unit], stats
    if value < 1:
        raise fail(path, f"field {key!r} is {value!r} tokens; expected ≥ 1.")
    return value, stats


def _dig(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def _concurrency(path: Path, cfg: dict[str, Any], options: ImportOptions) -> tuple[int, str]:
    if options.batch:
        return options.batch, "--batch"
    for keys in (("concurrency",), ("perf_analyzer", "stimulus", "concurrency"),
                 ("loadgen", "concurrency")):
        value = _dig(cfg, *keys)
        if isinstance(value, int) and value > 0:
            return value, "input_config." + ".".join(keys)
    m = re.search(r"concurrency(\d+)", str(path.parent.name))
    if m and int(m[1]) > 0:
        return int(m[1]), f"artifact folder name {path.parent.name!r}"
    raise fail(path, "input_config names no concurrency (concurrency, "
                     "perf_analyzer.stimulus.concurrency or loadgen.concurrency); pass --batch.")


def _models(cfg: dict[str, Any]) -> list[str | None]:
    out: list[str | None] = []
    for keys in (("endpoint", "model_names"), ("model_names",), ("model",)):
        value = _dig(cfg, *keys)
        if isinstance(value, list):
            out += [str(v) for v in value]
        elif isinstance(value, str):
            out.append(value)
    return out


def _power(data: dict[str, Any]) -> float | None:
    gpus = _dig(data, "telemetry_data", "endpoints")
    if not isinstance(gpus, dict):
        return None
    watts = []
    for endpoint in gpus.values():
        for gpu in (_dig(endpoint, "gpus") or {}).values():
            avg = _dig(gpu, "metrics", "gpu_power_usage", "avg")
            if isinstance(avg, int | float):
                watts.append(float(avg))
    return sum(watts) if watts else None


def _row(path: Path, data: dict[str, Any], options: ImportOptions, statistic: str
         ) -> tuple[Measurement, str, str]:
    tool = _tool(path, data)
    cfg = data.get("input_config") or {}
    if not isinstance(cfg, dict):
        raise fail(path, "field 'input_config' is not an object.")
    isl, isl_stats = _metric(path, data, "input_sequence_length", unit_kind="tokens",
                             statistic="avg")
    osl, _ = _metric(path, data, "output_sequence_length", unit_kind="tokens", statistic="avg")
    ttft, ttft_stats = _metric(path, data, "time_to_first_token", unit_kind="time",
                               statistic=statistic)
    itl, itl_stats = _metric(path, data, "inter_token_latency", unit_kind="time",
                             statistic=statistic, required=False)
    e2e, e2e_stats = _metric(path, data, "request_latency", unit_kind="time",
                             statistic=statistic, required=False)
    assert isl is not None and osl is not None
    n_in, n_out = max(round(isl), 1), max(round(osl), 1)
    batch, batch_from = _concurrency(path, cfg, options)
    version = options.tool_version or str(data.get("version") or UNRECORDED)
    found_engine = _ENGINES.get(str(cfg.get("backend", "")).lower())
    base = common(options, tool, version, engine_name(options, found_engine, path, tool),
                  model_name(options, _models(cfg), path, tool),
                  quant_name(options, None, path, tool))
    power = _power(data)
    row = Measurement(
        **base, input_tokens=n_in, output_tokens=n_out, batch=batch, concurrency=batch,
        repeat=0, ttft_s=ttft,
        tbt_s=itl, decode_s=itl * (n_out - 1) if itl and n_out > 1 else None, e2e_s=e2e,
        avg_power_w=power, power_source="AIPerf GPU telemetry (DCGM gpu_power_usage avg)"
        if power is not None else None, batch_from=batch_from, statistic=statistic,
        summary_ms={"time_to_first_token": ttft_stats, "inter_token_latency": itl_stats,
                    "request_latency": e2e_stats},
        input_sequence_length=isl_stats, phase="serve")
    return row, tool, version


def genai_perf_rows(path: Path | str, options: ImportOptions,
                    statistic: str = "p50") -> ImportResult:
    if statistic not in STATISTICS:
        raise UserInputError(f"--statistic {statistic!r}: choose one of {', '.join(STATISTICS)}.")
    path = Path(path)
    result = ImportResult(rows=[], tool="genai-perf", assumptions=[
        f"latencies: the {statistic} of each exported statistic ({statistic} falls back to avg)",
        "lengths: the measured input/output sequence length averages",
    ])
    tools = set()
    for f in input_files(path, PATTERNS, "GenAI-Perf / AIPerf"):
        data = load_json(f, "GenAI-Perf / AIPerf")
        if not isinstance(data, dict):
            raise fail(f, "is not a GenAI-Perf / AIPerf profile export object.")
        row, tool, version = _row(f, data, options, statistic)
        result.files.append(str(f))
        result.rows.append(row)
        result.versions.add(version)
        tools.add(tool)
    result.tool = "+".join(sorted(tools))
    return result.finish("the export names no tool version")


def import_genai_perf(path: Path | str, out: Path | str, statistic: str = "p50",
                      **options: Any) -> Path:
    """Write a sweep folder from GenAI-Perf / AIPerf exports; returns the measurements path."""
    opts = ImportOptions(**options)
    result = genai_perf_rows(path, opts, statistic)
    return write_import(out, result, opts)
