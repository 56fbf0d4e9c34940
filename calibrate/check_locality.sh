#!/usr/bin/env bash
# check_locality.sh - issue 6 acceptance on a real host (root, tracefs, fio):
#  1. fio QD1 4 KiB randread O_DIRECT io_uring pinned to each CPU: lat/clat p50;
#  2. `latsurf calibrate --quick`: the same QD1 p50s, the cross-/same-CPU
#     wakeup and completion-chain parameters;
#  3. `latsurf trace record -- fio QD1` + `trace analyze`: the join rate.
# Usage: calibrate/check_locality.sh [LATSURF_BIN] [WORKDIR]
set -euo pipefail
bin=${1:-./build/latsurf}
work=$(mktemp -d "${2:-/var/tmp}/latsurf-locality-XXXXXX")
trap 'rm -rf "$work"' EXIT
fio_args=(--filename="$work/fio.dat" --size=64M --rw=randread --bs=4k --direct=1
          --ioengine=io_uring --iodepth=1 --lat_percentiles=1)

echo "== fio QD1 pinned per CPU (3 s each)"
for cpu in $(seq 0 $(( $(nproc) - 1 ))); do
  taskset -c "$cpu" fio --name="cpu$cpu" "${fio_args[@]}" --runtime=3 --time_based \
    --output-format=json | python3 -c "
import json, sys
r = json.load(sys.stdin)['jobs'][0]['read']
print('  CPU %s: lat p50 %.1f us, clat p50 %.1f us, %.0f IOPS' % ($cpu,
      r['lat_ns']['percentile']['50.000000'] / 1e3,
      r['clat_ns']['percentile']['50.000000'] / 1e3, r['iops']))"
done

echo "== latsurf calibrate --quick"
"$bin" calibrate --quick --quiet --out "$work/cal.json" >/dev/null
python3 - "$work/cal.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))['params']
def v(k): return '%9.1f us' % (p[k]['value'] / 1e3) if k in p else '   (none)'
for k in sorted(k for k in p if k.startswith('qd1_read_p50_cpu')):
    print('  %-28s %s' % (k, v(k)))
print('  irq_cpu                      %9d' % p['irq_cpu']['value'] if 'irq_cpu' in p else '')
for a, b in [('wakeup_same_cpu_ns', 'wakeup_cross_cpu_ns'),
             ('complete_to_cqe_same_ns', 'complete_to_cqe_cross_ns'),
             ('complete_to_wakeup_same_ns', 'complete_to_wakeup_cross_ns'),
             ('wakeup_to_run_same_ns', 'wakeup_to_run_cross_ns'),
             ('cqe_to_run_same_ns', 'cqe_to_run_cross_ns')]:
    print('  %-28s %s   %-28s %s' % (a, v(a), b, v(b)))
PY

echo "== trace record + analyze of a QD1 fio run (2000 I/Os)"
taskset -c 0 "$bin" trace record --out "$work/fio.trace" -- \
  fio --name=traced "${fio_args[@]}" --number_ios=2000 --output-format=terse >/dev/null
"$bin" trace analyze "$work/fio.trace" --db "$work/trace.sqlite" | sed -n '1,4p'
