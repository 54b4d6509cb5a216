"""The shipped desktop/datacenter profiles against served, measured batch-1 runs (JSON).

``benchmarks/data/datacenter-served.csv`` holds measured single-request figures. Since
2026-12-07 (commit 8433356) they are **in the fit** of the shipped terms
(``benchmarks/calibration_datacenter.py``), so this script's numbers are in-sample; their
held-out error is that script's leave-one-source-out. Run at commit 2289212 (the profiles
before these figures joined) it is the held-out check they were first judged by
(docs/devices-profiles.md records both). The figures:

* NVIDIA NIM with its TensorRT-LLM backend, Llama-3-8B-Instruct on A100-SXM4-80GB and H100
  SXM (FP16, FP8), concurrency 1, GenAI-Perf: TTFT, inter-token latency (= TPOT) and request
  latency (NVIDIA DLI "inference GPU cluster sizing" dataset ``nim.csv``).
* TensorRT-LLM 0.9.0, Llama-2-13B batch 1 on H100 SXM (FP8), H200 SXM (FP8), L40S (FP8) and
  A100-SXM4-80GB (printed "Mixed", taken as FP16): first-token latency, token-to-token latency
  and latency (the same course's ``trt_llm_0_9_0_dli.csv``).
* vLLM 0.7.2 single-stream end-to-end latency (GuideLLM), DeepSeek-R1-Distill-Qwen 1.5B / 7B /
  14B and -Llama-8B at BF16, W8A8, W4A16 and FP8 on RTX A6000, A100 and H100, 8 prompt /
  generation shapes (Neural Magic / Red Hat model cards).

Each figure is predicted as a user would: ``edgeprof predict --device D --engine E`` with the
shipped profile of the card (``Profile.load(D).predict(..., engine=E)``); TPOT is predicted as
``decode_s / (output_tokens - 1)``. Printed: median |predicted/measured − 1| and the share
inside the 90 % interval, per engine × metric and per source, and every figure.

    python benchmarks/datacenter_served.py
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from edgeprof.fit import Profile
from edgeprof.importers import read_figures

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibration_datacenter import SERVED, source_name  # a sibling script, not a package


def estimate(prof: Profile, r: Any) -> tuple[str, Any, float, int]:
    """(metric, predicted quantity, measured seconds, divisor of the prediction) of a row."""
    p = prof.predict(r.model, r.quant, r.input_tokens, max(r.output_tokens, 2), r.batch,
                     r.power_mode, engine=r.engine)
    if r.published_metric == "ttft_ms":
        return "ttft", p.ttft_s, r.ttft_s, 1
    if r.published_metric == "tpot_ms":  # decode_s covers output_tokens - 1 steps
        return "tpot", p.decode_s, r.tbt_s, max(r.output_tokens - 1, 1)
    return "e2e", p.e2e_s, r.e2e_s, 1


def summarize_ratios(sel: list[dict[str, Any]]) -> dict[str, Any]:
    return {"n": len(sel),
            "median_abs_error": float(np.median([abs(x["ratio"] - 1) for x in sel])),
            "median_ratio": float(np.median([x["ratio"] for x in sel])),
            "coverage_90": float(np.mean([x["inside_90"] for x in sel]))}


def judge(profiles: dict[str, Profile], r: Any) -> dict[str, Any]:
    """One figure predicted with its card's shipped profile: prediction, interval, ratio."""
    prof = profiles.setdefault(r.device, Profile.load(r.device))
    metric, est, meas, steps = estimate(prof, r)
    value, lo, hi = est.value / steps, est.lo / steps, est.hi / steps
    return {"device": r.device, "engine": r.engine, "model": r.model, "quant": r.quant,
            "batch": r.batch, "input_tokens": r.input_tokens, "output_tokens": r.output_tokens,
            "metric": metric, "measured_s": meas, "predicted_s": value,
            "interval_90_s": [lo, hi], "ratio": value / meas, "inside_90": lo <= meas <= hi,
            "provenance": est.provenance, "line": r.line}


def dump_report(head: dict[str, Any], skipped: list[Any], out: list[dict[str, Any]],
                *groups: str) -> None:
    """The JSON report: ``head`` (command, what the figures are), a summary per group (each
    of ``groups`` a format string over a figure's fields, e.g. ``"{engine} {metric}"``), and
    every figure."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for x in out:
        for g in groups:
            by[g.format(**x)].append(x)
    json.dump({**head, "skipped": skipped,
               "summary": {k: summarize_ratios(v) for k, v in sorted(by.items())},
               "figures": out}, sys.stdout, indent=2)
    print()


def main() -> int:
    rows, skipped = read_figures(SERVED)
    profiles: dict[str, Profile] = {}
    out = [judge(profiles, r) | {"source": source_name(r.model_dump())} for r in rows]
    dump_report({"command": "python benchmarks/datacenter_served.py",
                 "in_sample": "these figures are in the fit of the shipped terms since commit "
                              "8433356; their held-out error is calibration_datacenter.py's "
                              "leave-one-source-out (at commit 2289212 this script was held "
                              "out)"}, skipped, out,
                "{engine} {metric}", "{source} / {metric}", "{engine} {metric} on {device}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
