#!/bin/bash
# trace_dbbench.sh - issue 18's acceptance for recording a pread program:
# RocksDB's db_bench (Debian rocksdb-tools) readrandom with direct reads,
# 1 and 4 threads, untraced then under `latsurf trace record`, then
# `trace analyze --export-jsonl`. Prints db_bench's ops/s both ways and
# the join counts (block reads joined to a syscall, syscalls that reached
# the device, split ones).
#   bench/trace_dbbench.sh [BUILD_DIR] [DB_DIR] [OUT_DIR]
# Needs root (tracefs) and db_bench; builds the database (fillrandom,
# 2,000,000 keys of 300 bytes) when DB_DIR does not hold one.
set -euo pipefail
bin=${1:-build}/latsurf
db=${2:-/var/tmp/dbb}
out=${3:-/var/tmp/latsurf-dbbench}
reads=${READS:-3000}
command -v db_bench >/dev/null || { echo "db_bench not found (apt-get install rocksdb-tools)"; exit 77; }
mkdir -p "$out"
if [ ! -e "$db/CURRENT" ]; then
  db_bench --benchmarks=fillrandom --num=2000000 --value_size=300 --db="$db" >"$out/fill.log"
fi
echo "database $db: $(du -sh "$db" | cut -f1); $(uptime)"
for t in 1 4; do
  args=(--benchmarks=readrandom --use_existing_db=1 --use_direct_reads=1
        --cache_size=8388608 --reads="$reads" --threads="$t" --db="$db")
  untraced=$(db_bench "${args[@]}" 2>&1 | awk '/^readrandom/ {print $5}')
  "$bin" trace record --out "$out/t$t.txt" -- db_bench "${args[@]}" >"$out/t$t.dbb" 2>"$out/t$t.rec"
  traced=$(awk '/^readrandom/ {print $5}' "$out/t$t.dbb")
  "$bin" trace analyze "$out/t$t.txt" --db "$out/t$t.sqlite" \
      --export-jsonl "$out/t$t.jsonl" >"$out/t$t.analyze" 2>&1
  echo "== threads $t: db_bench ops/s untraced $untraced, traced $traced"
  grep -E "events|reached|page cache|traced tasks|lat_p50|lat_p99|exported" "$out/t$t.analyze"
done
