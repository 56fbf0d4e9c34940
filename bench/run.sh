#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - the benchmarks behind docs/engine.md (`make bench`):
#   1. latsurf bench hold at 10^2, 10^4 (the acceptance figure) and 10^5 pending
#   2. bench_pes_compare: pending-event-set structures on the hold model
#   3. M/M/1 at rho 0.5 in latsurf (bench_mm1) and in SimPy (simpy_mm1.py):
#      wall times, mean waits against theory, and the speed ratio.
# Environment: MM1_CUSTOMERS (default 1000000), HOLD_EVENTS (default 10^7).
# Run it on a quiet machine: every figure is single-core wall time.
set -eu
build=${1:?usage: bench/run.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/.." && pwd)
customers=${MM1_CUSTOMERS:-1000000}
events=${HOLD_EVENTS:-10000000}
for f in "$build/latsurf" "$build/bench/bench_pes_compare" "$build/bench/bench_mm1"; do
  [ -x "$f" ] || { echo "bench/run.sh: $f not built (run make build)" >&2; exit 1; }
done

echo "== machine"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs," \
     "load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"

echo; echo "== latsurf bench hold (through sim_at/sim_run)"
for p in 100 10000 100000; do
  "$build/latsurf" bench hold --pending "$p" --events "$events"
done
"$build/latsurf" bench hold --draws gsl --events "$events"

echo; echo "== pending-event set on the hold model (bench_pes_compare)"
"$build/bench/bench_pes_compare"

echo; echo "== M/M/1, rho 0.5, $customers customers (theory: wait 500 ns, sojourn 1000 ns)"
lat=$("$build/bench/bench_mm1" "$customers")
echo "$lat"
# Debian's python3-simpy is installed for /usr/bin/python3; a pyenv or venv
# python3 first on PATH may not see it.
py=""
for cand in python3 /usr/bin/python3; do
  if command -v "$cand" >/dev/null &&
     "$cand" -c 'import importlib.util as u, sys; sys.exit(not (u.find_spec("simpy") or u.find_spec("SimPy")))' 2>/dev/null; then
    py=$cand; break
  fi
done
if [ -z "$py" ]; then
  echo "SimPy not found (Debian: apt-get install python3-simpy); skipping the comparison" >&2
  exit 1
fi
simpy=$("$py" "$src/bench/simpy_mm1.py" "$customers")
echo "$simpy"
# field after a name: "... wall_s 1.23 ..." -> 1.23
field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$1"; }
awk -v lw="$(field "$lat" wall_s)" -v sw="$(field "$simpy" wall_s)" \
    -v lc="$(field "$lat" cpu_s)" -v sc="$(field "$simpy" cpu_s)" \
    -v lq="$(field "$lat" mean_wait_ns)" -v sq="$(field "$simpy" mean_wait_ns)" \
    -v ls="$(field "$lat" mean_sojourn_ns)" -v ss="$(field "$simpy" mean_sojourn_ns)" 'BEGIN {
  bad = 0
  printf "%-8s %8s %8s %14s %16s\n", "", "wall_s", "cpu_s", "mean_wait_ns", "mean_sojourn_ns"
  printf "%-8s %8s %8s %14s %16s\n", "theory", "", "", "500.0", "1000.0"
  printf "%-8s %8.3f %8.3f %14.1f %16.1f\n", "latsurf", lw, lc, lq, ls
  printf "%-8s %8.3f %8.3f %14.1f %16.1f\n", "simpy", sw, sc, sq, ss
  # 5% of the mean: several standard errors at 10^6 customers.
  if (lq < 475 || lq > 525 || sq < 475 || sq > 525) { print "mean wait differs from theory by > 5%"; bad = 1 }
  printf "speed: latsurf/SimPy = %.0fx by CPU time (%.0fx by wall time)\n", sc / lc, sw / lw
  exit bad
}'
