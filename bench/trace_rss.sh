#!/usr/bin/env bash
# trace_rss.sh - memory and speed of trace replay on a 10-million-line JSONL trace.
#
#   bench/trace_rss.sh [BUILD_DIR] [LINES]     (defaults: build, 10000000)
#
# Generates the trace (3 open-loop records at 1 us spacing, then one closed-loop record
# waiting on the previous one with 500 ns think time, repeating), then
#   1. reads it with the JSONL reader alone,
#   2. replays it with the `trace` workload on a fake I/O path (10 us per request),
# and prints records and requests per CPU second (wall time is shared with whatever else
# runs) and peak RSS for each (VmHWM, and /usr/bin/time's
# maximum resident set where present). Fails if a peak RSS reaches 100 MiB.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
lines=${2:-10000000}
work=$(mktemp -d /tmp/latsurf-trace-rss-XXXXXX)
trap 'rm -rf "$work"' EXIT

for lib in workload models sim policies; do
  [ -f "$build/liblatsurf_$lib.a" ] || { echo "trace_rss: build $build first" >&2; exit 1; }
done
cc -std=gnu11 -O2 -I"$here" -o "$work/replay_driver" "$here/bench/trace/replay_driver.c" \
  "$build/liblatsurf_workload.a" "$build/liblatsurf_models.a" "$build/liblatsurf_sim.a" \
  "$build/liblatsurf_policies.a" $(pkg-config --libs jansson gsl) -lm

trace="$work/trace.jsonl"
# %.0f, not %d: mawk clamps %d to 2^31-1
awk -v n="$lines" 'BEGIN {
  for (i = 0; i < n; i++) {
    off = (i * 7919 % 262144) * 4096
    if (i % 4 == 3)
      printf "{\"id\":%.0f,\"after\":[%.0f],\"think_ns\":500,\"op\":\"read\",\"offset\":%.0f,\"bytes\":4096,\"flow\":%d}\n", i, i - 1, off, i % 8
    else
      printf "{\"id\":%.0f,\"t_ns\":%.0f,\"op\":\"%s\",\"offset\":%.0f,\"bytes\":4096,\"flow\":%d}\n", i, i * 1000, (i % 5 ? "read" : "write"), off, i % 8
  }
}' > "$trace"
tail -n 1 "$trace" | grep -q "\"id\":$((lines - 1))," || { echo "trace_rss: generator failed" >&2; exit 1; }
echo "trace: $lines lines, $(du -m "$trace" | cut -f1) MiB"

timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f "  /usr/bin/time: max RSS %M KiB, %e s")
fail=0
for mode in --read-only ""; do
  out=$("${timer[@]}" "$work/replay_driver" "$trace" $mode 2>&1)
  echo "$out"
  for mib in $(echo "$out" | sed -n 's/.*peak_rss_mib=\([0-9.]*\).*/\1/p'); do
    awk -v m="$mib" 'BEGIN { exit !(m >= 100) }' && { echo "FAIL: peak RSS $mib MiB >= 100"; fail=1; }
  done
done
exit $fail
