"""Build the held-out DLI TensorRT-LLM 0.9.0 rows of ``benchmarks/data`` from the course file.

Input: ``trt_llm_0_9_0_dli.csv`` of the NVIDIA DLI "inference GPU cluster sizing" dataset
(github.com/wbing520/ai-performance-engineering @0e25b2e, ``code/ch10_inference/
inference_gpu_cluster_sizing/dataset/``; not shipped here). Output, one row per figure, in the
columns ``edgeprof.importers.read_figures`` reads, each naming the input line it came from:

* ``batched``: static batches of 2 or more on the four cards that have figures in the fit
  (H100 80GB HBM3 and H200 141GB HBM3, L40S in FP8, A100-SXM4-80GB "Mixed" taken as FP16),
  written to ``benchmarks/data/datacenter-batched.csv``;
* ``unseen-cards``: every batch on H100 NVL and L40 (FP8), two cards without figures in
  any fit, written to ``benchmarks/data/datacenter-unseen-cards.csv``.

Kept: TP 1, PP 1, one GPU, LLaMA v2 7B / 13B (catalog models), rows with a latency (runs
that fit). Left out: the H100 "Mixed" rows (precision not stated), other models. Metrics:
``1st Token Latency`` (the context phase of the batch, ``ttft_ms``), ``Token-to-token
Latency`` (one step, ``tpot_ms``), ``Latency`` (the whole batch, ``e2e_ms``).

    cd benchmarks/data
    python ../../scripts/build_dli_rows.py DLI_CSV batched > datacenter-batched.csv
    python ../../scripts/build_dli_rows.py DLI_CSV unseen-cards > datacenter-unseen-cards.csv
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from edgeprof.importers._jetson_benchmarks import COLUMNS

SOURCE = ("github.com/wbing520/ai-performance-engineering "
          "@0e25b2e236211ad01ed2221bd2c1cfa5b3f47b55 "
          "code/ch10_inference/inference_gpu_cluster_sizing/dataset/trt_llm_0_9_0_dli.csv "
          "line {}")
#: DLI GPU string -> (board as written in the output, what was inferred about it).
CARDS = {
    "batched": {
        "H100 80GB HBM3": ("H100-SXM-80GB", 'SXM inferred from "80GB HBM3" naming (not stated)'),
        "H200 141GB HBM3": ("H200-SXM-141GB", "SXM form factor not stated, inferred from name"),
        "L40S": ("L40S", ""), "A100-SXM4-80GB": ("A100-SXM4-80GB", ""),
    },
    "unseen-cards": {"H100 NVL": ("H100-NVL-94GB", "NVL form factor as printed"),
                     "L40": ("L40", "")},
}
MODELS = {"LLaMA v2 13B": "Llama-2-13B", "LLaMA v2 7B": "Llama-2-7B"}
METRICS = (
    ("1st Token Latency (ms)", "ttft_ms",
     "1st Token Latency (ms): the context phase of the whole static batch"),
    ("Token-to-token Latency (ms)", "tpot_ms",
     "Token-to-token Latency (ms): one generation step of the batch"),
    ("Latency (ms)", "e2e_ms", "Latency (ms) for the whole batch"),
)
FP8_RECIPE = ("FP8 KV cache assumed: TensorRT-LLM's benchmark 'fp8' recipe = FP8 GEMMs + FP8 KV "
              "cache (benchmarks/python/build.py get_quant_config); not stated")


def rows(path: Path, which: str) -> Iterator[list[str]]:
    """Output rows of set ``which`` (``batched`` or ``unseen-cards``) from the DLI file."""
    cards = CARDS[which]
    with path.open(newline="") as f:
        reader = csv.reader(f)
        head = next(reader)
        for rec in reader:
            r = dict(zip(head, rec, strict=True))
            batch = int(r["Batch Size"])
            prec = r["Precision"]
            if (r["GPU"] not in cards or r["Model"] not in MODELS or not r["Latency (ms)"]
                    or (r["Tensor Model Parallel Size"], r["Pipeline Model Parallel Size"],
                        r["Number of GPUs"]) != ("1", "1", "1")
                    or (which == "batched" and batch < 2)
                    or (prec == "Mixed" and r["GPU"] != "A100-SXM4-80GB")
                    or (which == "unseen-cards" and prec != "FP8")):
                continue
            board, inferred = cards[r["GPU"]]
            isl, osl = r["Input/Output Lengths"].split(",")
            for col, metric, what in METRICS:
                notes = ["TensorRT-LLM 0.9.0 per file name (DLI dataset)",
                         f"GPU string '{r['GPU']}'",
                         f"static batch of {batch}, TP1 PP1, 1 GPU" if batch > 1
                         else "batch 1, TP1 PP1, 1 GPU",
                         f"Use Fake Weight={r['Use Fake Weight']}",
                         "gptSessionBenchmark-style static batch (not stated explicitly)",
                         f"Precision column='{prec}'", *([inferred] if inferred else []), what]
                if prec == "Mixed":
                    notes.append("precision printed as Mixed, taken as FP16 (TensorRT-LLM v0.9.0 "
                                 "performance.md: A100 runs FP16)")
                if prec == "FP8":
                    notes.append(FP8_RECIPE)
                if which == "unseen-cards":
                    notes.append("card without a figure in any fit (held out)")
                notes.append(f"model printed as '{r['Model']}'")
                yield [board, "default", "tensorrt-llm 0.9.0", MODELS[r["Model"]],
                       "FP16" if prec == "Mixed" else prec, isl, osl, str(batch), metric,
                       r[col], "ms", SOURCE.format(reader.line_num), "; ".join(notes)]


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in CARDS:
        print(f"usage: build_dli_rows.py DLI_CSV {{{'|'.join(CARDS)}}}", file=sys.stderr)
        return 2
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(Path(argv[0]), argv[1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
