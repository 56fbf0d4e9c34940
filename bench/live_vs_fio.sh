#!/usr/bin/env bash
# bench/live_vs_fio.sh - latsurf live against fio on the same job.
#
# Runs scenarios/host-qd1.json live (variants kernel and consumer: QD1 4 KiB
# random O_DIRECT reads through io_uring) and fio with the same job (4k
# randread, QD1, io_uring, O_DIRECT, the same file and span) pinned with
# taskset to the CPU the live variant's consumer ran on (read back from the
# run's request rows). Each round runs live and fio back to back (in
# alternating order), so that drift in a shared host's load hits both alike;
# the median over rounds of the per-round ratio is compared. Then the
# backend's own overhead, the kernel variant against fio: QD32 by one
# thread, and QD128 by four threads of QD32 on two CPUs (the scenario's
# workload four times, consumer i on CPU i % 2; fio --numjobs=4 with
# cpus_allowed_policy=split puts job i on the same CPU).
#
# Checks (exit 1 if any fails): each QD1 live p50 within 10% of fio's and
# IOPS within 5%; at QD32 and QD128 live IOPS at least 95% of fio's.
#
# Environment: LATSURF_BIN (default build/latsurf), LIVE_DIR (scratch
# directory on the device under test; default a new one in /var/tmp),
# ROUNDS (5), DUR_MS (1500 per run), SCENARIO (scenarios/host-qd1.json).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${LATSURF_BIN:-$src/build/latsurf}
scn=${SCENARIO:-$src/scenarios/host-qd1.json}
rounds=${ROUNDS:-5}
dur_ms=${DUR_MS:-1500}
dir=${LIVE_DIR:-$(mktemp -d /var/tmp/latsurf-live.XXXXXX)}
for tool in fio taskset sqlite3 python3; do
  command -v $tool >/dev/null || { echo "live_vs_fio: $tool not found (scripts/deps.sh)" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "live_vs_fio: $bin not built (make, or set LATSURF_BIN)" >&2; exit 2; }
target=$dir/target.dat
db=$dir/live.sqlite
results=$dir/results.txt
span=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['workload'][0]['span_bytes'])" "$scn")
scn128=$dir/qd128.json
rm -f "$db"
trap 'rm -f "$db" "$dir"/fio.json "$scn128"' EXIT
# QD128: four consumers of QD32, two per CPU
python3 - "$scn" "$scn128" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
w = s["workload"][0]
s["name"] += "-qd128"
s["workload"] = [dict(w, queue_depth=32, consumer_cpu=i % 2) for i in range(4)]
json.dump(s, open(sys.argv[2], "w"), indent=1)
PY

# The target: created (and marked) by latsurf, written with data so that
# reads reach the device.
"$bin" live "$scn" --target "$target" --create "$span" --variant kernel --duration-ms 200 \
  --db "$dir/warm.sqlite" --quiet
rm -f "$dir/warm.sqlite"

# fio job = the scenario's workload; prints "p50_ns iops" (summed over jobs)
fio_run() { # cpus iodepth jobs
  taskset -c "$1" fio --name=live_vs_fio --filename="$target" --size="$span" --rw=randread \
    --numjobs="$3" --cpus_allowed="$1" --cpus_allowed_policy=split --group_reporting \
    --bs=4k --iodepth="$2" --ioengine=io_uring --direct=1 --norandommap --randrepeat=0 \
    --time_based --runtime="${dur_ms}ms" --ramp_time="$((dur_ms / 10))ms" --lat_percentiles=1 \
    --output-format=json --output="$dir/fio.json" >/dev/null
  python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['jobs'][0]['read']
print(r['lat_ns']['percentile']['50.000000'], r['iops'])" "$dir/fio.json"
}
# latsurf live, one variant; prints "p50_ns iops consumer_cpus" (the CPUs
# its consumers ran on, comma-separated)
live_run() { # scenario variant [extra args]
  local s=$1 v=$2; shift 2
  "$bin" live "$s" --target "$target" --variant "$v" --duration-ms "$dur_ms" --db "$db" \
    --set run.record_requests=1000 --quiet "$@"
  sqlite3 -separator ' ' "$db" "
    WITH r AS (SELECT max(run_id) AS id FROM runs WHERE variant = '$v' AND mode = 'live')
    SELECT (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'lat_p50_ns'),
           (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'iops'),
           (SELECT group_concat(c) FROM (SELECT DISTINCT consumer_cpu AS c FROM requests, r
                                         WHERE run_id = r.id ORDER BY c));"
}
# one pair: live then fio on odd rounds, fio then live on even ones; the
# CPU is where this variant's consumer ran (in the previous round if fio
# goes first)
pair() { # round qd variant [live args]
  local i=$1 qd=$2 v=$3; shift 3
  local depth=1 jobs=1 s=$scn lp lio cpu fp fio
  case $qd in
  qd32) depth=32 ;;
  qd128) depth=32 jobs=4 s=$scn128 ;;
  esac
  if ((i % 2)); then
    read -r lp lio cpu < <(live_run "$s" "$v" "$@")
    read -r fp fio < <(fio_run "$cpu" $depth $jobs)
  else
    cpu=$(awk -v q="$qd" -v v="$v" '$1 == q && $2 == v {c = $3} END {print c}' "$results")
    read -r fp fio < <(fio_run "$cpu" $depth $jobs)
    read -r lp lio cpu < <(live_run "$s" "$v" "$@")
  fi
  echo "$qd $v $cpu $lp $lio $fp $fio" | tee -a "$results"
}

: >"$results"
for ((i = 1; i <= rounds; i++)); do
  pair $i qd1 kernel
  pair $i qd1 consumer
  pair $i qd32 kernel --set workload.0.queue_depth=32
  pair $i qd128 kernel
done

python3 - "$results" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
def q(x, p):
    x = sorted(x); k = (len(x) - 1) * p; f = int(k)
    return x[f] + (x[min(f + 1, len(x) - 1)] - x[f]) * (k - f)
ok = True
print()
print("%-5s %-9s %5s %11s %11s %-19s %10s %10s %-19s %-11s" % ("qd", "variant", "cpu",
      "live p50 us", "fio p50 us", "p50 ratio [IQR]", "live IOPS", "fio IOPS", "IOPS ratio [IQR]",
      "range"))
for qd, v in (("qd1", "kernel"), ("qd1", "consumer"), ("qd32", "kernel"), ("qd128", "kernel")):
    rs = [r for r in rows if r[0] == qd and r[1] == v]
    lp = [float(r[3]) for r in rs]; li = [float(r[4]) for r in rs]
    fp = [float(r[5]) for r in rs]; fi = [float(r[6]) for r in rs]
    # paired by round: the ratio cancels the load drift both runs of a round share
    pr = [a / b for a, b in zip(lp, fp)]; ir = [a / b for a, b in zip(li, fi)]
    checks = []
    if qd == "qd1":
        checks.append(("p50", abs(st.median(pr) - 1) <= 0.10))
        checks.append(("IOPS", abs(st.median(ir) - 1) <= 0.05))  # IOPS = 1 / latency at QD1
    else:
        checks.append(("IOPS", st.median(ir) >= 0.95))  # the backend keeps up with fio
    ok &= all(c for _, c in checks)
    print("%-5s %-9s %5s %11.1f %11.1f %5.3f [%.2f,%.2f]  %10.0f %10.0f %5.3f [%.2f,%.2f]  "
          "%.2f-%.2f   %s" % (
          qd, v, rs[-1][2], st.median(lp) / 1e3, st.median(fp) / 1e3, st.median(pr),
          q(pr, .25), q(pr, .75), st.median(li), st.median(fi), st.median(ir), q(ir, .25),
          q(ir, .75), min(ir), max(ir), " ".join("%s %s" % (n, "ok" if c else "FAIL") for n, c in checks)))
print("\n%d rounds, live and fio back to back; medians, and for the ratios the median of the"
      "\nper-round ratios [quartiles] and their range. Pass: at QD1 p50 within 10%%, IOPS within 5%%;"
      "\nat QD32 and QD128 live IOPS >= 95%% of fio's." % len(rs))
sys.exit(0 if ok else 1)
PY
