#!/usr/bin/env bash
# Run the libFuzzer harnesses (fuzz/) for a given time each.
#
#   bash bench/fuzz.sh [SECONDS] [HARNESS...]     (default 60 s, every harness)
#
# Builds them with clang into build-fuzz (override with FUZZ_BUILD), runs each
# on a scratch copy of its committed corpus fuzz/corpus/NAME (new inputs stay
# out of git; findings are crash-*/oom-*/timeout-* files in FUZZ_OUT), and
# prints executions per harness (fuzz/NAME.dict, where present, is its
# libFuzzer dictionary; the corpus in FUZZ_OUT grows across runs). Keep a finding's input: copy it into
# fuzz/corpus/NAME so `make test` replays it (tests/test_fuzz_replay.c).
# FUZZ_JOBS harnesses run at once (default 1), each under nice.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
out=${FUZZ_OUT:-$build/fuzz-out}
all="scenario costs tracefs trace_jsonl trace_fio trace_blkparse trace_msr trace_disksim
     trace_alibaba trace_tencent trace_spc"
names=${*:-$all}
command -v clang >/dev/null || { echo "fuzz.sh: needs clang and libFuzzer (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DLATSURF_FUZZ=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz -j "${FUZZ_JOBS:-1}" >/dev/null
mkdir -p "$out"

run_one() {
  local n=$1 work="$out/$1"
  mkdir -p "$work/corpus" "$work/findings"
  cp -n fuzz/corpus/"$n"/* "$work/corpus/" 2>/dev/null || true
  local dict=()
  [ -f "fuzz/$n.dict" ] && dict=(-dict="fuzz/$n.dict")
  nice "$build/fuzz_$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/findings/" "${dict[@]}" \
       "$work/corpus" >"$work/log.new" 2>&1 || true
  cat "$work/log.new" >>"$work/log"
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log.new" | grep -o '[0-9]*$' || echo 0)
  local found
  found=$(ls "$work/findings" | wc -l)
  printf '%-16s %10s execs in %ss, %s findings (%s)\n' "$n" "${execs:-0}" "$secs" "$found" \
         "$work/findings"
}

jobs=${FUZZ_JOBS:-1}
for n in $names; do
  [ -d "fuzz/corpus/$n" ] || { echo "fuzz.sh: no harness '$n' (have: $all)" >&2; exit 2; }
  run_one "$n" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait
