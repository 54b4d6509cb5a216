#!/usr/bin/env bash
# A standard edgeprof sweep across power modes, then a fit. Run on the board, as a user that may
# run nvpmodel/jetson_clocks through sudo without a password (see jetson/README.md).
#
# Usage: jetson/run_sweep.sh OUT_DIR [MODEL] [QUANTS] [POWER_MODES]
#   e.g. jetson/run_sweep.sh runs/orin-nano qwen2.5-0.5b fp16,int8 7W,15W,25W,MAXN_SUPER
# Environment: ENGINE (default torch), INPUTS, OUTPUTS, BATCHES, REPEATS, DEVICE (profile name).
set -euo pipefail

out=${1:?usage: $0 OUT_DIR [MODEL] [QUANTS] [POWER_MODES]}
model=${2:-qwen2.5-0.5b}
quants=${3:-fp16}
modes=${4:-}
engine=${ENGINE:-torch}
inputs=${INPUTS:-128,512,1024,2048}
outputs=${OUTPUTS:-64,256}
batches=${BATCHES:-1,2,4}
repeats=${REPEATS:-3}

command -v edgeprof >/dev/null || { echo "Error: edgeprof is not installed (pip install -e .)." >&2; exit 3; }

if [[ -z $modes ]]; then
  # every mode of this board, by name
  modes=$(sed -n 's/^<[[:space:]]*POWER_MODEL[^>]*NAME=\([^[:space:]>]\{1,\}\).*/\1/p' \
    /etc/nvpmodel.conf | paste -sd, -)
fi

mkdir -p "$out"
edgeprof devices --json >"$out/devices.json"
device_args=()
if [[ -n ${DEVICE:-} ]]; then
  device_args=(--device "$DEVICE")
fi

edgeprof sweep \
  --engine "$engine" --model "$model" --quant "$quants" \
  --input-tokens "$inputs" --output-tokens "$outputs" --batch "$batches" \
  --repeats "$repeats" --power-modes "$modes" "${device_args[@]}" \
  --out "$out"

edgeprof fit "$out" --out "$out/profile.yaml"
echo "done: $out (pack it with jetson/pack_results.sh $out)" >&2
