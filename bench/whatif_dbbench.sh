#!/usr/bin/env bash
# bench/whatif_dbbench.sh - docs/whatif.md's loop on RocksDB's db_bench:
# observe, ask what-if, apply, check.
#
#  1. a RocksDB database (db_bench fillrandom, 1 M keys of 200 bytes, no
#     compression: about 136 MB on the development VM), built once;
#  2. db_bench readrandom with direct reads and an 8 MiB block cache,
#     untraced, traced (`latsurf trace record -- db_bench ...`) and untraced
#     again, back to back: ops/s of each (what tracing costs the application);
#  3. `latsurf trace analyze` of the recording into ref.sqlite (the reference)
#     and `--export-jsonl` into dbb.jsonl (the workload);
#  4. a fresh calibration of this host on the same filesystem (`latsurf
#     calibrate --target DIR`), unless cal.json is there and RECALIBRATE is unset;
#  5. `latsurf run` of bench/whatif_dbbench.json replaying dbb.jsonl on that
#     calibration, every variant: the prediction, and the policy it picks
#     (the variant with the lowest simulated p99); and again with the other
#     tenants' CPU load as measured around the recording (mean runnable tasks,
#     /proc/stat procs_running) as host.background threads; and with
#     host.traced (the recording's own conditions: the tracing costs the
#     calibration measured), which validate's simulation uses too;
#  6. `latsurf live` of the picked variant on a file target latsurf creates
#     (offsets folded into it with wrap_bytes; --allow-write: a recorded write,
#     if any, lands in that scratch file, never in the database), each read
#     one blocking pread on its thread as db_bench reads (--submit pread,
#     docs/whatif.md; SUBMIT=io_uring replays them through rings);
#  7. `latsurf validate --reference ref.sqlite`: recording vs live vs sim for
#     every variant, one table.
#
# Environment: LATSURF_BIN (build/latsurf), WHATIF_DIR (/var/tmp/latsurf-whatif,
# must be on the device under test), THREADS (1), READS (3000), TARGET_SIZE
# (1G: the live replay's file; offsets beyond it fold), REPS (3, live and sim
# replications in validate), RECALIBRATE (set: calibrate even if cal.json exists),
# QUICK (set: calibrate --quick), ROUNDS (1: with N > 1, steps 2-7 run N times
# back to back, each round with its own recording and, unless CAL_ONCE is set,
# its own fresh calibration, and the script ends with every round's errors
# against its own recording and their median), SUBMIT (pread: how live and validate
# issue the replay's reads, --submit; io_uring), WARM (1: read the database once with direct
# reads before anything is measured; 0: skip).
# Needs db_bench (Debian: apt-get install rocksdb-tools), sqlite3, python3, root
# (tracefs).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${LATSURF_BIN:-$src/build/latsurf}")
W=${WHATIF_DIR:-/var/tmp/latsurf-whatif}
threads=${THREADS:-1}
reads=${READS:-3000}
tsize=${TARGET_SIZE:-1G}
reps=${REPS:-3}
submit=${SUBMIT:-pread}
for tool in db_bench sqlite3 python3; do
  command -v $tool >/dev/null || {
    echo "whatif_dbbench: $tool not found (db_bench: apt-get install rocksdb-tools)" >&2; exit 2; }
done
mkdir -p "$W"
cd "$W"
db=$W/dbb
rounds=${ROUNDS:-1}
log() { echo "== $*"; }
exec > >(tee "$W/loop-t$threads-$(date +%m%d-%H%M%S).log") 2>&1
uptime

# 1. the database
if [ ! -f "$db/CURRENT" ]; then
  log "building the database (fillrandom, 1 M keys x 200 B)"
  db_bench --benchmarks=fillrandom --num=1000000 --value_size=200 --compression_type=none \
    --disable_wal=1 --db="$db" > fill.log 2>&1
  db_bench --benchmarks=compact --use_existing_db=1 --compression_type=none --db="$db" >> fill.log 2>&1
fi
du -sh "$db"
# Warm the device under the database as the replay's freshly written target
# is warm: this VM's disk is a file on the hypervisor's host, whose page cache
# made a cold first recording's reads 4x slower than a replay a minute later
# (docs/whatif.md, run G). Direct reads, so the guest's own cache stays cold
# as db_bench's direct reads see it. WARM=0 skips it.
if [ "${WARM:-1}" != 0 ]; then
  log "warming the database's blocks on the device (direct reads)"
  for f in "$db"/*; do dd if="$f" of=/dev/null bs=1M iflag=direct status=none 2>/dev/null || true; done
fi

# The other tenants' CPU load, measured (not fitted): the mean number of
# runnable tasks (/proc/stat procs_running, every 2 ms for 1 s, less the
# sampler itself) while none of ours runs, before and after the recording.
runnable() {
  python3 -c '
import time
n = s = 0
end = time.time() + 1.0
while time.time() < end:
    for line in open("/proc/stat"):
        if line.startswith("procs_running"):
            s += int(line.split()[1]) - 1; n += 1
    time.sleep(0.002)
print("%.2f" % (s / n))'
}

# One round: steps 2-7, every file of it tagged $1.
one_round() {
  local tag=$1
  # 2. ops/s untraced, traced, untraced
  args=(--benchmarks=readrandom --use_existing_db=1 --use_direct_reads=1 --cache_size=8388608
        --reads="$reads" --threads="$threads" --db="$db")
  opsps() { grep -o 'readrandom *: *[0-9.]* micros/op [0-9]* ops/sec' "$1" | awk '{print $(NF-1)}'; }
  db_bench "${args[@]}" > untraced1-$tag.log 2>&1
  rm -f rec-$tag.txt
  r1=$(runnable)
  "$bin" trace record --out rec-$tag.txt -- db_bench "${args[@]}" > traced-$tag.log 2>&1
  r2=$(runnable)
  db_bench "${args[@]}" > untraced2-$tag.log 2>&1
  u1=$(opsps untraced1-$tag.log); tr=$(opsps traced-$tag.log); u2=$(opsps untraced2-$tag.log)
  echo "db_bench readrandom threads=$threads ops/s: untraced $u1, traced $tr, untraced $u2"
  python3 -c "u=($u1+$u2)/2; print('traced / untraced = %.3f' % ($tr/u))"
  # as host.background: that many always-runnable nice-0 threads, spread over
  # the CPUs in turn (a fraction as a thread busy that share of each ms)
  bg=$(python3 -c "
r = max(0.0, ($r1 + $r2) / 2); out = []; i = 0
while r > 0.05:
    b = min(1.0, r); out.append('{\"cpu\":%d,\"period_us\":1000,\"busy_us\":%.0f}' % (i % 2, b * 1000)); r -= b; i += 1
print('[' + ','.join(out) + ']')")
  echo "other tenants' runnable tasks: $r1 before, $r2 after the recording: host.background = $bg"

  # 3. analyze and export
  rm -f ref-$tag.sqlite dbb-$tag.jsonl
  "$bin" trace analyze rec-$tag.txt --db ref-$tag.sqlite --export-jsonl dbb-$tag.jsonl | tee analyze-$tag.txt
  python3 "$src/bench/whatif_runq.py" rec-$tag.txt dbb-$tag.jsonl
  span_ns=$(sqlite3 ref-$tag.sqlite "SELECT MAX(t_ready) - MIN(t_issue) FROM requests")
  nreq=$(sqlite3 ref-$tag.sqlite "SELECT requests FROM runs ORDER BY run_id DESC LIMIT 1")
  echo "recording: $nreq requests over $(python3 -c "print('%.1f' % ($span_ns/1e6))") ms"
  # long enough for a replay slowed by a loaded host to finish (its duration
  # is then its own, not the run's)
  dur_ms=$(python3 -c "print(int(5 * $span_ns / 1e6) + 2000)")
  read -r hi nrec <<<"$(python3 - dbb-$tag.jsonl <<'EOF'
import json, sys
hi = n = 0
for line in open(sys.argv[1]):
    r = json.loads(line); n += 1
    hi = max(hi, r.get("offset", 0) + r.get("bytes", 4096))
print(hi, n)
EOF
  )"
  tbytes=$(python3 -c "s='$tsize'; m={'K':1<<10,'M':1<<20,'G':1<<30}; print(int(s[:-1])*m[s[-1]] if s[-1] in m else int(s))")
  wrap=0
  [ "$hi" -gt "$tbytes" ] && wrap=$tbytes
  echo "export: $nrec records, offsets span $hi bytes; replay target $tbytes bytes, wrap_bytes $wrap"

  # 4. calibration
  cal=cal.json
  [ "$rounds" -gt 1 ] && [ -z "${CAL_ONCE:-}" ] && cal=cal-$tag.json
  if [ ! -f $cal ] || [ -n "${RECALIBRATE:-}" ] || [ $cal != cal.json ]; then
    log "calibrating on $W's filesystem"
    "$bin" calibrate --target "$W" --out $cal ${QUICK:+--quick} > calibrate-$tag.log 2>&1
  fi
  sets=(--set "workload.0.path=$W/dbb-$tag.jsonl" --set "host.calibration=$W/$cal"
        --set "run.duration_ms=$dur_ms" --set "workload.0.wrap_bytes=$wrap")
  scn=$src/bench/whatif_dbbench.json

  # 5. simulate every variant, pick the policy; then once more with the
  #    tenants' load measured around the recording (host.background)
  rm -f sim-$tag.sqlite simload-$tag.sqlite simtr-$tag.sqlite
  (cd "$src" && "$bin" run "$scn" --db "$W/sim-$tag.sqlite" --reps "$reps" "${sets[@]}" \
     --set run.record_requests=$((2 * nreq + 1000)) -q) > sim-$tag.log
  # the same under the recording's own conditions (host.traced: the
  # tracepoints' CPU in each read and the recorder's thread, as calibrate
  # measured them): what the recording is compared with; the plain sim
  # above is the untraced prediction a user acts on
  traced=()
  grep -q '"trace_syscall_ns"' "$W/$cal" && traced=(--set host.traced=true)
  if [ ${#traced[@]} -gt 0 ]; then
    (cd "$src" && "$bin" run "$scn" --db "$W/simtr-$tag.sqlite" --reps "$reps" "${sets[@]}" \
       --set run.record_requests=$((2 * nreq + 1000)) "${traced[@]}" -q) > simtr-$tag.log
  else
    echo "$cal has no trace_syscall_ns (calibrated without tracefs): no host.traced simulation"
  fi
  (cd "$src" && "$bin" run "$scn" --db "$W/simload-$tag.sqlite" --reps "$reps" "${sets[@]}" \
     --set run.record_requests=$((2 * nreq + 1000)) --set "host.background=$bg" -q) > simload-$tag.log
  for d in sim simload simtr; do
    [ -f $d-$tag.sqlite ] || continue
    echo "$d (p50, p99, duration: first issue to last ready, mean over replications)"
    sqlite3 -header -column $d-$tag.sqlite "SELECT r.variant, COUNT(*) AS reps,
      ROUND(AVG((SELECT value FROM metrics WHERE run_id = r.run_id AND name = 'lat_p50_ns'))/1e3, 1) AS p50_us,
      ROUND(AVG((SELECT value FROM metrics WHERE run_id = r.run_id AND name = 'lat_p99_ns'))/1e3, 1) AS p99_us,
      ROUND(AVG((SELECT MAX(t_ready) - MIN(t_issue) FROM requests WHERE run_id = r.run_id))/1e6, 1) AS dur_ms
      FROM runs r GROUP BY r.variant"
  done
  pick=$(sqlite3 simload-$tag.sqlite "SELECT r.variant FROM runs r JOIN metrics m USING (run_id)
    WHERE m.name='lat_p99_ns' GROUP BY r.variant ORDER BY AVG(m.value) LIMIT 1")
  echo "picked by the simulated p99 (with the measured load): $pick"

  # 6. live replay of the picked variant
  rm -f live-$tag.sqlite
  (cd "$src" && "$bin" live "$scn" --target "$W/target.dat" --create "$tsize" --allow-write --variant "$pick" \
     --submit "$submit" \
     --db "$W/live-$tag.sqlite" "${sets[@]}")

  # 7. recording vs live vs sim, every variant; the simulation with the
  #    tenants' load as measured around the recording (the live replay meets
  #    whatever load there is when it runs)
  rm -f val-$tag.sqlite
  (cd "$src" && "$bin" validate "$scn" --target "$W/target.dat" --allow-write --submit "$submit" \
     --reference "$W/ref-$tag.sqlite" \
     --db "$W/val-$tag.sqlite" --reps "$reps" --sim-reps "$reps" --no-calibrate "${sets[@]}" \
     --set "host.background=$bg" "${traced[@]}") |
    tee validate-$tag.txt
}

for ((round = 1; round <= rounds; round++)); do
  if [ "$rounds" -gt 1 ]; then
    log "round $round of $rounds"
    one_round t$threads-r$round
  else
    one_round t$threads
  fi
done

# Every round against its own recording, and the median over rounds: one
# recording's own p50 moved 20-30% from one minute to the next on this VM
# (docs/whatif.md), so a single round cannot judge a 15% bound.
if [ "$rounds" -gt 1 ]; then
  log "errors against each round's own recording (baseline variant), and the median"
  python3 - "$W" "$threads" "$rounds" <<'EOF'
import sqlite3, statistics, sys
w, threads, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
metrics = ("lat_p50_ns", "lat_p99_ns", "duration_ns")
variants = ("baseline:live", "baseline:sim")
rows = {}
for r in range(1, rounds + 1):
    db = sqlite3.connect("%s/val-t%s-r%d.sqlite" % (w, threads, r))
    for v, m, ref, d in db.execute(
            "SELECT variant, metric, baseline_value, delta_pct FROM comparisons "
            "WHERE baseline = 'recording'"):
        if v in variants and m in metrics:
            rows[(r, v, m)] = (ref, d)
def fmt(m, x):
    return "%.1f ms" % (x / 1e6) if m == "duration_ns" else "%.1f us" % (x / 1e3)
print("| round | recording p50 | p99 | duration | live p50 | p99 | duration | sim p50 | p99 | duration |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in range(1, rounds + 1):
    rec = [fmt(m, rows[(r, variants[0], m)][0]) for m in metrics]
    errs = ["%+.1f%%" % rows[(r, v, m)][1] for v in variants for m in metrics]
    print("| %d | %s | %s |" % (r, " | ".join(rec), " | ".join(errs)))
med = ["%+.1f%%" % statistics.median(rows[(r, v, m)][1] for r in range(1, rounds + 1))
       for v in variants for m in metrics]
print("| median | | | | %s |" % " | ".join(med))
print("(sim: validate's simulation, host.traced on where the calibration has the trace "
      "costs, with the tenants' load)")
# step 5's simulations of the baseline, no tenants' load: host.traced off
# (the untraced prediction) and on (the recording's conditions), against the
# same recording values
import os
def simerr(path, r):
    if not os.path.exists(path):
        return None
    db = sqlite3.connect(path)
    q = db.execute("""SELECT AVG((SELECT value FROM metrics WHERE run_id = r.run_id AND name = 'lat_p50_ns')),
        AVG((SELECT value FROM metrics WHERE run_id = r.run_id AND name = 'lat_p99_ns')),
        AVG((SELECT MAX(t_ready) - MIN(t_issue) FROM requests WHERE run_id = r.run_id))
        FROM runs r WHERE r.variant = 'baseline'""").fetchone()
    return [100.0 * (q[i] / rows[(r, variants[1], m)][0] - 1) for i, m in enumerate(metrics)]
print("| round | untraced sim p50 | p99 | duration | host.traced sim p50 | p99 | duration |")
print("|---|---:|---:|---:|---:|---:|---:|")
errs = {}
for r in range(1, rounds + 1):
    u = simerr("%s/sim-t%s-r%d.sqlite" % (w, threads, r), r)
    t = simerr("%s/simtr-t%s-r%d.sqlite" % (w, threads, r), r)
    errs[r] = (u, t)
    cells = ["%+.1f%%" % x for x in (u or [float("nan")] * 3) + (t or [float("nan")] * 3)]
    print("| %d | %s |" % (r, " | ".join(cells)))
med = []
for k in range(2):
    for i in range(3):
        xs = [errs[r][k][i] for r in errs if errs[r][k]]
        med.append("%+.1f%%" % statistics.median(xs) if xs else "-")
print("| median | %s |" % " | ".join(med))
print("bounds (issue 18): p50 within 15%, p99 within 30%, duration within 15%")
EOF
fi
uptime
