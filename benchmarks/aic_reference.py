"""Reference figures from AIConfigurator's silicon-measured kernel database (CSV on stdout).

NOT a measurement: AIConfigurator (github.com/ai-dynamo/aiconfigurator, PyPI
``aiconfigurator``) composes TTFT and TPOT from per-kernel timings (GEMM, attention, …)
measured on real GPUs. Each row is labeled ``AIConfigurator <version> database estimate
(silicon-measured kernels)``. aiconfigurator is not an edgeprof dependency: run this with a
separate environment, e.g.

    python3.11 -m venv /tmp/aic-venv && /tmp/aic-venv/bin/pip install aiconfigurator==0.12.0
    /tmp/aic-venv/bin/python benchmarks/aic_reference.py trtllm > trtllm.csv   # or vllm

The shipped ``benchmarks/data/aiconfigurator-estimates.csv`` is the union (duplicates
dropped) of such runs: the default grid per backend and card (``FIT_SYSTEMS``); for the 8B
models on H100 (TensorRT-LLM, vLLM) and A100 (TensorRT-LLM) an earlier, denser grid
(batch 1/2/4/8 x ISL 128/512/2048 and batch 1/8 x ISL 512 x OSL 1024, i.e. ``--points``;
stopped part-way on A100); and Qwen3-0.6B / 1.7B (``--models``).

``benchmarks/data/aiconfigurator-b200.csv`` (in no fit: it judges the transferred class
terms of ``profiles/b200-sxm.yaml``) is ``aic_reference.py trtllm b200_sxm`` and ``vllm
b200_sxm`` on the default grid.

Static mode (``--estimate-mode static``): one batch of B prompts of ISL tokens prefilled
together (TTFT) then decoded together for OSL tokens (TPOT = mean step time), TP 1.
"""

from __future__ import annotations

import csv
import itertools
import logging
import sys

FIT_SYSTEMS = {"h100_sxm": "NVIDIA H100 SXM", "a100_sxm": "NVIDIA A100 SXM",
               "h200_sxm": "NVIDIA H200 SXM", "l40s": "NVIDIA L40S"}
#: Cards whose estimates are held out (benchmarks/data/aiconfigurator-b200.csv): named only
#: on the command line, never part of the default run that makes the fitted file.
HELD_OUT_SYSTEMS = {"b200_sxm": "NVIDIA B200 SXM"}
SYSTEMS = FIT_SYSTEMS | HELD_OUT_SYSTEMS
MODELS = {"Qwen/Qwen3-8B": "Qwen3-8B", "meta-llama/Meta-Llama-3.1-8B": "Llama-3.1-8B",
          "Qwen/Qwen3-0.6B": "Qwen3-0.6B", "Qwen/Qwen3-1.7B": "Qwen3-1.7B"}
QUANTS = {"bf16": ("bfloat16", "bfloat16", "bfloat16"), "fp8": ("fp8", "fp8", "fp8")}
NO_FP8 = {"a100_sxm"}  # Ampere: no FP8 tensor cores
POINTS = [(1, 128, 128), (1, 2048, 128), (4, 512, 128), (8, 128, 128), (8, 2048, 128)]
COLUMNS = ("board", "power_mode", "engine", "model", "quant", "input_tokens", "output_tokens",
           "batch", "metric", "value", "unit", "source", "note")


def main(argv: list[str]) -> int:
    """``aic_reference.py [BACKEND [SYSTEM ...]] [--points B:I:O,...] [--models M,...]``;
    point-major order, so a run stopped early still covers every card."""
    points = POINTS
    if "--points" in argv:  # --points B:I:O,B:I:O,...
        k = argv.index("--points")
        points = [tuple(int(x) for x in p.split(":")) for p in argv[k + 1].split(",")]
        argv = argv[:k] + argv[k + 2:]
    models = list(MODELS)
    if "--models" in argv:  # --models Qwen/Qwen3-0.6B,...
        k = argv.index("--models")
        models = argv[k + 1].split(",")
        argv = argv[:k] + argv[k + 2:]
    backends = argv[:1] or ["trtllm", "vllm"]
    systems = argv[1:] or list(FIT_SYSTEMS)
    logging.disable(logging.WARNING)
    from importlib.metadata import version

    import aiconfigurator  # noqa: F401  (separate venv only)
    from aiconfigurator.cli.api import cli_estimate

    ver = version("aiconfigurator")
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(COLUMNS)
    sys.stdout.flush()
    for (b, i, o), backend, system, model, quant in itertools.product(
            points, backends, systems, models, QUANTS):
        if quant == "fp8" and (system in NO_FP8 or backend == "vllm"):
            continue
        gemm, kv, fmha = QUANTS[quant]
        try:
            r = cli_estimate(model, system, mode="static", backend_name=backend, isl=i, osl=o,
                             batch_size=b, tp_size=1, gemm_quant_mode=gemm,
                             kvcache_quant_mode=kv, fmha_quant_mode=fmha)
        except Exception as exc:  # a combination the database lacks: say so, go on
            print(f"skip {system} {backend} {model} {quant} B={b} I={i}: {exc}"[:200],
                  file=sys.stderr)
            continue
        src = (f"AIConfigurator {ver} database estimate (silicon-measured kernels); "
               f"{system} {backend} {r.backend_version}; static mode, tp1; pypi.org/project/"
               "aiconfigurator; benchmarks/aic_reference.py")
        note = f"gemm/kv/fmha {gemm}/{kv}/{fmha}; model_path {model}"
        for metric, value in (("ttft_ms", r.ttft), ("tpot_ms", r.tpot)):
            w.writerow((SYSTEMS[system], "default", backend, MODELS[model], quant, i, o, b,
                        metric, f"{value:.4f}", "ms", src, note))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
