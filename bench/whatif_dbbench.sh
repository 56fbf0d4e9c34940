#!/usr/bin/env bash
# bench/whatif_dbbench.sh - docs/whatif.md's loop on RocksDB's db_bench:
# observe, ask what-if, apply, check.
#
#  1. a RocksDB database (db_bench fillrandom, 1 M keys of 200 bytes, no
#     compression: about 220 MB), built once;
#  2. db_bench readrandom with direct reads and an 8 MiB block cache,
#     untraced, traced (`latsurf trace record -- db_bench ...`) and untraced
#     again, back to back: ops/s of each (what tracing costs the application);
#  3. `latsurf trace analyze` of the recording into ref.sqlite (the reference)
#     and `--export-jsonl` into dbb.jsonl (the workload);
#  4. a fresh calibration of this host on the same filesystem (`latsurf
#     calibrate --target DIR`), unless cal.json is there and RECALIBRATE is unset;
#  5. `latsurf run` of bench/whatif_dbbench.json replaying dbb.jsonl on that
#     calibration, every variant: the prediction, and the policy it picks
#     (the variant with the lowest simulated p99);
#  6. `latsurf live` of the picked variant on a file target latsurf creates
#     (offsets folded into it with wrap_bytes; --allow-write: a recorded write,
#     if any, lands in that scratch file, never in the database);
#  7. `latsurf validate --reference ref.sqlite`: recording vs live vs sim for
#     every variant, one table.
#
# Environment: LATSURF_BIN (build/latsurf), WHATIF_DIR (/var/tmp/latsurf-whatif,
# must be on the device under test), THREADS (1), READS (3000), TARGET_SIZE
# (1G: the live replay's file; offsets beyond it fold), REPS (3, live and sim
# replications in validate), RECALIBRATE (set: calibrate even if cal.json exists),
# QUICK (set: calibrate --quick).
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
for tool in db_bench sqlite3 python3; do
  command -v $tool >/dev/null || {
    echo "whatif_dbbench: $tool not found (db_bench: apt-get install rocksdb-tools)" >&2; exit 2; }
done
mkdir -p "$W"
cd "$W"
db=$W/dbb
tag=t$threads
log() { echo "== $*"; }
uptime

# 1. the database
if [ ! -f "$db/CURRENT" ]; then
  log "building the database (fillrandom, 1 M keys x 200 B)"
  db_bench --benchmarks=fillrandom --num=1000000 --value_size=200 --compression_type=none \
    --disable_wal=1 --db="$db" > fill.log 2>&1
  db_bench --benchmarks=compact --use_existing_db=1 --compression_type=none --db="$db" >> fill.log 2>&1
fi
du -sh "$db"

# 2. ops/s untraced, traced, untraced
args=(--benchmarks=readrandom --use_existing_db=1 --use_direct_reads=1 --cache_size=8388608
      --reads="$reads" --threads="$threads" --db="$db")
opsps() { grep -o 'readrandom *: *[0-9.]* micros/op [0-9]* ops/sec' "$1" | awk '{print $(NF-1)}'; }
db_bench "${args[@]}" > untraced1-$tag.log 2>&1
rm -f rec-$tag.txt
"$bin" trace record --out rec-$tag.txt -- db_bench "${args[@]}" > traced-$tag.log 2>&1
db_bench "${args[@]}" > untraced2-$tag.log 2>&1
u1=$(opsps untraced1-$tag.log); tr=$(opsps traced-$tag.log); u2=$(opsps untraced2-$tag.log)
echo "db_bench readrandom threads=$threads ops/s: untraced $u1, traced $tr, untraced $u2"
python3 -c "u=($u1+$u2)/2; print('traced / untraced = %.3f' % ($tr/u))"

# 3. analyze and export
rm -f ref-$tag.sqlite dbb-$tag.jsonl
"$bin" trace analyze rec-$tag.txt --db ref-$tag.sqlite --export-jsonl dbb-$tag.jsonl | tee analyze-$tag.txt
span_ns=$(sqlite3 ref-$tag.sqlite "SELECT MAX(t_ready) - MIN(t_issue) FROM requests")
nreq=$(sqlite3 ref-$tag.sqlite "SELECT requests FROM runs ORDER BY run_id DESC LIMIT 1")
echo "recording: $nreq requests over $(python3 -c "print('%.1f' % ($span_ns/1e6))") ms"
dur_ms=$(python3 -c "print(int(2 * $span_ns / 1e6) + 1000)")
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
if [ ! -f cal.json ] || [ -n "${RECALIBRATE:-}" ]; then
  log "calibrating on $W's filesystem"
  "$bin" calibrate --target "$W" --out cal.json ${QUICK:+--quick} > calibrate.log 2>&1
fi
sets=(--set "workload.0.path=$W/dbb-$tag.jsonl" --set "host.calibration=$W/cal.json"
      --set "run.duration_ms=$dur_ms" --set "workload.0.wrap_bytes=$wrap")
scn=$src/bench/whatif_dbbench.json

# 5. simulate every variant, pick the policy
rm -f sim-$tag.sqlite
(cd "$src" && "$bin" run "$scn" --db "$W/sim-$tag.sqlite" --reps "$reps" "${sets[@]}" \
   --set run.record_requests=$((2 * nreq + 1000)) -q) > sim-$tag.log
sqlite3 -header -column sim-$tag.sqlite "SELECT r.variant, COUNT(DISTINCT run_id) AS reps,
  ROUND(AVG(CASE WHEN m.name='lat_p50_ns' THEN m.value END)/1e3,1) AS p50_us,
  ROUND(AVG(CASE WHEN m.name='lat_p99_ns' THEN m.value END)/1e3,1) AS p99_us
  FROM runs r JOIN metrics m USING (run_id)
  WHERE m.name IN ('lat_p50_ns','lat_p99_ns') GROUP BY r.variant"
pick=$(sqlite3 sim-$tag.sqlite "SELECT r.variant FROM runs r JOIN metrics m USING (run_id)
  WHERE m.name='lat_p99_ns' GROUP BY r.variant ORDER BY AVG(m.value) LIMIT 1")
echo "picked by the simulated p99: $pick"

# 6. live replay of the picked variant
rm -f live-$tag.sqlite
(cd "$src" && "$bin" live "$scn" --target "$W/target.dat" --create "$tsize" --allow-write --variant "$pick" \
   --db "$W/live-$tag.sqlite" "${sets[@]}")

# 7. recording vs live vs sim, every variant
rm -f val-$tag.sqlite
(cd "$src" && "$bin" validate "$scn" --target "$W/target.dat" --allow-write --reference "$W/ref-$tag.sqlite" \
   --db "$W/val-$tag.sqlite" --reps "$reps" --sim-reps "$reps" --no-calibrate "${sets[@]}") |
  tee validate-$tag.txt
uptime
