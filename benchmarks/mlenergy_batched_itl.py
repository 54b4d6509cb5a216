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
import sys
from pathlib import Path
from typing import Any

from edgeprof.fit import Profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datacenter_served import dump_report  # a sibling script, not a package

DATA = Path(__file__).resolve().parent / "data" / "mlenergy-itl.csv"
INPUTS = (128, 1024)


def judge(prof: Profile, row: dict[str, str], input_tokens: int) -> dict[str, Any]:
    """One figure predicted at an assumed prompt length: prediction, interval, ratio."""
    batch, out = round(float(row["avg_batch_size"])), round(float(row["avg_output_len"]))
    meas = float(row["median_itl_ms"]) / 1000
    est = prof.predict(row["model"], row["quant"], input_tokens, out, batch,
                       engine="vllm").decode_s
    steps = out - 1
    value, lo, hi = est.value / steps, est.lo / steps, est.hi / steps
    return {"device": row["device"], "model": row["model"], "batch": batch,
            "band": "batch <= 16" if batch <= 16 else "batch > 16",
            "input_tokens_assumed": input_tokens, "output_tokens": out, "measured_s": meas,
            "predicted_s": value, "interval_90_s": [lo, hi], "ratio": value / meas,
            "inside_90": lo <= meas <= hi, "provenance": est.provenance.value}


def main() -> int:
    rows = list(csv.DictReader(DATA.open(encoding="utf-8")))
    profiles: dict[str, Profile] = {}
    out = [judge(profiles.setdefault(r["device"], Profile.load(r["device"])), r, i)
           for r in rows for i in INPUTS]
    dump_report({"command": "python benchmarks/mlenergy_batched_itl.py",
                 "held_out": "no figure of benchmarks/data/mlenergy-itl.csv is in any fit",
                 "inputs_assumed": list(INPUTS)}, [], out,
                "all, prompt {input_tokens_assumed}", "{device}, prompt {input_tokens_assumed}",
                "{device} {band}, prompt {input_tokens_assumed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
