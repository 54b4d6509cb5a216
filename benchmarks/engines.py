"""Compare the engines available here, per quant format, on one model (prints JSON).

For each engine × quant: how it runs (``support``), load time, loaded weight bytes, median
TTFT, median time per output token (TBT) over all decode steps of all repeats, and the
achieved weight-streaming bandwidth of decode, computed two ways:

- ``stream_gbs_catalog`` = ``arch.decode_stream_bytes(quant)`` / TBT — the bytes the catalog
  says one decode step must read (projections + LM head + norms), the same basis for every
  engine;
- ``stream_gbs_loaded`` = the engine's ``loaded_weight_bytes()`` / TBT — what this engine
  actually stores (for example fp32 embeddings in ONNX Runtime's CPU graphs); it counts the
  embedding table, which a decode step streams only when it is tied to the LM head.

    python benchmarks/engines.py [--model qwen2.5-0.5b | qwen2.5-0.5b-scaled-4L]
        [--engines onnxruntime,torch,llama.cpp,tensorrt-llm] [--quants fp32,fp16,int8,int4]
        [--input-tokens 64] [--output-tokens 32] [--repeats 3] [--threads N]

Timings on a shared machine are noisy; the JSON records the host's CPU count and load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Any

from edgeprof.catalog import resolve_model
from edgeprof.engines import get_engine
from edgeprof.errors import EdgeprofError


def _engine(name: str, device: str, threads: int | None) -> Any:
    options: dict[str, Any] = {}
    if threads is not None and name in ("onnxruntime", "torch", "llama.cpp"):
        options["threads"] = threads
    return get_engine(name, device=device, **options)


def bench(engine: Any, arch: Any, quant: str, args: argparse.Namespace) -> dict[str, Any]:
    support = engine.support(arch, quant)
    row: dict[str, Any] = {"quant": quant, "impl": support.impl.value, "note": support.reason}
    if not support.runnable:
        row["status"] = "unsupported"
        return row
    t0 = time.perf_counter()
    engine.load(arch, quant)
    row["load_s"] = round(time.perf_counter() - t0, 2)
    engine.run(args.input_tokens, 4, 1)  # warm-up, discarded
    ttfts, steps, peaks = [], [], []
    for _ in range(args.repeats):
        r = engine.run(args.input_tokens, args.output_tokens, 1)
        ttfts.append(r.ttft_s)
        steps += r.token_times_s[1:]
        if r.peak_mem_bytes:
            peaks.append(r.peak_mem_bytes)
    tbt = statistics.median(steps)
    loaded = engine.loaded_weight_bytes()
    stream = arch.decode_stream_bytes(quant)
    deciles = statistics.quantiles(steps, n=10)
    row.update({
        "status": "ok",
        "ttft_s": round(statistics.median(ttfts), 5),
        "tbt_s": round(tbt, 5), "tbt_p10_s": round(deciles[0], 5),
        "tbt_p90_s": round(deciles[-1], 5), "decode_steps": len(steps),
        "decode_stream_bytes": stream, "loaded_weight_bytes": loaded,
        "stream_gbs_catalog": round(stream / tbt / 1e9, 2),
        "stream_gbs_loaded": round(loaded / tbt / 1e9, 2) if loaded else None,
        "peak_mem_bytes": max(peaks) if peaks else None,
        "kernel": engine.settings().get("kernel"),
    })
    engine.unload()
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--engines", default="onnxruntime,torch,llama.cpp,tensorrt-llm")
    ap.add_argument("--quants", default="fp32,fp16,int8,int4")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--input-tokens", type=int, default=64)
    ap.add_argument("--output-tokens", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    arch = resolve_model(args.model)
    out: dict[str, Any] = {
        "model": arch.name, "device": args.device,
        "input_tokens": args.input_tokens, "output_tokens": args.output_tokens,
        "repeats": args.repeats,
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(),
                 "loadavg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None},
        "bandwidth_basis": {"stream_gbs_catalog": "arch.decode_stream_bytes(quant) / tbt",
                            "stream_gbs_loaded": "engine.loaded_weight_bytes() / tbt"},
        "engines": {},
    }
    for name in args.engines.split(","):
        try:
            engine = _engine(name, args.device, args.threads)
        except EdgeprofError as exc:
            out["engines"][name] = {"status": "unavailable", "reason": str(exc)}
            continue
        rows = []
        for quant in args.quants.split(","):
            try:
                rows.append(bench(engine, arch, quant, args))
            except EdgeprofError as exc:
                rows.append({"quant": quant, "status": "error", "error": str(exc)})
            print(f"{name} {quant}: {rows[-1].get('status')}", file=sys.stderr)
        out["engines"][name] = {"versions": engine.versions(), "rows": rows}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
