"""How the shipped Jetson profiles predict every published TensorRT figure (JSON).

The check a user would run: ``edgeprof predict --device D --engine trtllm`` on the points of
``benchmarks/data/tensorrt-edge-llm-bench*.csv`` (batch 1 and 8), compared with what NVIDIA
published. These figures are *in the fit* of the shipped terms (batch 1) or held out (batch 8),
so this is in-sample for batch 1; ``benchmarks/calibration.py`` gives the held-out error.

    python benchmarks/shipped_trtllm.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from edgeprof.fit import Profile, observations
from edgeprof.importers import WITHDRAWN_RELEASES, read_figures

DATA = Path(__file__).resolve().parent / "data"
FILES = ("tensorrt-edge-llm-bench.csv", "tensorrt-edge-llm-bench-more.csv",
         "tensorrt-edge-llm-nvfp4.csv")


def main() -> int:
    rows = [r.model_dump() for f in FILES for r in read_figures(DATA / f)[0]
            if r.engine_detail not in WITHDRAWN_RELEASES]
    out, profiles = [], {}
    for o in observations(rows):
        prof = profiles.setdefault(o.device, Profile.load(o.device))
        p = prof.predict(o.model, o.quant, o.input_tokens, max(o.output_tokens, 2), o.batch,
                         o.mode, engine="trtllm")
        if o.metric == "ttft":
            est, meas = p.ttft_s, o.value
        else:
            steps = max(o.output_tokens - 1, 1)
            est, meas = p.decode_s, o.value * steps
        out.append({"device": o.device, "model": o.model, "quant": o.quant, "batch": o.batch,
                    "input_tokens": o.input_tokens, "metric": o.metric, "source": o.source,
                    "ratio": est.value / meas, "inside_90": est.lo <= meas <= est.hi})
    summary = {}
    for key in ("ttft", "decode"):
        for b, quant in ((1, None), (8, None), (1, "nvfp4"), (8, "nvfp4")):
            sel = [x for x in out if x["metric"] == key and x["batch"] == b
                   and (quant is None or x["quant"] == quant)]
            if sel:
                summary[f"{key}_batch{b}" + (f"_{quant}" if quant else "")] = {
                    "n": len(sel),
                    "median_abs_error": float(np.median([abs(x["ratio"] - 1) for x in sel])),
                    "coverage_90": float(np.mean([x["inside_90"] for x in sel]))}
    json.dump({"command": "python benchmarks/shipped_trtllm.py", "summary": summary,
               "figures": out}, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
