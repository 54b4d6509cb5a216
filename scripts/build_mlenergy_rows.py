"""Median inter-token latency of dense models served by vLLM on one GPU, from the ML.ENERGY
leaderboard's data (CSV on stdout; ``benchmarks/data/mlenergy-itl.csv``).

    python scripts/build_mlenergy_rows.py LEADERBOARD_CHECKOUT > benchmarks/data/mlenergy-itl.csv

LEADERBOARD_CHECKOUT is a git checkout of github.com/ml-energy/leaderboard (the shipped file
was made at commit 0cd52dab897c); read from ``public/data/models/<model>__lm-arena-chat.json``:
the single-GPU configurations (``num_gpus`` 1) at ``max_num_seqs`` ≤ MAX_SEQS of the models
the catalog has. Measured by the ML.ENERGY Benchmark (vLLM, BF16 weights, LM Arena chat
prompts whose lengths the file does not give). Its "H100" is taken as the SXM part
(``h100-sxm``): the file does not say, and the 80 GB SXM is the card its paper names.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

MODELS = {"meta-llama__Llama-3.1-8B-Instruct": "llama-3.1-8b", "Qwen__Qwen3-8B": "qwen3-8b",
          "Qwen__Qwen3-14B": "qwen3-14b"}
GPUS = {"H100": "h100-sxm", "B200": "b200-sxm"}
MAX_SEQS = 64
COLUMNS = ("device", "model", "quant", "max_num_seqs", "avg_batch_size", "avg_output_len",
           "median_itl_ms", "source")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    repo = Path(argv[0])
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                            capture_output=True, text=True).stdout.strip()
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(COLUMNS)
    for stem, model in MODELS.items():
        rel = f"public/data/models/{stem}__lm-arena-chat.json"
        text = subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{rel}"], check=True,
                              capture_output=True, text=True).stdout
        for c in sorted(json.loads(text)["configurations"],
                        key=lambda c: (c["gpu_model"], c["max_num_seqs"])):
            if c["num_gpus"] != 1 or c["max_num_seqs"] > MAX_SEQS or c["gpu_model"] not in GPUS:
                continue
            w.writerow((GPUS[c["gpu_model"]], model, "bf16", c["max_num_seqs"],
                        f"{c['avg_batch_size']:.2f}", f"{c['avg_output_len']:.1f}",
                        f"{c['median_itl_ms']:.4f}",
                        f"ML.ENERGY leaderboard github.com/ml-energy/leaderboard @{commit[:12]} "
                        f"{rel} (vLLM, measured)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
