"""Engine-term calibration on published Jetson figures, and its held-out error (JSON).

Data: ``../shared/reference/jetson-published-benchmarks/benchmarks.csv``,
``benchmarks/data/tensorrt-edge-llm-bench.csv`` (TensorRT Edge-LLM 0.10.0 ``llm_bench``) and
``benchmarks/data/tensorrt-edge-llm-bench-more.csv`` (Edge-LLM runtime dashboards 0.4.0–0.10.0
and TensorRT-LLM 0.12.0-jetson; v0.8.0 left out, see ``WITHDRAWN_RELEASES``),
``benchmarks/data/tensorrt-edge-llm-nvfp4.csv`` (the same pages' NVFP4 rows, AGX Thor), all read by
``edgeprof.importers._jetson_benchmarks``, and the EdgeReasoning AGX Orin vLLM measurements
(thinned to every ``--er-stride``-th row; each source weighs the same in the fit anyway). One
TensorRT release is one source. Terms are fitted per engine over every board ("class") and
per (board, engine) where a board has ``MIN_DEVICE_FIGURES`` figures, with the class terms as
prior; the held-out schemes refit both on what is left, as the shipped profiles use them.
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

from edgeprof.fit import (
    MIN_DEVICE_FIGURES,
    Obs,
    fit_with_devices,
    held_out,
    observations,
    summarize,
)
from edgeprof.importers import WITHDRAWN_RELEASES, decode_rows, prefill_rows, read_figures

REF = Path(__file__).resolve().parents[2] / "shared" / "reference"  # ../shared, beside the project
JB = REF / "jetson-published-benchmarks" / "benchmarks.csv"
DATA = Path(__file__).resolve().parent / "data"
EDGE_LLM = DATA / "tensorrt-edge-llm-bench.csv"
EDGE_LLM_MORE = DATA / "tensorrt-edge-llm-bench-more.csv"
EDGE_LLM_NVFP4 = DATA / "tensorrt-edge-llm-nvfp4.csv"

ER = REF / "edgereasoning-jetson-agx-orin"
ER_SOURCE = "EdgeReasoning arXiv 2511.01866 (AGX Orin 64GB, vLLM bf16)"
#: Structural setting held fixed in every fit: the prefill GEMM tile in tokens. Chosen from
#: 16 / 64 / 128 / 256 on these figures (TTFT in-sample median 8.7 / 9.4 / 17.4 / 35.2 %,
#: leave-one-source-out 24.8 / 24.4 / 34.6 / 47.3 %): short prompts on Jetson engines cost
#: far less than a 128-token tile.
FIXED = {"pad_tokens": 64.0}
BEGIN = "  # engines: BEGIN (written by benchmarks/calibration.py --write; do not edit)"
END = "  # engines: END"


def load_obs(er_stride: int = 12) -> list[Obs]:
    """Batch-1 figures only (batch > 1 is held out for benchmarks/batched_decode.py)."""
    rows = [r for path in (JB, EDGE_LLM, EDGE_LLM_MORE, EDGE_LLM_NVFP4)
            for r in read_figures(path)[0]
            if r.batch == 1 and r.engine_detail not in WITHDRAWN_RELEASES]
    data = [r.model_dump() for r in rows]
    for r in data:  # one source per TensorRT release: its tables share software and boards
        if str(r.get("engine_detail") or "").startswith("tensorrt"):
            r["published_source"] = str(r["engine_detail"])
    if ER.is_dir():
        er = [r.model_dump() for r in prefill_rows(ER) + decode_rows(ER)]
        for r in er:
            r["source"] = ER_SOURCE
        data += er[::er_stride]
    return observations(data)


def report(obs: list[Obs]) -> dict[str, Any]:
    out: dict[str, Any] = {"figures": len(obs),
                           "sources": sorted({o.source for o in obs}),
                           "by_device_engine": _counts(obs),
                           "fixed": FIXED,
                           "fitted": fit_with_devices(obs, fixed=FIXED)}
    for by, name in (("source", "leave_one_source_out"), ("device", "leave_one_board_out"),
                     ("engine", "leave_one_engine_out")):
        out[name] = summarize(held_out(obs, by, fixed=FIXED,
                                           min_device_figures=MIN_DEVICE_FIGURES))
    return out


def _counts(obs: list[Obs]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for o in obs:
        out.setdefault(o.device, {}).setdefault(o.engine, 0)
        out[o.device][o.engine] += 1
    return out


def _interval(summary: dict[str, Any], metric: str, what: str) -> dict[str, Any]:
    iv = (summary.get(metric) or {}).get("interval_90") or [0.6, 1.8]
    return {"lo": round(iv[0], 4), "hi": round(iv[1], 4), "from": f"{what}, 90 % quantile"}


def _plain_terms(t: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: float(v) for k, v in t.items() if isinstance(v, float)}
    out["n_figures"] = int(t["n_figures"])
    if t.get("quants"):
        out["quants"] = {q: {**{k: float(v) for k, v in tq.items() if isinstance(v, float)},
                             "n_figures": int(tq["n_figures"])} for q, tq in t["quants"].items()}
    return out


def engines_block(rep: dict[str, Any], device: str) -> dict[str, Any]:
    """calibration.engines for one board: its own terms where it has figures of an engine
    (interval: leave-one-source-out), else the class terms (interval: leave-one-board-out)."""
    own = rep["fitted"]["devices"].get(device) or {}
    block = {}
    for eng, cls_terms in rep["fitted"]["class"].items():
        if eng in own:
            t, summ, what = own[eng], rep["leave_one_source_out"], "leave-one-source-out"
            n_own = rep["by_device_engine"][device][eng]
            label = (f"terms fitted on {n_own} published figures of this board (prior: "
                     f"{cls_terms['n_figures']} figures of {eng} on every Jetson board)")
        else:
            t, summ, what = cls_terms, rep["leave_one_board_out"], "leave-one-board-out"
            label = (f"terms fitted on {cls_terms['n_figures']} published figures of {eng} on "
                     "other Jetson boards (none of this board)")
        block[eng] = {**_plain_terms(t), "label": label,
                      "interval": _interval(summ, "decode", f"decode {what}"),
                      "ttft_interval": _interval(summ, "ttft", f"TTFT {what}"),
                      "source": ("benchmarks/calibration.py on jetson-published-benchmarks"
                                 " (+ EdgeReasoning for vllm, TensorRT Edge-LLM / TensorRT-LLM"
                                 " published tables in benchmarks/data for trtllm), batch-1"
                                 " figures only; fit_error = in-sample median"
                                 " |pred/meas - 1|")}
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
        for p in sorted(Path("profiles").glob("jetson-*.yaml")):
            write_profile(p, engines_block(rep, p.stem))
    json.dump(rep, sys.stdout, indent=2, default=lambda x: float(np.asarray(x)))
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
