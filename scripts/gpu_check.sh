#!/usr/bin/env bash
# Hardware check on an NVIDIA GPU: the torch CUDA engine (bf16, int8, int4, and fp8 where the
# compute capability is >= 8.9), the NVML power sampler and ONNX Runtime's CUDA provider, on a
# scaled 2-layer model. Writes each step's rows/JSON/log and OUT_DIR/summary.json.
# Every step has its own timeout; the whole script stays under 8 minutes.
#
# Usage: scripts/gpu_check.sh OUT_DIR
# Without an NVIDIA GPU and CUDA-enabled torch it prints one line, writes summary.json with
# "ran": false and exits 0 (nothing to check here). Environment: EDGEPROF (default: edgeprof
# on PATH, else python -m edgeprof.cli), PYTHON (default python3), MODEL.
set -uo pipefail

out=${1:?usage: $0 OUT_DIR}
py=${PYTHON:-python3}
model=${MODEL:-qwen2.5-0.5b-scaled-2L}
mkdir -p "$out" || { echo "Error: cannot create $out." >&2; exit 2; }
if [[ -n ${EDGEPROF:-} ]]; then
  read -r -a ep <<<"$EDGEPROF"
elif command -v edgeprof >/dev/null; then
  ep=(edgeprof)
else
  ep=("$py" -m edgeprof.cli)
fi

skip() {
  echo "gpu_check: $1; nothing to check on this machine (the CUDA paths need an NVIDIA GPU)." >&2
  printf '{"ran": false, "reason": "%s"}\n' "$1" >"$out/summary.json"
  exit 0
}

command -v nvidia-smi >/dev/null || skip "no nvidia-smi on PATH"
cc=$(timeout 60 "$py" -c 'import torch
assert torch.cuda.is_available()
print("%d.%d" % torch.cuda.get_device_capability(0))' 2>/dev/null) || skip "torch has no CUDA device"

quants=bf16,int8,int4
if awk -v c="$cc" 'BEGIN { exit !(c + 0 >= 8.9) }'; then
  quants+=,fp8
fi
timeout 20 nvidia-smi >"$out/nvidia-smi.txt" 2>&1
echo "gpu_check: compute capability $cc, quants $quants, model $model" >&2

step() {  # step NAME SECONDS CMD...: run with a timeout, keep stdout JSON and the log
  local name=$1 secs=$2
  shift 2
  echo "gpu_check: $name (at most ${secs}s)" >&2
  timeout -k 10 "$secs" "$@" >"$out/$name.json" 2>"$out/$name.log"
  echo $? >"$out/$name.rc"
}

step telemetry 30 "${ep[@]}" telemetry --source nvml --duration 5s --json
step torch 240 "${ep[@]}" sweep --engine torch --device cuda --models "$model" \
  --quants "$quants" --inputs 64,256 --outputs 16 --batches 1,4 --repeats 2 --warmup 1 \
  --timeout-per-point 60s --idle-baseline 2s --out "$out/torch" --json
step onnxruntime 150 "${ep[@]}" sweep --engine onnxruntime --device cuda --models "$model" \
  --quants fp16 --inputs 64 --outputs 16 --batches 1 --repeats 2 --warmup 1 \
  --timeout-per-point 60s --idle-baseline 0 --out "$out/onnxruntime" --json

timeout 30 "$py" - "$out" "$cc" <<'PY'
import json, pathlib, sys
out, cc = pathlib.Path(sys.argv[1]), sys.argv[2]
summary = {"ran": True, "compute_capability": cc, "steps": {}}
for name in ("telemetry", "torch", "onnxruntime"):
    rc = (out / f"{name}.rc").read_text().strip() if (out / f"{name}.rc").exists() else "?"
    step = {"rc": int(rc) if rc.lstrip("-").isdigit() else rc}
    rows = out / name / "measurements.jsonl"
    if rows.exists():
        by = {}
        for line in rows.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                key = f"{r['quant']}/{r['status']}"
                by[key] = by.get(key, 0) + 1
                if r.get("power_source"):
                    step["power_source"] = r["power_source"]
        step["rows"] = by
    log = out / f"{name}.log"
    if log.exists() and step["rc"] != 0:
        step["last_error"] = (log.read_text().strip().splitlines() or [""])[-1][:300]
    summary["steps"][name] = step
(out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
print(json.dumps(summary, indent=2))
PY
