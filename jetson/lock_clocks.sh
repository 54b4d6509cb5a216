#!/usr/bin/env bash
# Lock (or restore) Jetson clocks around a measurement.
# Usage: sudo jetson/lock_clocks.sh lock   [STATE_FILE]   # store current clocks, then pin to max
#        sudo jetson/lock_clocks.sh restore [STATE_FILE]  # put the stored clocks back
#        sudo jetson/lock_clocks.sh show
# jetson_clocks pins CPU/GPU/EMC to the maxima of the *current* nvpmodel mode.
set -euo pipefail

action=${1:-show}
state=${2:-${XDG_RUNTIME_DIR:-/tmp}/edgeprof-jetson-clocks.conf}

command -v jetson_clocks >/dev/null || { echo "Error: jetson_clocks not found (not a Jetson?)." >&2; exit 3; }
if [[ $(id -u) -ne 0 ]]; then
  echo "Error: jetson_clocks needs root; run with sudo (see jetson/README.md)." >&2
  exit 2
fi

case $action in
  lock)
    jetson_clocks --store "$state"
    jetson_clocks
    echo "clocks locked; saved previous state to $state" >&2
    ;;
  restore)
    [[ -r $state ]] || { echo "Error: no stored clock state at $state." >&2; exit 2; }
    jetson_clocks --restore "$state"
    ;;
  show)
    jetson_clocks --show
    ;;
  *)
    echo "usage: $0 lock|restore|show [STATE_FILE]" >&2
    exit 2
    ;;
esac
