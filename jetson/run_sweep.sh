#!/usr/bin/env bash
# A standard edgeprof sweep across power modes, then a fit. Run on the board, as root or as a
# user that may run nvpmodel/jetson_clocks through sudo without a password (jetson/README.md).
#
# Usage: jetson/run_sweep.sh OUT_DIR [MODELS] [QUANTS] [POWER_MODES]
#   e.g. jetson/run_sweep.sh runs/orin-nano qwen2.5-0.5b fp16,int8 7W,15W,25W,MAXN_SUPER
# MODELS, QUANTS and POWER_MODES are comma lists; POWER_MODES defaults to every mode in
# nvpmodel.conf ("-" skips the power-mode axis); a MODE_ prefix is dropped (MODE_15W -> 15W).
# Environment: ENGINE (default torch), INPUTS, OUTPUTS, BATCHES, REPEATS, IDLE_BASELINE,
# DEVICE (cpu | cuda | cuda:N, default edgeprof's choice), FIT_DEVICE (device profile for fit),
# EDGEPROF_ETC_ROOT (where nvpmodel.conf lives, default /etc).
set -euo pipefail

out=${1:?usage: $0 OUT_DIR [MODELS] [QUANTS] [POWER_MODES]}
models=${2:-qwen2.5-0.5b}
quants=${3:-fp16}
modes=${4:-}
engine=${ENGINE:-torch}
inputs=${INPUTS:-128,512,1024,2048}
outputs=${OUTPUTS:-64,256}
batches=${BATCHES:-1,2,4}
repeats=${REPEATS:-3}
idle=${IDLE_BASELINE:-2s}
conf=${EDGEPROF_ETC_ROOT:-/etc}/nvpmodel.conf

command -v edgeprof >/dev/null || { echo "Error: edgeprof is not installed (pip install -e .)." >&2; exit 3; }

if [[ -z $modes ]]; then
  [[ -r $conf ]] || { echo "Error: cannot read $conf; name the power modes (4th argument) or '-'." >&2; exit 3; }
  # every mode of this board, by name
  modes=$(sed -n 's/^<[[:space:]]*POWER_MODEL[^>]*NAME=\([^[:space:]>]\{1,\}\).*/\1/p' \
    "$conf" | paste -sd, -)
  [[ -n $modes ]] || { echo "Error: no POWER_MODEL entries in $conf." >&2; exit 3; }
fi

# nvpmodel calls a mode MODE_15W where edgeprof's profiles say 15W: rows and fits use the latter
modes=$(sed 's/\(^\|,\)MODE_/\1/g' <<<"$modes")

mkdir -p "$out"
edgeprof devices --json >"$out/devices.json"
args=(--engine "$engine" --models "$models" --quants "$quants"
      --inputs "$inputs" --outputs "$outputs" --batches "$batches"
      --repeats "$repeats" --idle-baseline "$idle" --out "$out")
if [[ $modes != - ]]; then
  args+=(--power-modes "$modes")
fi
if [[ -n ${DEVICE:-} ]]; then
  args+=(--device "$DEVICE")
fi
edgeprof sweep "${args[@]}"

fit_args=("$out" --out "$out/profile.yaml")
if [[ -n ${FIT_DEVICE:-} ]]; then
  fit_args+=(--device "$FIT_DEVICE")
fi
edgeprof fit "${fit_args[@]}"
echo "done: $out (pack it with jetson/pack_results.sh $out)" >&2
