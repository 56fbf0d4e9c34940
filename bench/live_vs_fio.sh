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
# The regimes of scenarios/validation/ that live is the reference for:
# qd4 (one thread, fio --iodepth=4), two-threads (QD8 on CPU 0 and on CPU 1;
# fio --numjobs=2 split over the same CPUs) and open-loop Poisson at 30, 60
# and 90% (fio --rate_iops with --rate_process=poisson and an iodepth deep
# enough never to block an arrival), each variant kernel and consumer.
# fio's figure is `lat` (submission to reaped completion, not clat). For the
# open loop, live's latency counts from the arrival's due time (what an
# open-loop client sees); fio's counts from its own submission, and in its
# default inline submit mode fio reaps everything in flight before it sleeps
# for the next arrival, so an issuer running late is not in fio's figure:
# when live issues on time the two measure the same thing.
#
# Checks (exit 1 if any fails): each QD1 live p50 within 10% of fio's and
# IOPS within 5%; at QD32 and QD128 live IOPS at least 95% of fio's; at QD4,
# two threads and Poisson 30/60% p50 and IOPS within 10% of fio's (Poisson
# 90% reported, not gated: 1/(1-rho) multiplies any difference there).
#
# Environment: LATSURF_BIN (default build/latsurf), LIVE_DIR (scratch
# directory on the device under test; default a new one in /var/tmp),
# ROUNDS (5), DUR_MS (1500 per run), SCENARIO (scenarios/host-qd1.json),
# POINTS (a subset of: qd1 qd32 qd128 qd4 two p30 p60 p90; default all),
# LIVE_TASKRUN (the live rings' task_work mode, host.taskrun, for every
# point; by default `defer` at the closed-loop points - the set-up fio
# 3.33's io_uring engine always makes, COOP_TASKRUN | SINGLE_ISSUER |
# DEFER_TASKRUN as strace shows, so that both run the same ring - and
# `policy` (the variants' own: the default mode, as validate runs them) at
# the Poisson points, where fio's figure is not the same measurement anyway),
# WAIT_QUIET (seconds, default 0: before each pair, wait up to this long for
# a second in which the CPUs are at least 90% idle - on a shared VM, so that
# the pair does not run beside another job's burst).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin=${LATSURF_BIN:-$src/build/latsurf}
scn=${SCENARIO:-$src/scenarios/host-qd1.json}
val=$src/scenarios/validation
rounds=${ROUNDS:-5}
dur_ms=${DUR_MS:-1500}
points=${POINTS:-qd1 qd32 qd128 qd4 two p30 p60 p90}
dir=${LIVE_DIR:-$(mktemp -d /var/tmp/latsurf-live.XXXXXX)}
for tool in fio taskset sqlite3 python3; do
  command -v $tool >/dev/null || { echo "live_vs_fio: $tool not found (scripts/deps.sh)" >&2; exit 2; }
done
[ -x "$bin" ] || { echo "live_vs_fio: $bin not built (make, or set LATSURF_BIN)" >&2; exit 2; }
target=$dir/target.dat
db=$dir/live.sqlite
results=$dir/results.txt
# one file for every point: as large as the largest span read
span=$(python3 -c "
import json, sys
print(max(w['span_bytes'] for f in sys.argv[1:] for w in json.load(open(f))['workload']))" \
  "$scn" "$val"/qd4.json "$val"/two-threads.json "$val"/poisson-30.json)
scn128=$dir/qd128.json
rm -f "$db"
trap 'rm -f "$db" "$dir"/fio.json "$scn128"' EXIT
# QD128: four consumers of QD32, two per CPU
python3 - "$scn" "$scn128" <<'PY2'
import json, sys
s = json.load(open(sys.argv[1]))
w = s["workload"][0]
s["name"] += "-qd128"
s["workload"] = [dict(w, queue_depth=32, consumer_cpu=i % 2) for i in range(4)]
json.dump(s, open(sys.argv[2], "w"), indent=1)
PY2

# The target: created (and marked) by latsurf, written with data so that
# reads reach the device.
"$bin" live "$scn" --target "$target" --create "$span" --variant kernel --duration-ms 200 \
  --db "$dir/warm.sqlite" --quiet
rm -f "$dir/warm.sqlite"

# fio job = the scenario's workload; prints "p50_ns p99_ns iops" (`lat`,
# summed over jobs); extra fio arguments after the first three
fio_run() { # cpus iodepth jobs [fio args]
  local cpus=$1 depth=$2 jobs=$3; shift 3
  taskset -c "$cpus" fio --name=live_vs_fio --filename="$target" --size="$span" --rw=randread \
    --numjobs="$jobs" --cpus_allowed="$cpus" --cpus_allowed_policy=split --group_reporting \
    --bs=4k --iodepth="$depth" --ioengine=io_uring --direct=1 --norandommap --randrepeat=0 \
    --time_based --runtime="${dur_ms}ms" --ramp_time="$((dur_ms / 10))ms" --lat_percentiles=1 \
    --output-format=json --output="$dir/fio.json" "$@" >/dev/null
  python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['jobs'][0]['read']
p = r['lat_ns']['percentile']
print(p['50.000000'], p['99.000000'], r['iops'])" "$dir/fio.json"
}
# latsurf live, one variant; prints "p50_ns p99_ns iops consumer_cpus" (the
# CPUs its consumers ran on, comma-separated)
live_run() { # scenario variant [extra args]
  local s=$1 v=$2; shift 2
  "$bin" live "$s" --target "$target" --variant "$v" --duration-ms "$dur_ms" --db "$db" \
    --set run.record_requests=1000 --quiet "$@"
  sqlite3 -separator ' ' "$db" "
    WITH r AS (SELECT max(run_id) AS id FROM runs WHERE variant = '$v' AND mode = 'live')
    SELECT (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'lat_p50_ns'),
           (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'lat_p99_ns'),
           (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'iops'),
           (SELECT group_concat(c) FROM (SELECT DISTINCT consumer_cpu AS c FROM requests, r
                                         WHERE run_id = r.id ORDER BY c));"
}
# A point: its live scenario and arguments, and fio's iodepth, jobs and
# arguments. The Poisson rates are the scenarios' own.
rate() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['workload'][0]['rate_iops'])" "$1"; }
point() { # name -> sets s, largs, depth, jobs, fargs
  largs=(--set host.taskrun="${LIVE_TASKRUN:-defer}") fargs=() depth=1 jobs=1 s=$scn
  case $1 in
  qd1) ;;
  qd32) depth=32 largs+=(--set workload.0.queue_depth=32) ;;
  qd128) depth=32 jobs=4 s=$scn128 ;;
  qd4) depth=4 s=$val/qd4.json ;;
  two) depth=8 jobs=2 s=$val/two-threads.json ;;
  p30 | p60 | p90)
    s=$val/poisson-${1#p}.json depth=64 largs=(--set host.taskrun="${LIVE_TASKRUN:-policy}")
    fargs=(--rate_iops="$(rate "$s")" --rate_process=poisson) ;;
  *) echo "live_vs_fio: unknown point $1" >&2; exit 2 ;;
  esac
}
# Wait (up to WAIT_QUIET s) for a second with the CPUs >= 90% idle.
quiet() {
  local t=0 a b c d
  while ((t < ${WAIT_QUIET:-0})); do
    read -r a b < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
    sleep 1
    read -r c d < <(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat)
    (((c - a) * 10 <= (c - a + d - b))) && return 0
    t=$((t + 1))
  done
}
# one pair: live then fio on odd rounds, fio then live on even ones; fio
# runs on the CPUs this variant's consumers ran on (in the previous round if
# fio goes first)
pair() { # round point variant
  local i=$1 pt=$2 v=$3 lp l99 lio cpu fp f99 fio
  point "$pt"
  quiet
  if ((i % 2)); then
    read -r lp l99 lio cpu < <(live_run "$s" "$v" "${largs[@]}")
    read -r fp f99 fio < <(fio_run "$cpu" "$depth" "$jobs" "${fargs[@]}")
  else
    cpu=$(awk -v q="$pt" -v v="$v" '$1 == q && $2 == v {c = $3} END {print c}' "$results")
    read -r fp f99 fio < <(fio_run "$cpu" "$depth" "$jobs" "${fargs[@]}")
    read -r lp l99 lio cpu < <(live_run "$s" "$v" "${largs[@]}")
  fi
  echo "$pt $v $cpu $lp $l99 $lio $fp $f99 $fio" | tee -a "$results"
}

: >"$results"
for ((i = 1; i <= rounds; i++)); do
  for pt in $points; do
    case $pt in
    qd32 | qd128) pair $i "$pt" kernel ;; # the backend's overhead: one variant is enough
    *) pair $i "$pt" kernel; pair $i "$pt" consumer ;;
    esac
  done
done

python3 - "$results" "$points" "${LIVE_TASKRUN:-defer (closed loop), policy (Poisson)}" <<'PY2'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
def q(x, p):
    x = sorted(x); k = (len(x) - 1) * p; f = int(k)
    return x[f] + (x[min(f + 1, len(x) - 1)] - x[f]) * (k - f)
ok = True
print()
print("%-5s %-9s %5s %9s %9s %-18s %9s %9s %-6s %9s %9s %-18s %s" % ("point", "variant", "cpu",
      "live p50", "fio p50", "p50 ratio [IQR]", "live p99", "fio p99", "ratio",
      "live IOPS", "fio IOPS", "IOPS ratio [IQR]", "checks"))
for pt in sys.argv[2].split():
    for v in ("kernel", "consumer"):
        rs = [r for r in rows if r[0] == pt and r[1] == v]
        if not rs:
            continue
        lp, l99, li, fp, f99, fi = ([float(r[k]) for r in rs] for k in (3, 4, 5, 6, 7, 8))
        # paired by round: the ratio cancels the load drift both runs of a round share
        pr = [a / b for a, b in zip(lp, fp)]; ir = [a / b for a, b in zip(li, fi)]
        r99 = [a / b for a, b in zip(l99, f99)]
        checks = []
        if pt == "qd1":
            checks.append(("p50", abs(st.median(pr) - 1) <= 0.10))
            checks.append(("IOPS", abs(st.median(ir) - 1) <= 0.05))  # IOPS = 1 / latency at QD1
        elif pt in ("qd32", "qd128"):
            checks.append(("IOPS", st.median(ir) >= 0.95))  # the backend keeps up with fio
        elif pt != "p90":  # open loop at 90%: reported only
            checks.append(("p50", abs(st.median(pr) - 1) <= 0.10))
            checks.append(("IOPS", abs(st.median(ir) - 1) <= 0.10))
        ok &= all(c for _, c in checks)
        print("%-5s %-9s %5s %9.1f %9.1f %5.3f [%.2f,%.2f] %9.1f %9.1f %6.2f %9.0f %9.0f "
              "%5.3f [%.2f,%.2f] %s" % (
              pt, v, rs[-1][2], st.median(lp) / 1e3, st.median(fp) / 1e3, st.median(pr),
              q(pr, .25), q(pr, .75), st.median(l99) / 1e3, st.median(f99) / 1e3, st.median(r99),
              st.median(li), st.median(fi), st.median(ir), q(ir, .25), q(ir, .75),
              " ".join("%s %s" % (n, "ok" if c else "FAIL") for n, c in checks) or "-"))
print("\nlive rings: host.taskrun=%s." % sys.argv[3])
print("%d rounds, live and fio back to back; latencies in us, medians; for the ratios (live/fio)"
      "\nthe median of the per-round ratios [quartiles]. Pass: at QD1 p50 within 10%%, IOPS within"
      "\n5%%; at QD32 and QD128 live IOPS >= 95%% of fio's; at QD4, two threads and Poisson 30/60%%"
      "\np50 and IOPS within 10%%; Poisson 90%% reported only." % (len(rows) and max(
      sum(1 for r in rows if r[0] == a and r[1] == b) for a, b in {(r[0], r[1]) for r in rows})))
sys.exit(0 if ok else 1)
PY2
