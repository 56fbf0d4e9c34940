#!/usr/bin/env bash
# replay_speed.sh - trace replay speed against commit 6f68813 and MQSim (issue 17).
#
#   bench/replay_speed.sh [BUILD_DIR]        (default: build)
#
# Builds the relay MQSim's figure uses: scenarios/traces/tpcc-small.trace (DiskSim ASCII,
# 6,999 requests over 0.136 s) repeated RELAYS times (default 300: 2,099,700 requests),
# each pass starting one mean inter-arrival time after the previous one's last request,
# so the load is the original trace's. It is replayed in two forms: DiskSim ASCII read
# directly, and latsurf JSONL made with `latsurf import disksim`. Then it builds
# BASE_REF (default 6f68813) in a temporary git worktree (RelWithDebInfo, like the
# project) and the current tree in BUILD_DIR, and runs both back to back on each form:
# bench/replay_speed.json (one variant, one replication, the `trace` workload), whole
# `latsurf run` process, wall time, CPU time (user + sys) and peak RSS from
# /usr/bin/time -v. It prints both times, the ratio (base / current), and the implied
# ratio to MQSim's 16.08 s for the same requests (issue 17: MQSim 2022 build, default SSD
# config, 2.39 GB peak RSS). On a shared machine wall time includes waiting for a CPU:
# compare the CPU seconds there, and use REPS (each figure the best of REPS alternating
# runs).
#
# Environment: BASE_REF, RELAYS, REPS (default 1), JOBS (build parallelism, default nproc),
# BASE_BIN (a latsurf binary of BASE_REF already built: skips that build),
# KEEP=1 (keep the work directory). Run on a quiet machine: every figure is
# single-core wall time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
base_ref=${BASE_REF:-6f68813}
relays=${RELAYS:-300}
reps=${REPS:-1}
jobs=${JOBS:-$(nproc)}
mqsim_s=16.08
work=$(mktemp -d /tmp/latsurf-replay-speed-XXXXXX)
cleanup() {
  if [ -d "$work/base-src" ]; then
    git -C "$here" worktree remove --force "$work/base-src" >/dev/null 2>&1 || true
  fi
  [ "${KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

[ -x /usr/bin/time ] || { echo "replay_speed: needs /usr/bin/time (LATSURF_EXTRA_PKGS=time bash scripts/deps.sh)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "replay_speed: needs sqlite3 (bash scripts/deps.sh)" >&2; exit 1; }

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== building the current tree in $build"
[ -f "$build/CMakeCache.txt" ] || cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target latsurf -j "$jobs" >/dev/null
cur="$build/latsurf"

if [ -n "${BASE_BIN:-}" ]; then
  base=$BASE_BIN
  echo "== base $base_ref: using $base"
else
  echo "== building $base_ref in $work/base-src"
  git -C "$here" worktree add --detach "$work/base-src" "$base_ref" >/dev/null 2>&1
  cmake -S "$work/base-src" -B "$work/base-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$work/base-build" --target latsurf -j "$jobs" >/dev/null
  base="$work/base-build/latsurf"
fi

echo "== relaying tpcc-small.trace $relays times"
src="$here/scenarios/traces/tpcc-small.trace"
relay="$work/tpcc-relay.trace"
# %.0f, not %d: mawk clamps %d to 2^31-1
awk -v n="$relays" '
  { t[NR] = $1; rest[NR] = $2 " " $3 " " $4 " " $5 }
  END {
    period = t[NR] - t[1] + (t[NR] - t[1]) / (NR - 1)
    for (k = 0; k < n; k++)
      for (i = 1; i <= NR; i++)
        printf "%.0f %s\n", t[i] + k * period, rest[i]
    printf "%.0f\n", t[1] + n * period - t[1] > "/dev/stderr"
  }' "$src" > "$relay" 2> "$work/span_ns"
lines=$(wc -l < "$relay")
span_ms=$(awk '{ printf "%d", $1 / 1e6 }' "$work/span_ns")
duration_ms=$((span_ms + 1000))   # room for the last requests to complete
"$cur" import disksim "$relay" --out "$work/tpcc-relay.jsonl" 2>/dev/null
echo "relay: $lines requests over $span_ms ms simulated; run.duration_ms=$duration_ms"

# run BIN FORMAT FILE -> "wall_s cpu_s rss_kib requests"
run_one() {
  local bin=$1 fmt=$2 file=$3 db="$work/run-$RANDOM.sqlite"
  /usr/bin/time -v -o "$work/time.txt" "$bin" run "$here/bench/replay_speed.json" --quiet \
    --db "$db" --set "workload.0.path=$file" --set "workload.0.format=$fmt" \
    --set "run.duration_ms=$duration_ms" >/dev/null
  local t reqs
  t=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0;
                    for (i = 1; i <= n; i++) w = w * 60 + p[i] }
                  /User time/ { c += $2 } /System time/ { c += $2 }
                  /Maximum resident set size/ { m = $2 }
                  END { print w, c, m }' "$work/time.txt")
  reqs=$(sqlite3 "$db" 'select requests from runs')
  rm -f "$db"
  echo "$t $reqs"
}

# best of REPS: keep the smallest wall and CPU time, the largest peak RSS
best() { # best "w c m r" "w c m r"
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
    if (x[1] == "") { print b; exit }
    printf "%s %s %s %s\n", (y[1] < x[1] ? y[1] : x[1]), (y[2] < x[2] ? y[2] : x[2]),
           (y[3] > x[3] ? y[3] : x[3]), y[4] }'
}

printf '\n%-8s %-10s %8s %8s %12s %10s %12s\n' input build wall_s cpu_s peak_rss_MiB requests \
       wall_vs_MQSim
for fmt in jsonl disksim; do
  file="$work/tpcc-relay.trace"
  [ "$fmt" = jsonl ] && file="$work/tpcc-relay.jsonl"
  b="" c=""
  for ((i = 0; i < reps; i++)); do
    b=$(best "$b" "$(run_one "$base" "$fmt" "$file")")
    c=$(best "$c" "$(run_one "$cur" "$fmt" "$file")")
  done
  awk -v f="$fmt" -v ref="$base_ref" -v b="$b" -v c="$c" -v mq="$mqsim_s" 'BEGIN {
    split(b, x, " "); split(c, y, " ")
    printf "%-8s %-10s %8.2f %8.2f %12.1f %10s %11.2fx\n", f, ref, x[1], x[2], x[3] / 1024, x[4], mq / x[1]
    printf "%-8s %-10s %8.2f %8.2f %12.1f %10s %11.2fx\n", f, "current", y[1], y[2], y[3] / 1024, y[4], mq / y[1]
    printf "%-8s current vs %s: %.2fx faster (wall), %.2fx (CPU)\n", f, ref, x[1] / y[1], x[2] / y[2]
  }'
done
echo "(wall_vs_MQSim: MQSim's $mqsim_s s for the same requests / this wall time; > 1 is faster;"
echo " $reps run(s) each, best of; machine load now $(cut -d' ' -f1-3 /proc/loadavg))"
