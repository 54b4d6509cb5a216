"""How close batch-1 decode comes to the host's memory bandwidth (torch engine, CPU).

Prints JSON: per quant format, the weight bytes one decode step streams
(``arch.decode_stream_bytes``), the median time per decode token, the achieved GB/s, the
measured memory bandwidth, and their ratio.

    python benchmarks/decode_bandwidth.py [--model qwen2.5-0.5b] [--quants fp32,bf16,int8,int4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from edgeprof.catalog import resolve_model
from edgeprof.device import measure_memory_bandwidth
from edgeprof.engines import TorchEngine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="qwen2.5-0.5b")
    ap.add_argument("--quants", default="fp32,bf16,int8,int4")
    ap.add_argument("--input-tokens", type=int, default=32)
    ap.add_argument("--output-tokens", type=int, default=33)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--cpu-linear", default="onednn", choices=["onednn", "aten"])
    args = ap.parse_args()

    arch = resolve_model(args.model)
    bw = measure_memory_bandwidth(seconds=1.0, method="read")
    engine = TorchEngine(device="cpu", cpu_linear=args.cpu_linear)
    rows = []
    for quant in args.quants.split(","):
        support = engine.support(arch, quant)
        if not support.runnable:
            rows.append({"quant": quant, "status": "unsupported", "reason": support.reason})
            continue
        t0 = time.perf_counter()
        engine.load(arch, quant)
        load_s = time.perf_counter() - t0
        engine.run(args.input_tokens, 4, 1)  # warm-up, discarded
        steps: list[float] = []
        for _ in range(args.repeats):
            steps += engine.run(args.input_tokens, args.output_tokens, 1).token_times_s[1:]
        tbt = statistics.median(steps)
        stream = arch.decode_stream_bytes(quant)
        achieved = stream / tbt / 1e9
        rows.append({
            "quant": quant, "impl": support.impl.value, "kernel": engine.settings()["kernel"],
            "dense_linear_kernel": engine.settings()["dense_linear_kernel"],
            "load_s": round(load_s, 2), "loaded_weight_bytes": engine.loaded_weight_bytes(),
            "decode_stream_bytes": stream, "median_tbt_s": round(tbt, 5),
            "tbt_p10_s": round(statistics.quantiles(steps, n=10)[0], 5),
            "tbt_p90_s": round(statistics.quantiles(steps, n=10)[-1], 5),
            "decode_steps": len(steps), "achieved_gbs": round(achieved, 2),
            "ratio_to_measured_bandwidth": round(achieved / bw.gbs, 3),
        })
        engine.unload()
    print(json.dumps({
        "model": arch.name, "params": arch.params, "batch": 1,
        "input_tokens": args.input_tokens, "output_tokens": args.output_tokens,
        "measured_bandwidth": {"gbs": round(bw.gbs, 2), "best_gbs": round(bw.best_gbs, 2),
                               "method": bw.method, "size_bytes": bw.size_bytes,
                               "threads": bw.threads, "provenance": bw.provenance},
        "settings": {k: v for k, v in engine.settings().items() if k in ("threads", "device")},
        "versions": engine.versions(), "results": rows,
    }, indent=2))


if __name__ == "__main__":
    main()
