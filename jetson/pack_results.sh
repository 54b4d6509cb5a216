#!/usr/bin/env bash
# Pack a sweep folder with the board's state, to bring back for fitting and reports.
# Usage: jetson/pack_results.sh SWEEP_DIR [ARCHIVE.tar.gz]
# Adds: edgeprof devices --json, nvpmodel -q --verbose, jetson_clocks --show (sudo -n if
# allowed), /etc/nv_tegra_release, the device-tree model, /etc/nvpmodel.conf, tegrastats sample.
set -euo pipefail

sweep=${1:?usage: $0 SWEEP_DIR [ARCHIVE.tar.gz]}
[[ -d $sweep ]] || { echo "Error: $sweep is not a folder." >&2; exit 2; }
archive=${2:-$(basename "$sweep")-$(hostname)-$(date +%Y%m%d-%H%M%S).tar.gz}

state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/board"

try() {  # try FILE CMD...: run a command, keep its output (or its error) in FILE
  local file=$1
  shift
  "$@" >"$state/board/$file" 2>&1 || echo "(failed: $*)" >>"$state/board/$file"
}

try devices.json edgeprof devices --json
try nvpmodel-q.txt nvpmodel -q --verbose
try jetson_clocks-show.txt sudo -n jetson_clocks --show
try nv_tegra_release.txt cat /etc/nv_tegra_release
try nvpmodel.conf cat /etc/nvpmodel.conf
try uname.txt uname -a
try meminfo.txt cat /proc/meminfo
if [[ -r /proc/device-tree/model ]]; then
  tr -d '\0' </proc/device-tree/model >"$state/board/model.txt"
fi
if command -v tegrastats >/dev/null; then
  try tegrastats.txt timeout 3 tegrastats --interval 500
fi

tar -czf "$archive" -C "$(dirname "$sweep")" "$(basename "$sweep")" -C "$state" board
echo "$archive"
