#!/usr/bin/env bash
# Switch the Jetson to a power mode by NAME (or id) and show the result.
# Usage: sudo jetson/set_power_mode.sh MAXN_SUPER     (names from /etc/nvpmodel.conf)
#        jetson/set_power_mode.sh --list
# Ids differ per board and JetPack release, so the id is looked up from the name.
set -euo pipefail

CONF=${NVPMODEL_CONF:-${EDGEPROF_ETC_ROOT:-/etc}/nvpmodel.conf}

list_modes() {
  sed -n 's/^<[[:space:]]*POWER_MODEL[[:space:]]\{1,\}ID=\([0-9]\{1,\}\)[[:space:]]\{1,\}NAME=\([^[:space:]>]\{1,\}\).*/\1 \2/p' "$CONF"
}

if [[ $# -ne 1 ]]; then
  echo "usage: $0 MODE_NAME|ID|--list" >&2
  exit 2
fi
command -v nvpmodel >/dev/null || { echo "Error: nvpmodel not found (not a Jetson?)." >&2; exit 3; }
[[ -r $CONF ]] || { echo "Error: cannot read $CONF." >&2; exit 3; }

if [[ $1 == --list ]]; then
  list_modes
  exit 0
fi

want=$1
id=""
while read -r mid mname; do
  if [[ $want == "$mid" || ${want^^} == "${mname^^}" || "MODE_${want^^}" == "${mname^^}" ]]; then
    id=$mid
  fi
done < <(list_modes)
if [[ -z $id ]]; then
  echo "Error: unknown power mode '$want'; known: $(list_modes | tr '\n' ' ')" >&2
  exit 2
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "Error: changing the power mode needs root; run with sudo (see jetson/README.md)." >&2
  exit 2
fi

# Answer "no" if nvpmodel asks to reboot: a reboot is the operator's decision.
out=$(echo no | nvpmodel -m "$id" 2>&1) || true
if grep -qi reboot <<<"$out"; then
  echo "Error: mode $want (id $id) needs a reboot: run 'sudo nvpmodel -m $id', answer YES." >&2
  exit 4
fi
nvpmodel -q
