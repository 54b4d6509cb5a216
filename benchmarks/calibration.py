"""Engine-term calibration on published Jetson figures, and its held-out error (JSON).

Data: ``/work/shared/reference/jetson-published-benchmarks/benchmarks.csv`` and
``benchmarks/data/tensorrt-edge-llm-bench.csv`` (TensorRT Edge-LLM ``llm_bench``, both read by
``edgeprof.importers.jetson_benchmarks``) and the EdgeReasoning AGX Orin vLLM measurements
(thinned to every ``--er-stride``-th row; each source weighs the same in the fit anyway).
Figures at batch/concurrency > 1 are left out of the fit: they are the held-out set of
``benchmarks/batched_decode.py``, which tests the batched-decode terms on them.
Prints leave-one-source-out, leave-one-board-out and leave-one-engine-out error (median
|pred/meas − 1| for decode time per token, TTFT and serving end-to-end time) and the coverage
of 90 % intervals whose width comes from the other groups' held-out errors.

    python benchmarks/calibration.py            # JSON report
    python benchmarks/calibration.py --write    # also write calibration.engines to profiles/
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from edgeprof.fit.calibrate import Obs, fit_engines, held_out, observations, summarize
from edgeprof.importers.edgereasoning import decode_rows, prefill_rows
from edgeprof.importers.jetson_benchmarks import read_figures

REF = Path(__file__).resolve().parents[2] / "shared" / "reference"  # ../shared, beside the project
JB = REF / "jetson-published-benchmarks" / "benchmarks.csv"
EDGE_LLM = Path(__file__).resolve().parent / "data" / "tensorrt-edge-llm-bench.csv"
ER = REF / "edgereasoning-jetson-agx-orin"
ER_SOURCE = "EdgeReasoning arXiv 2511.01866 (AGX Orin 64GB, vLLM bf16)"
BEGIN = "  # engines: BEGIN (written by benchmarks/calibration.py --write; do not edit)"
END = "  # engines: END"


def load_obs(er_stride: int = 12) -> list[Obs]:
    """Batch-1 figures only (batch > 1 is held out for benchmarks/batched_decode.py)."""
    rows = [r for path in (JB, EDGE_LLM) for r in read_figures(path)[0] if r.batch == 1]
    data = [r.model_dump() for r in rows]
    if ER.is_dir():
        er = [r.model_dump() for r in prefill_rows(ER) + decode_rows(ER)]
        for r in er:
            r["source"] = ER_SOURCE
        data += er[::er_stride]
    return observations(data)


def report(obs: list[Obs]) -> dict[str, Any]:
    out: dict[str, Any] = {"figures": len(obs),
                           "sources": sorted({o.source for o in obs}),
                           "fitted": fit_engines(obs)}
    for by, name in (("source", "leave_one_source_out"), ("device", "leave_one_board_out"),
                     ("engine", "leave_one_engine_out")):
        out[name] = summarize(held_out(obs, by))
    return out


def engines_block(rep: dict[str, Any]) -> dict[str, Any]:
    """calibration.engines: terms, figures, fit error and the held-out (LOSO) interval."""
    loso = rep["leave_one_source_out"]
    iv = (loso.get("decode") or {}).get("interval_90") or [0.6, 1.8]
    block = {}
    for eng, t in rep["fitted"].items():
        block[eng] = {k: float(v) for k, v in t.items() if isinstance(v, float)}
        block[eng]["n_figures"] = int(t["n_figures"])
        if t.get("quants"):
            block[eng]["quants"] = {
                q: {**{k: float(v) for k, v in tq.items() if isinstance(v, float)},
                    "n_figures": int(tq["n_figures"])} for q, tq in t["quants"].items()}
        block[eng]["interval"] = {"lo": round(iv[0], 4), "hi": round(iv[1], 4),
                                  "from": "leave-one-source-out decode, 90 % quantile"}
        block[eng]["source"] = ("benchmarks/calibration.py on jetson-published-benchmarks"
                                " (+ EdgeReasoning for vllm, TensorRT Edge-LLM llm_bench for"
                                " trtllm), batch-1 figures only; fit_error = in-sample median"
                                " |pred/meas - 1|")
    return block


def write_profile(path: Path, block: dict[str, Any], engine: str = "vllm",
                  writer: str = "benchmarks/calibration.py") -> None:
    text = path.read_text()
    text = re.sub(r"  # engines: BEGIN .*?" + re.escape(END) + r"\n", "", text, flags=re.S)
    dumped = yaml.safe_dump({"engine": engine, "engines": block}, sort_keys=False, width=100)
    ins = (BEGIN.replace("benchmarks/calibration.py", writer) + "\n"
           + "".join("  " + ln + "\n" for ln in dumped.splitlines()) + END + "\n")
    if re.search(r"^calibration:\s*$", text, flags=re.M):
        text = re.sub(r"^calibration:\s*\n", lambda m: m.group(0) + ins, text, count=1,
                      flags=re.M)
    else:
        text = text.rstrip("\n") + "\n\ncalibration:\n" + ins
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write calibration.engines into "
                    "profiles/jetson-*.yaml")
    ap.add_argument("--er-stride", type=int, default=12)
    args = ap.parse_args(argv)
    rep = report(load_obs(args.er_stride))
    if args.write:
        block = engines_block(rep)
        for p in sorted(Path("profiles").glob("jetson-*.yaml")):
            write_profile(p, block)
    json.dump(rep, sys.stdout, indent=2, default=lambda x: float(np.asarray(x)))
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
