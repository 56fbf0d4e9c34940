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

echo "== machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== sweep: 2 points x 2 variants x $reps replications, ${task_ms} ms at 100k IOPS per task"

# tasks/s from the summary line "... (X tasks/s, ...)"
rate() { sed -n 's/.*(\([0-9.]*\) tasks\/s.*/\1/p' <<<"$1"; }

declare -A r
for w in 1 2; do
  out=$("$bin" "${args[@]}" --db "$work/local$w.sqlite" --workers "$w")
  r[local$w]=$(rate "$out")
  echo "local, $w worker(s): $out"
done
ranks=""
if command -v mpirun >/dev/null && "$bin" sweep --help | grep -q "MPI support: built in"; then
  root=""; [ "$(id -u)" -eq 0 ] && root=--allow-run-as-root
  for n in 1 2; do
    out=$(mpirun $root --oversubscribe -np "$n" "$bin" "${args[@]}" --db "$work/mpi$n.sqlite")
    r[mpi$n]=$(rate "$out")
    echo "MPI, $n rank(s): $out"
  done
  ranks=yes
else
  echo "MPI: skipped (needs mpirun and a latsurf built with libopenmpi-dev)"
fi

echo
printf "%-10s %10s %10s %8s\n" "" "1 (t/s)" "2 (t/s)" "ratio"
awk -v a="${r[local1]}" -v b="${r[local2]}" \
    'BEGIN { printf "%-10s %10.2f %10.2f %7.2fx\n", "local", a, b, b / a }'
if [ -n "$ranks" ]; then
  awk -v a="${r[mpi1]}" -v b="${r[mpi2]}" \
      'BEGIN { printf "%-10s %10.2f %10.2f %7.2fx\n", "MPI", a, b, b / a }'
fi
echo "target: 2 workers >= 1.8x 1 worker"
