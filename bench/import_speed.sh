#!/usr/bin/env bash
# import_speed.sh - `latsurf import` lines per second for every trace format (issue 17:
# at least 1,000,000 lines/s each).
#
#   bench/import_speed.sh [BUILD_DIR] [LINES]      (defaults: build, 2000000)
#
# Generates LINES lines in each format (realistic field widths: 64-bit timestamps and
# offsets, several flows, reads and writes; blkparse as Q/D/C triples), converts each with
# `latsurf import FORMAT FILE --out OUT.jsonl`, and prints lines, wall and CPU seconds
# (user + sys, from /usr/bin/time) and lines per second by each. On a shared machine wall
# time includes waiting for a CPU: lines per CPU second is the figure to compare there.
# FORMATS (space-separated) limits the list; KEEP=1 keeps the work directory.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
lines=${2:-2000000}
target=1000000
formats=${FORMATS:-"jsonl fio-iolog blkparse msr-csv disksim alibaba tencent-cbs spc"}
bin="$build/latsurf"
[ -x "$bin" ] || { echo "import_speed: build $build first (cmake --build $build)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "import_speed: needs /usr/bin/time (LATSURF_EXTRA_PKGS=time bash scripts/deps.sh)" >&2; exit 1; }
work=$(mktemp -d /tmp/latsurf-import-speed-XXXXXX)
trap '[ "${KEEP:-0}" = 1 ] && echo "kept $work" || rm -rf "$work"' EXIT

# gen FORMAT FILE: LINES lines of FORMAT (%.0f, not %d: mawk clamps %d to 2^31-1)
gen() {
  awk -v n="$lines" -v fmt="$1" 'BEGIN {
    if (fmt == "fio-iolog") { print "fio version 3 iolog"; print "0 /dev/nvme0n1 add"; print "0 /dev/nvme0n1 open"; n -= 3 }
    if (fmt == "msr-csv") { print "Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime"; n-- }
    for (i = 0; i < n; i++) {
      off = (i * 7919 % 262144) * 4096 + 1099511627776; w = (i % 3 == 0); f = i % 8
      if (fmt == "jsonl")
        printf "{\"id\":%.0f,\"t_ns\":%.0f,\"op\":\"%s\",\"offset\":%.0f,\"bytes\":4096,\"flow\":%d}\n", i, i * 1000, (w ? "write" : "read"), off, f
      else if (fmt == "fio-iolog")
        printf "%.0f /dev/nvme0n1 %s %.0f 4096\n", i, (w ? "write" : "read"), off
      else if (fmt == "blkparse") {
        k = int(i / 3); s = k * 0.000002; sec = off / 512
        if (i % 3 == 0)      printf "259,0    3   %8.0f %14.9f  4242  Q  %s %.0f + 8 [fio]\n", i + 1, s, (k % 3 ? "R" : "W"), sec
        else if (i % 3 == 1) printf "259,0    3   %8.0f %14.9f  4242  D  %s %.0f + 8 [fio]\n", i + 1, s + 0.0000005, (k % 3 ? "R" : "W"), sec
        else                 printf "259,0    3   %8.0f %14.9f     0  C  %s %.0f + 8 [0]\n", i + 1, s + 0.000011, (k % 3 ? "R" : "W"), sec
      } else if (fmt == "msr-csv")
        printf "%.0f,hm,%d,%s,%.0f,4096,%d\n", 128166372003061629 + i * 100, f, (w ? "Write" : "Read"), off, 1000 + i % 500
      else if (fmt == "disksim")
        printf "%.0f %d %.0f 8 %d\n", 938513000 + i * 1000, f, off / 512, (w ? 0 : 1)
      else if (fmt == "alibaba")
        printf "%d,%s,%.0f,4096,%.0f\n", 400 + f, (w ? "W" : "R"), off, 1577808000000000 + i
      else if (fmt == "tencent-cbs")
        printf "%.0f,%.0f,8,%d,%d\n", 1538323200 + int(i / 1000), off / 512, w, 1000 + f
      else if (fmt == "spc")
        printf "%d,%.0f,4096,%s,%.6f\n", f, off / 512, (w ? "w" : "r"), i * 0.000001
    }
  }'
}

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-12s %9s %8s %8s %14s %14s %s\n' format lines wall_s cpu_s lines/s_wall lines/s_cpu target
fail=0
for fmt in $formats; do
  in="$work/in.$fmt"
  gen "$fmt" > "$in"
  n=$(wc -l < "$in")
  /usr/bin/time -f "%e %U %S" -o "$work/time" "$bin" import "$fmt" "$in" --out "$work/out.jsonl" \
    2> "$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r wall usr sys < "$work/time"
  awk -v f="$fmt" -v n="$n" -v w="$wall" -v c="$(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')" \
      -v t="$target" 'BEGIN {
    w = w > 0.005 ? w : 0.005; c = c > 0.005 ? c : 0.005
    printf "%-12s %9d %8.2f %8.2f %14.0f %14.0f %s\n", f, n, w, c, n / w, n / c, (n / c >= t ? "ok" : "BELOW")
  }' | tee -a "$work/results"
  rm -f "$in" "$work/out.jsonl"
done
grep -q BELOW "$work/results" && fail=1
echo "(target: $target lines per second; 'ok' is judged on CPU seconds)"
exit $fail
