"""Import the published Jetson LLM latency figures (``jetson-published-benchmarks``).

One CSV (``benchmarks.csv``) of figures others measured and published: board, power mode,
engine, model, quant, input/output tokens, batch, metric, value, source, note. Each figure
becomes one measurement row labeled ``imported:jetson-benchmarks`` (``repeat`` numbers figures
of the same point). How a metric becomes a row, stated so nobody mistakes it for data:

* ``decode_tok_s`` (one sequence): ``tbt_s = 1/value``, ``decode_s = (O−1)/value``.
* ``decode_tok_s_aggregate`` (sum over a batch): ``tbt_s = B/value`` per step.
* ``output_throughput_tok_s`` (``vllm bench serve`` at concurrency ``B``): every request's
  end-to-end time ``e2e_s = B·O/value`` (prefill included, closed loop, as ``batch`` B).
* ``prefill_tok_s``: ``ttft_s = I/value``; ``ttft_ms``: ``ttft_s = value/1000``.
* ``tpot_ms`` (time per output token of each sequence; at batch B one step serves all B):
  ``tbt_s = value/1000``, ``decode_s = (O−1)·value/1000``. ``e2e_ms``: ``e2e_s = value/1000``
  (a static batch: B prompts prefilled and decoded together).

Boards map to shipped profiles (the IGX Orin iGPU to the AGX Orin 64GB, "AGX Orin (64GB
assumed)" likewise; a desktop or datacenter card as its CUDA name would, through
``gpu_profile``, and a bare "H100" / "A100" to the SXM parts); a mode the profile lacks or
"not stated" takes the profile's default mode, and the row's ``mode_assumed`` says so.
Engines map to edgeprof's engine axis (Ollama is llama.cpp); quant strings to catalog formats
(Q4_K_M, q4f16, W4A16, 4-bit GGUF → int4; Q8_0 → int8; NVFP4 → nvfp4). Models missing from
the catalog are skipped and listed in ``run.json``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from edgeprof import __version__
from edgeprof.catalog import get_quant, resolve_model
from edgeprof.device._spec import DEFAULT_VARIANTS, load_device_spec
from edgeprof.device.nvidia import gpu_profile
from edgeprof.errors import DataFormatError, UnknownModelError, UnknownQuantError, UserInputError
from edgeprof.fit._engine_terms import normalize_engine
from edgeprof.table import (
    MEASUREMENTS_FILE,
    Measurement,
    RunConditions,
    write_measurements,
    write_run_conditions,
)

SOURCE = "imported:jetson-benchmarks"
#: Rows whose source is a model's estimate (e.g. AIConfigurator's database), not a run:
#: labeled as predicted by that model, never as an imported measurement.
ESTIMATE_SOURCE = "predicted:published-estimate"


def row_source(published_source: str) -> str:
    """A figure's label: an imported measurement, or a published estimate."""
    return ESTIMATE_SOURCE if "estimate" in published_source.lower() else SOURCE
COLUMNS = ("board", "power_mode", "engine", "model", "quant", "input_tokens", "output_tokens",
           "batch", "metric", "value", "unit", "source", "note")
METRICS = ("decode_tok_s", "decode_tok_s_aggregate", "output_throughput_tok_s",
           "prefill_tok_s", "ttft_ms", "tpot_ms", "e2e_ms")

# (pattern on the board name, lower case) -> shipped profile; first match wins.
JETSON_BOARDS: tuple[tuple[str, str], ...] = (
    (r"thor", "jetson-agx-thor"),
    (r"agx orin.*32", "jetson-agx-orin-32gb"),
    (r"(agx orin|igx orin)", "jetson-agx-orin-64gb"),
    (r"orin nx 8", "jetson-orin-nx-8gb"),
    (r"orin nx", "jetson-orin-nx-16gb"),
    (r"orin nano 4", "jetson-orin-nano-4gb"),
    (r"orin nano", "jetson-orin-nano-8gb"),
)
# Desktop / datacenter cards: a card's own name maps as a CUDA device name does
# (edgeprof.device.nvidia.gpu_profile, with separators as spaces); these catch what is left,
# a bare family name that tables print ("A100x1", "H100 (SXM/PCIe not stated)", "L4").
CARD_FAMILIES: tuple[tuple[str, str], ...] = (
    (r"h100(?!.*(pcie|nvl))", DEFAULT_VARIANTS["h100"]),
    (r"a100(?!.*pcie)", "a100-sxm4-80gb"),
    (r"\bl4\b", "l4"),
)
#: Published releases whose own page withdraws their figures; calibration and held-out checks
#: leave them out (the rows stay in the data files, marked in their note).
WITHDRAWN_RELEASES: dict[str, str] = {
    "tensorrt-edge-llm 0.8.0": "the TensorRT Edge-LLM benchmarks page says v0.8.0 had a "
                               "uniform performance regression, fixed in v0.9.0",
}
# Llama-3-8B has Llama-3.1-8B's layer shapes (only RoPE scaling and context length differ,
# which a latency model at <= 8K tokens does not see).
MODEL_ALIASES = {"qwen2.5-coder-1.5b": "qwen2.5-1.5b", "qwen3-4b-instruct-2507": "qwen3-4b",
                 "llama-3-8b": "llama-3.1-8b", "meta-llama-3-8b-instruct": "llama-3.1-8b"}


def board_profile(board: str) -> str:
    """The shipped profile a published board name means: a Jetson board by its name, a card
    by ``gpu_profile`` (one rule for "a GH200 is not an H200", "the NVL is not the SXM"), else
    a bare family name."""
    low = board.lower()
    for pattern, name in JETSON_BOARDS:
        if re.search(pattern, low):
            return name
    card = gpu_profile(re.sub(r"[-_]", " ", low))
    if card is not None:
        return card
    for pattern, name in CARD_FAMILIES:
        if re.search(pattern, low):
            return name
    raise DataFormatError(f"Unknown board {board!r}; known: AGX Thor, AGX/IGX Orin, Orin NX, "
                          "Orin Nano, H100 (SXM, NVL), H200, A100, L40S, L40, L4, RTX 4090, "
                          "RTX A6000.")


def map_quant(quant: str) -> str:
    """A published quant string → catalog format: a name ``get_quant`` knows (its aliases:
    ``INT4 AWQ``, ``Q4_K_M``, ``NVFP4``, …) as it reads it, else by the words a table uses."""
    try:
        return get_quant(quant).name
    except UnknownQuantError:
        pass
    low = quant.lower()
    if "nvfp4" in low:  # before fp16: Edge-LLM prints VLM rows as "NVFP4 / FP16"
        return "nvfp4"
    if "fp8" in low:
        return "fp8"
    if "q8" in low or "int8" in low or "w8a8" in low:
        return "int8"
    if any(s in low for s in ("q4", "int4", "w4a16", "4-bit")):
        return "int4"
    if "q0f16" in low or "fp16" in low or low == "f16":
        return "fp16"
    if "bf16" in low:
        return "bf16"
    raise DataFormatError(f"Unknown quant {quant!r} in the published figures.")


def map_power_mode(device: str, published: str) -> tuple[str | None, bool]:
    """(mode name in the profile, assumed?) for a published mode string."""
    spec = load_device_spec(device)
    names = [m.name for m in spec.power_modes]
    low = published.lower()
    for name in sorted(names, key=len, reverse=True):
        if name.lower() in low:
            # JetPack < 6.2 boards list "15W (top mode pre-6.2)": the profile's 15W mode
            # (68 GB/s EMC) is the nearest.
            return name, False
    return spec.default_power_mode, True


def _num(row: dict[str, str], key: str, path: Path, n: int) -> float:
    try:
        v = float(row[key])
    except (TypeError, ValueError):
        raise DataFormatError(f"{path}:{n}: {key} must be a number, not "
                              f"{row.get(key)!r}.") from None
    if not v > 0:
        raise DataFormatError(f"{path}:{n}: {key} must be > 0.")
    return v


def read_figures(path: Path) -> tuple[list[Measurement], list[str]]:
    """Rows and the skipped figures (one line each)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"{path} does not exist; pass the published benchmarks.csv.") \
            from None
    except UnicodeDecodeError:
        raise DataFormatError(f"{path} is not UTF-8 text.") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in COLUMNS[:11] if c not in (reader.fieldnames or [])]
    if missing:
        raise DataFormatError(f"{path} lacks the columns {', '.join(missing)}.")
    rows: list[Measurement] = []
    skipped: list[str] = []
    seen: dict[tuple[Any, ...], int] = {}
    for n, r in enumerate(reader, 2):
        metric = r["metric"].strip()
        if metric not in METRICS:
            skipped.append(f"line {n}: metric {metric!r} not imported")
            continue
        name = r["model"].strip().lower()
        try:
            model = resolve_model(MODEL_ALIASES.get(name, name)).name
        except UnknownModelError:
            skipped.append(f"line {n}: {r['model']} is not in the catalog")
            continue
        device = board_profile(r["board"])
        mode, assumed = map_power_mode(device, r["power_mode"] or "")
        i = int(_num(r, "input_tokens", path, n))
        o = int(_num(r, "output_tokens", path, n))
        b = int(_num(r, "batch", path, n))
        v = _num(r, "value", path, n)
        times: dict[str, float] = {}
        if metric == "decode_tok_s":
            times = {"tbt_s": 1.0 / v, "decode_s": (o - 1) / v}
        elif metric == "decode_tok_s_aggregate":
            times = {"tbt_s": b / v, "decode_s": (o - 1) * b / v}
        elif metric == "output_throughput_tok_s":
            times = {"e2e_s": b * o / v}
        elif metric == "prefill_tok_s":
            times = {"ttft_s": i / v}
        elif metric == "tpot_ms":
            times = {"tbt_s": v / 1e3, "decode_s": (o - 1) * v / 1e3}
        elif metric == "e2e_ms":
            times = {"e2e_s": v / 1e3}
        else:
            times = {"ttft_s": v / 1e3}
        engine = normalize_engine(r["engine"].split()[0])
        quant = map_quant(r["quant"])
        key = (device, engine, model, quant, i, o, b, mode)
        repeat = seen.get(key, 0)
        seen[key] = repeat + 1
        rows.append(Measurement(
            device=device, engine=engine, model=model, quant=quant, input_tokens=i,
            output_tokens=o, batch=b, repeat=repeat, power_mode=mode,
            source=row_source(r["source"]),
            quant_impl="native", **times, board=r["board"], published_power_mode=r["power_mode"],
            mode_assumed=assumed, engine_detail=r["engine"], quant_detail=r["quant"],
            published_metric=metric, published_value=v, published_source=r["source"],
            note=r.get("note") or None, line=n))
    return rows, skipped


def import_jetson_benchmarks(path: Path | str, out: Path | str) -> Path:
    """Write ``out/measurements.jsonl`` and ``out/run.json``; returns the table path."""
    path, out = Path(path), Path(out)
    if path.is_dir():
        path = path / "benchmarks.csv"
    rows, skipped = read_figures(path)
    if not rows:
        raise DataFormatError(f"{path} holds no importable figures.")
    out.mkdir(parents=True, exist_ok=True)
    table = write_measurements(out / MEASUREMENTS_FILE, rows)
    write_run_conditions(out, RunConditions(
        edgeprof_version=__version__, device="multiple (per row)", source=SOURCE,
        imported_from=str(path),
        assumptions=["decode_tok_s -> tbt_s = 1/value; aggregate -> B/value per step",
                     "output_throughput_tok_s at concurrency B -> e2e_s = B*O/value per request",
                     "a power mode the profile lacks or 'not stated' -> the profile's default "
                     "(mode_assumed true)",
                     "Q4_K_M/q4f16/W4A16/4-bit GGUF -> int4; Q8_0 -> int8; NVFP4 -> nvfp4; "
                     "Ollama -> llama.cpp",
                     *[f"skipped {s}" for s in skipped]]))
    return table
