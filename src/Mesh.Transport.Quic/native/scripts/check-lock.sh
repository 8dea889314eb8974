#!/usr/bin/env bash
# Fails unless Cargo.lock resolves quinn-proto to 0.11.15 or newer (RUSTSEC-2026-0037,
# RUSTSEC-2026-0185: remote denial of service / memory exhaustion in older versions).
#   check-lock.sh [path/to/Cargo.lock]
set -euo pipefail
lock=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/Cargo.lock"}
minimum=0.11.15
crate=quinn-proto

[[ -f "$lock" ]] || { echo "check-lock: $lock not found" >&2; exit 1; }

# Every version of the crate the lock file resolves ([[package]] blocks: name line, then version line).
mapfile -t versions < <(awk -v crate="$crate" '
  /^\[\[package\]\]/ { name = "" }
  /^name = / { gsub(/"/, "", $3); name = $3 }
  /^version = / && name == crate { gsub(/"/, "", $3); print $3 }' "$lock")

if ((${#versions[@]} == 0)); then
  echo "check-lock: $crate is not in $lock" >&2
  exit 1
fi
status=0
for v in "${versions[@]}"; do
  # A pre-release such as 0.11.15-rc sorts before 0.11.15 and is refused as well.
  if [[ "$v" != "$minimum" && "$(printf '%s\n%s\n' "$v" "$minimum" | sort -V | head -n1)" == "$v" ]] || [[ "$v" == "$minimum"-* ]]; then
    echo "check-lock: $crate $v in $lock is below $minimum (RUSTSEC-2026-0037, RUSTSEC-2026-0185)" >&2
    status=1
  else
    echo "check-lock: $crate $v >= $minimum"
  fi
done
exit $status
