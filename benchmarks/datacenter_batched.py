"""The shipped datacenter profiles against measured runs no fit has seen (JSON, held out).

``benchmarks/data/datacenter-batched.csv`` holds TensorRT-LLM 0.9.0 static-batch runs of
Llama-2-7B and Llama-2-13B (batch 2–896, TP 1, ISL/OSL 128/128 … 2048/2048 and 128/4096) on
H100 SXM (FP8), H200 SXM (FP8), L40S (FP8) and A100-SXM4-80GB (FP16): first-token latency of
the batch, token-to-token latency and whole-batch latency, from the NVIDIA DLI dataset
``trt_llm_0_9_0_dli.csv`` (the batch-1 rows of which are in ``datacenter-served.csv``).
**None of these figures is in any fit**: they judge the batched decode model — per-sequence
KV reads and compute, and the KV-cache element size of the engine's FP8 recipe — and the
batched prefill on cards whose terms were fitted on batch 1–8 only.

``benchmarks/data/datacenter-unseen-cards.csv`` holds the same dataset's runs (batch 1–512)
on two cards **no figure of which is in any fit**, H100 NVL and L40 (FP8): their profiles
carry the datacenter class terms, transferred from the other cards, so these figures judge
what a user of a card nobody calibrated gets.

``benchmarks/data/aiconfigurator-b200.csv`` holds AIConfigurator 0.12.0 database estimates
(silicon-measured kernels composed by NVIDIA's tool — estimates, not end-to-end measurements)
for the B200 SXM, TensorRT-LLM and vLLM, batch 1–8, ISL 128/512/2048: **in no fit**, they
judge the class terms the ``b200-sxm`` profile takes from Hopper, Ada and Ampere figures.

Each figure is predicted as ``edgeprof predict --device D --engine trtllm`` would, with the
shipped profile (``Profile.load(D).predict``); TPOT is ``decode_s / (output_tokens - 1)``.
Printed: median |predicted/measured − 1| and the share inside the 90 % interval per metric ×
batch band, per metric × card, and every figure.

    python benchmarks/datacenter_batched.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from edgeprof.fit import Profile
from edgeprof.importers import read_figures

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datacenter_served import dump_report, judge  # a sibling script, not a package

DATA = Path(__file__).resolve().parent / "data"
HELD_OUT = {"static batches on fitted cards": DATA / "datacenter-batched.csv",
            "cards without figures": DATA / "datacenter-unseen-cards.csv",
            "B200 (AIConfigurator estimates)": DATA / "aiconfigurator-b200.csv"}
BANDS = ((1, 1, "batch 1"), (2, 8, "batch 2-8"), (9, 64, "batch 9-64"),
         (65, 10**6, "batch > 64"))


def band(batch: int) -> str:
    return next(name for lo, hi, name in BANDS if lo <= batch <= hi)


def main() -> int:
    out: list[dict[str, Any]] = []
    skipped: list[Any] = []
    profiles: dict[str, Profile] = {}
    for name, path in HELD_OUT.items():
        rows, skip = read_figures(path)
        skipped += skip
        out += [{"set": name} | judge(profiles, r) for r in rows]
    for x in out:
        x["band"] = band(x["batch"])
    dump_report({"command": "python benchmarks/datacenter_batched.py",
                 "held_out": "no figure of these files is in any fit"}, skipped, out,
                "{set}: {metric} all", "{set}: {metric} {band}", "{set}: {metric} on {device}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
