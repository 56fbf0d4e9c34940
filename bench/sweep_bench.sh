#!/usr/bin/env bash
# sweep_bench.sh - `latsurf sweep` throughput: tasks per second with 1 and 2
# local workers, and with 1 and 2 MPI ranks (when mpirun is installed and
# latsurf was built with MPI), and the 2-vs-1 ratios (target >= 1.8 on a
# 2-core machine).
#
#   bench/sweep_bench.sh [BUILD_DIR] [REPS]     (defaults: build, 4)
#
# The sweep: 2 points x 2 variants x REPS replications (16 tasks by default),
# each a Poisson load of 100k IOPS for SWEEP_TASK_MS simulated ms (default
# 6000: about 0.5 s of CPU per task), so per-task costs (loading, the SQLite
# transaction, the pipe or MPI message) are small next to the work. Every
# run starts from an empty database. Wall-clock figures: run it on a quiet
# machine (the load average is printed first).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build}" && pwd)
reps=${2:-4}
task_ms=${SWEEP_TASK_MS:-6000}
bin="$build/latsurf"
[ -x "$bin" ] || { echo "sweep_bench: $bin not built (run make build)" >&2; exit 1; }
work=$(mktemp -d /tmp/latsurf-sweep-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat > "$work/bench.json" <<JSON
{"name": "sweepbench", "host": {"cpus": 8},
 "workload": [{"type": "poisson", "rate_iops": 100000}],
 "variants": [{"name": "baseline"}, {"name": "latency", "mode": "latency"}],
 "run": {"duration_ms": $task_ms, "warmup_ms": 100, "replications": $reps}}
JSON
args=(sweep "$work/bench.json" --grid host.cpus=4,8 --quiet)
tasks=$((2 * 2 * reps))

echo "== machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v l="$(cut -d' ' -f1 /proc/loadavg)" -v n="$(nproc)" 'BEGIN { if (l > n / 2)
  printf "warning: load %s on %d CPUs: other work shares the cores; wall-clock ratios are noise\n", l, n }'

echo "== sweep: 2 points x 2 variants x $reps replications, ${task_ms} ms at 100k IOPS per task"

# tasks/s from the summary line "... (X tasks/s, ...)"
rate() { sed -n 's/.*(\([0-9.]*\) tasks\/s.*/\1/p' <<<"$1"; }
# run a sweep; print its summary and the CPU seconds it got (all processes)
TIMEFORMAT='%U %S'
bench() {
  local name=$1; shift
  { time "$@" > "$work/out" 2> "$work/err"; } 2> "$work/time" || { cat "$work/err" >&2; exit 1; }
  local out cpu
  out=$(cat "$work/out")
  cpu=$(awk '{ print $1 + $2 }' "$work/time")
  r[$name]=$(rate "$out")
  c[$name]=$cpu
  echo "$name: $out; cpu ${cpu} s"
}

declare -A r c
for w in 1 2; do
  bench local$w "$bin" "${args[@]}" --db "$work/local$w.sqlite" --workers "$w"
done
ranks=""
if command -v mpirun >/dev/null && "$bin" sweep --help | grep -q "MPI support: built in"; then
  root=""; [ "$(id -u)" -eq 0 ] && root=--allow-run-as-root
  for n in 1 2; do
    bench mpi$n mpirun $root --oversubscribe -np "$n" "$bin" "${args[@]}" --db "$work/mpi$n.sqlite"
  done
  ranks=yes
else
  echo "MPI: skipped (needs mpirun and a latsurf built with libopenmpi-dev)"
fi

echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
# cpu/task: CPU seconds per task, all processes (overhead shows as growth from 1 to 2)
printf "%-6s %9s %9s %7s   %13s %13s\n" "" "1: task/s" "2: task/s" "ratio" "1: cpu/task" "2: cpu/task"
row() {
  awk -v n="$1" -v a="${r[${1}1]}" -v b="${r[${1}2]}" -v ca="${c[${1}1]}" -v cb="${c[${1}2]}" \
      -v t="$tasks" 'BEGIN { printf "%-6s %9.2f %9.2f %6.2fx   %12.3fs %12.3fs\n", n, a, b, b / a, ca / t, cb / t }'
}
row local
[ -n "$ranks" ] && row mpi
echo "target: 2 workers >= 1.8x 1 worker (wall clock: needs 2 otherwise idle cores)"
