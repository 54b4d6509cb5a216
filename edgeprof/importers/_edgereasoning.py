"""Import the EdgeReasoning Jetson AGX Orin measurements (arXiv 2511.01866).

Assumptions, stated so nobody mistakes them for facts in the data:

* quant ``bf16``: the study ran vLLM with its default ``dtype="auto"``, which takes the
  checkpoint's ``torch_dtype``; the DeepSeek-R1 distills ship as bfloat16.
* device ``jetson-agx-orin-64gb``, power mode ``MAXN``, engine ``vllm``, batch 1, as published.
* decode input lengths are kept as given: ``decode.json`` lists 130, 258, … (the prompts carried
  two extra tokens) where ``decode_parameters.json`` lists the nominal 128, 256, …; rows use
  ``decode.json``'s value where it covers the model and the nominal value otherwise (the 8B).
* a record with one output token has no decode time (``decode_s`` is None), and decode rows
  have no TTFT; ``energy_j`` is the energy of the whole 1 s-granular monitoring window.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from edgeprof import __version__
from edgeprof.catalog import resolve_model
from edgeprof.errors import DataFormatError, UserInputError
from edgeprof.table import (
    MEASUREMENTS_FILE,
    Measurement,
    RunConditions,
    write_measurements,
    write_run_conditions,
)

SOURCE = "imported:edgereasoning"
DEVICE = "jetson-agx-orin-64gb"
FILES = ("prefill.json", "decode_parameters.json")
_COMMON: dict[str, Any] = {
    "device": DEVICE, "engine": "vllm", "quant": "bf16", "batch": 1, "repeat": 0,
    "power_mode": "MAXN", "source": SOURCE, "quant_impl": "native",
    "power_source": "tegrastats, 1 s interval, GPU/SoC rail (as published)",
}


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataFormatError(f"{path} is missing; pass the edgereasoning reference folder "
                              f"holding {', '.join(FILES)}.") from None
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path} is not valid JSON ({exc.msg}).") from None


def prefill_rows(folder: Path) -> list[Measurement]:
    data = _load(folder / "prefill.json").get("data", {})
    rows = []
    for name, cols in data.items():
        model = resolve_model(name).name
        for i, tokens in enumerate(cols["input_tokens"]):
            ttft = cols["ttft_ms"][i] / 1e3
            rows.append(Measurement(
                **_COMMON, model=model, input_tokens=int(tokens), output_tokens=1,
                ttft_s=ttft, e2e_s=ttft, decode_s=0.0, avg_power_w=cols["avg_power_w"][i],
                energy_j=cols["total_energy_j"][i], prefill_power_w=cols["avg_power_w"][i],
                prefill_energy_j=cols["total_energy_j"][i], phase="prefill"))
    return rows


def _actual_inputs(folder: Path) -> dict[tuple[str, int, int], tuple[int, float | None]]:
    """(model, nominal input, output) -> (input as given in decode.json, avg power)."""
    path = folder / "decode.json"
    if not path.exists():
        return {}
    out = {}
    for name, cols in _load(path).items():
        model = resolve_model(name).name
        for i, (tokens, o) in enumerate(zip(cols["input_tokens"], cols["output_tokens"],
                                            strict=True)):
            nominal = (int(tokens) // 128) * 128
            out[(model, nominal, int(o))] = (int(tokens), cols["avg_power_w"][i])
    return out


def decode_rows(folder: Path) -> list[Measurement]:
    params = _load(folder / "decode_parameters.json")
    actual = _actual_inputs(folder)
    rows = []
    for name, records in params.items():
        if name.startswith("_"):
            continue
        model = resolve_model(name).name
        for r in records:
            i, o = int(r["input_tokens"]), int(r["output_tokens"])
            given, power = actual.get((model, i, o), (i, None))
            t = r.get("decode_time")
            ramp = None
            if r.get("P_inf") is not None:
                ramp = {"p_inf_w": r["P_inf"], "delta_p_w": r["delta_P"], "tau_s": r["tau"],
                        "r2": r.get("r2")}
            rows.append(Measurement(
                **_COMMON, model=model, input_tokens=given, output_tokens=o,
                decode_s=t if (t and o > 1) else None, avg_power_w=power,
                energy_j=r.get("tot_gpu_energy"), decode_power_ramp=ramp,
                nominal_input_tokens=i, phase="decode"))
    return rows


def import_edgereasoning(folder: Path | str, out: Path | str) -> Path:
    """Write ``out/measurements.jsonl`` and ``out/run.json``; returns the table path."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise UserInputError(f"{folder} is not a folder; pass the edgereasoning reference "
                             "folder, e.g. ../shared/reference/edgereasoning-jetson-agx-orin.")
    rows = prefill_rows(folder) + decode_rows(folder)
    if not rows:
        raise DataFormatError(f"{folder} holds no EdgeReasoning measurements.")
    out.mkdir(parents=True, exist_ok=True)
    path = write_measurements(out / MEASUREMENTS_FILE, rows)
    write_run_conditions(out, RunConditions(
        edgeprof_version=__version__, device=DEVICE, power_mode="MAXN", engine="vllm",
        source=SOURCE, imported_from=str(folder),
        assumptions=["quant bf16 (vLLM dtype=auto on bfloat16 checkpoints)", "batch 1",
                     "decode input tokens as given in decode.json (prompt +2 tokens)"]))
    return path
