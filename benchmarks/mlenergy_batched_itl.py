"""Batched vLLM decode on the H100 SXM and the B200 against measured median inter-token latency
(JSON, held out).

``benchmarks/data/mlenergy-itl.csv`` (made by ``scripts/build_mlenergy_rows.py`` from the
ML.ENERGY leaderboard's data) holds the median ITL of Llama-3.1-8B, Qwen3-8B and Qwen3-14B
(BF16) served by vLLM on one GPU at ``max_num_seqs`` 8–64 on LM Arena chat prompts. **No
figure of it is in any fit.** The file gives the mean batch and output length but not the
prompt lengths, so each figure is predicted at two prompt lengths that bracket a chat prompt,
``INPUTS`` = 128 and 1024 tokens, as ``edgeprof predict --device D --engine vllm --batch B``
would (TPOT = decode_s / (output_tokens − 1)). A continuous-batching server's median step can
also carry prefill chunks of arriving requests; the prediction is decode only.

    python benchmarks/mlenergy_batched_itl.py
"""

from __future__ import annotations

import csv
import json
import statistics
from pathlib import Path
from typing import Any

from edgeprof.fit import Profile

DATA = Path(__file__).resolve().parent / "data" / "mlenergy-itl.csv"
INPUTS = (128, 1024)


def judge(prof: Profile, row: dict[str, str]) -> dict[str, Any]:
    batch, out = round(float(row["avg_batch_size"])), round(float(row["avg_output_len"]))
    meas = float(row["median_itl_ms"]) / 1000
    x: dict[str, Any] = {"device": row["device"], "model": row["model"], "batch": batch,
                         "output_tokens": out, "measured_s": meas}
    for i in INPUTS:
        p = prof.predict(row["model"], row["quant"], i, out, batch, engine="vllm").decode_s
        steps = out - 1
        x[f"input_{i}"] = {"predicted_s": p.value / steps, "ratio": p.value / steps / meas,
                           "inside_90": p.lo / steps <= meas <= p.hi / steps,
                           "provenance": p.provenance.value}
    lo, hi = sorted(x[f"input_{i}"]["ratio"] for i in INPUTS)
    x["bracket_holds_measured"] = lo <= 1.0 <= hi
    return x


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for i in INPUTS:
        r = [x[f"input_{i}"]["ratio"] for x in rows]
        out[f"input_{i}"] = {"median_abs_error": statistics.median(abs(v - 1) for v in r),
                             "median_ratio": statistics.median(r),
                             "coverage_90": sum(x[f"input_{i}"]["inside_90"] for x in rows)
                             / len(rows)}
    out["bracket_holds_measured"] = sum(x["bracket_holds_measured"] for x in rows) / len(rows)
    return out


def main() -> int:
    rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
    profiles: dict[str, Profile] = {}
    figs = [judge(profiles.setdefault(r["device"], Profile.load(r["device"])), r)
            for r in rows]
    groups: dict[str, list[dict[str, Any]]] = {"all": figs}
    for x in figs:
        groups.setdefault(x["device"], []).append(x)
        groups.setdefault(f"{x['device']} batch {'<= 16' if x['batch'] <= 16 else '> 16'}",
                          []).append(x)
    print(json.dumps({"command": "python benchmarks/mlenergy_batched_itl.py",
                      "held_out": "no figure of benchmarks/data/mlenergy-itl.csv is in any fit",
                      "inputs_assumed": list(INPUTS),
                      "summary": {k: summary(v) for k, v in groups.items()},
                      "figures": figs}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
