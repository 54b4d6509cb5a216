"""Median inter-token latency of dense models served by vLLM on one GPU, from the ML.ENERGY
leaderboard's data (CSV on stdout; ``benchmarks/data/mlenergy-itl.csv``).

    python scripts/build_mlenergy_rows.py LEADERBOARD_CHECKOUT > benchmarks/data/mlenergy-itl.csv

LEADERBOARD_CHECKOUT is a git checkout of github.com/ml-energy/leaderboard (the shipped file
was made at commit 0cd52dab897c); read from ``public/data/models/<model>__lm-arena-chat.json``:
the single-GPU configurations (``num_gpus`` 1) at ``max_num_seqs`` ≤ MAX_SEQS of the dense
models the catalog resolves (``resolve_model`` on ``model_id``), on cards a shipped profile
names (``board_profile``, the importers' one card-name rule). Measured by the ML.ENERGY
Benchmark (vLLM, BF16 weights, LM Arena chat prompts whose lengths the file does not give).
Its "H100" is the SXM part (``h100-sxm``) by ``board_profile``'s rule for a bare "H100"; the
file does not say.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from edgeprof.catalog import resolve_model
from edgeprof.errors import EdgeprofError
from edgeprof.importers import board_profile

MAX_SEQS = 64
COLUMNS = ("device", "model", "quant", "max_num_seqs", "avg_batch_size", "avg_output_len",
           "median_itl_ms", "source")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    repo = Path(argv[0])
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True)
    if head.returncode != 0:
        print(f"Error: {repo} is not a git checkout of github.com/ml-energy/leaderboard.",
              file=sys.stderr)
        return 2
    commit = head.stdout.strip()
    files = subprocess.run(["git", "-C", str(repo), "ls-tree", "--name-only", commit,
                            "public/data/models/"], check=True, capture_output=True,
                           text=True).stdout.split()
    rows: list[tuple[object, ...]] = []
    for rel in sorted(f for f in files if f.endswith("__lm-arena-chat.json")):
        text = subprocess.run(["git", "-C", str(repo), "show", f"{commit}:{rel}"], check=True,
                              capture_output=True, text=True).stdout
        try:
            rows += file_rows(json.loads(text), f"ML.ENERGY leaderboard "
                              f"github.com/ml-energy/leaderboard @{commit[:12]} {rel} "
                              "(vLLM, measured)")
        except json.JSONDecodeError as e:
            print(f"Error: {rel} is not JSON ({e.msg}, line {e.lineno}).", file=sys.stderr)
            return 2
        except (KeyError, TypeError, ValueError) as e:
            print(f"Error: {rel} lacks a usable field {e}; is this the ML.ENERGY leaderboard's "
                  "data layout?", file=sys.stderr)
            return 2
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(COLUMNS)
    w.writerows(rows)
    return 0


def file_rows(data: dict, source: str) -> list[tuple[object, ...]]:
    """The kept rows of one model's leaderboard file (none for a model or card not kept)."""
    if data.get("architecture") != "Dense Transformer" or \
            data.get("weight_precision") != "bfloat16":
        return []
    try:
        model = resolve_model(data["model_id"]).name
    except EdgeprofError:
        return []
    out = []
    for c in sorted(data["configurations"], key=lambda c: (c["gpu_model"], c["max_num_seqs"])):
        try:
            device = board_profile(c["gpu_model"])
        except EdgeprofError:
            continue
        if c["num_gpus"] != 1 or c["max_num_seqs"] > MAX_SEQS:
            continue
        out.append((device, model, "bf16", c["max_num_seqs"], f"{c['avg_batch_size']:.2f}",
                    f"{c['avg_output_len']:.1f}", f"{c['median_itl_ms']:.4f}", source))
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
