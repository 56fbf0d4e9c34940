#!/usr/bin/env bash
# Run every shipped scenario (scenarios/*.json) with a fixed seed into one
# database per scenario, for a before/after comparison with db_diff.sh.
# Usage: scripts/scenarios_db.sh LATSURF_BINARY OUTDIR [extra run args...]
set -eu
[ $# -ge 2 ] || { echo "usage: $0 LATSURF OUTDIR [run args]" >&2; exit 2; }
bin=$(realpath "$1"); out=$2; shift 2
src=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
for s in "$src"/scenarios/*.json; do
  n=$(basename "$s" .json)
  rm -f "$out/$n.sqlite"
  (cd "$src" && "$bin" run "$s" --db "$out/$n.sqlite" --seed 7 --reps 2 --set run.record_requests=2000 "$@" >/dev/null) ||
    echo "$n: exit $?" >&2
done
