#!/usr/bin/env bash
# The README's main job, end to end on a CPU: measure → fit → recommend → export.
# Needs the venv from scripts/setup.sh. Runs in a few minutes on 2 cores; rerunning resumes
# (finished points are kept). Set DEMO_OUT to write elsewhere (default: demo-out).
#
# The models are real architectures cut to a few layers (random weights): valid latency and
# memory subjects, never accuracy subjects. Every row is measured here; nothing is simulated.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
OUT="${DEMO_OUT:-demo-out}"
mkdir -p "$OUT"

# ---------------------------------------------------------------- 0. what this machine is
edgeprof devices --json > "$OUT/devices.json"
edgeprof devices --no-bandwidth

# ---------------------------------------------------------------- 1. measure (sweep)
# model × quant × input × output × batch, 2 repeats each, 1 warm-up per loaded model.
edgeprof sweep \
  --engine torch --device cpu \
  --models qwen2.5-0.5b-scaled-4L,llama-3.2-1b-scaled-2L \
  --quants fp32,bf16,int8,int4 \
  --inputs 32,128 --outputs 8,24 --batches 1,4 \
  --repeats 2 --warmup 1 --idle-baseline 1s \
  --out "$OUT/sweep"


# ---------------------------------------------------------------- 2. fit
# Prefill, decode, memory (and power, where measured) models with held-out errors.
edgeprof fit "$OUT/sweep" --out "$OUT/profile.yaml" --plots "$OUT/fit-plots"

# ---------------------------------------------------------------- 3. recommend
# Accuracy: the shipped synthetic traces (labeled synthetic: these scaled-down models have
# random weights, so their accuracy is not measurable). SLO: 60 s at p95 on this CPU, checked at the
# upper bound of its 90 % interval (recommend --confidence 0.9, the default).
edgeprof recommend --profile "$OUT/profile.yaml" --accuracy synthetic-traces \
  --budget 60s --budgets 256..4096 --max-samples 8 \
  --plot "$OUT/pareto.png" --out "$OUT/rec.json"

# ---------------------------------------------------------------- 4. export
# The winner is a scaled toy: --allow-scaled exports it as itself (never the full model).
edgeprof export "$OUT/rec.json" --out "$OUT/manifest.yaml" --allow-scaled
edgeprof validate "$OUT/manifest.yaml"

# ---------------------------------------------------------------- 5. report
edgeprof report "$OUT" --out "$OUT/report.html"
echo "Done: $OUT/manifest.yaml, $OUT/pareto.png, $OUT/report.html, $OUT/profile.yaml," \
  "$OUT/sweep/" >&2
