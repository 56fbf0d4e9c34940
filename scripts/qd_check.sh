#!/usr/bin/env bash
# qd_check.sh - the device's parallelism checked at depths its fit never saw.
# One `calibrate --quick` on a file latsurf creates (the queue-depth sweep in
# it fits the device at depths 1, 2, 8, 64), then ROUNDS paired rounds: per
# depth 4, 16, 32, fio on the same file and, back to back, the simulated
# scenarios/validation/qdD.json (kernel variant, seed = the round) with that
# calibration, by each LATSURF binary given (e.g. main's and a branch's: the
# same calibration file, so only the model differs; the last one given
# calibrates, so give the newest last). Prints per round and
# the median over rounds: IOPS, p50 and p99 of fio and of each simulation,
# and err = (sim - fio) / fio.
# Also the closed-loop models alone (the curve's and the c units', each with
# its host delay Z: what calibrate fitted, as IOPS at the checked depths)
# against calibrate's own loop at those depths (device_units.check: measured
# after the fit, never fitted), the same instrument and CPU as the fit.
#   bash scripts/qd_check.sh [--rounds N] [--cpu C] [--keep DIR] LATSURF [LATSURF...]
# --cpu C: fio's CPU and the simulated consumer_cpu (default 0, as the
# scenarios; the interrupt CPU, 1 on the development VM, is the sweep's).
# Nothing compared here is fitted to: the sweep's depths are 1, 2, 8, 64;
# the compared depths 4, 16, 32 come from fio on the same file.
# fio: 4 KiB random O_DIRECT reads through io_uring, one job pinned to CPU C, over the scenarios' 256 MiB span, 2 s after
# 0.2 s ramp; latency = fio's lat (submit -> completion).
# Needs root, io_uring, O_DIRECT on $VAL_DIR (/var/tmp), fio and sqlite3.
set -euo pipefail
rounds=3 keep= cpu=0
bins=()
while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --cpu) cpu=$2; shift 2 ;;
    -*) echo "qd_check.sh: unknown option $1" >&2; exit 2 ;;
    *) bins+=("$1"); shift ;;
    esac
done
[ ${#bins[@]} -gt 0 ] || bins=(build/latsurf)
for tool in fio taskset sqlite3 python3; do
    command -v $tool >/dev/null || { echo "qd_check.sh: $tool not found" >&2; exit 2; }
done
dir=${VAL_DIR:-/var/tmp}/latsurf-qdcheck.$$
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
target=$dir/target cal=$dir/calibration.json res=$dir/results.txt
"${bins[-1]}" calibrate --target "$target" --create 256M --quick --quiet --out "$cal"

fio_run() { # depth -> "iops p50_ns p99_ns"
    taskset -c "$cpu" fio --name=qd_check --filename="$target" --size=256M --rw=randread \
        --bs=4k --iodepth="$1" --ioengine=io_uring --direct=1 --norandommap --randrepeat=0 \
        --time_based --runtime=2s --ramp_time=200ms --lat_percentiles=1 \
        --output-format=json --output="$dir/fio.json" >/dev/null
    python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))['jobs'][0]['read']
p = r['lat_ns']['percentile']
print(r['iops'], p['50.000000'], p['99.000000'])" "$dir/fio.json"
}
sim_run() { # bin depth seed -> "iops p50_ns p99_ns"
    rm -f "$dir/sim.sqlite"
    "$1" run "scenarios/validation/qd$2.json" --set host.calibration="$cal" --seed "$3" \
        --set workload.0.consumer_cpu="$cpu" \
        --db "$dir/sim.sqlite" --quiet >/dev/null
    sqlite3 -separator ' ' "$dir/sim.sqlite" "
        WITH r AS (SELECT run_id AS id FROM runs WHERE variant = 'kernel')
        SELECT (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'iops'),
               (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'lat_p50_ns'),
               (SELECT value FROM metrics, r WHERE run_id = r.id AND name = 'lat_p99_ns');"
}
: >"$res"
for r in $(seq 1 "$rounds"); do
    for d in 4 16 32; do
        echo "$r $d fio $(fio_run $d)" >>"$res"
        for i in "${!bins[@]}"; do
            echo "$r $d sim$i $(sim_run "${bins[$i]}" $d $r)" >>"$res"
        done
    done
done
[ -n "$keep" ] && mkdir -p "$keep" && cp "$cal" "$res" "$keep"/
echo "fio and consumer on CPU $cpu; $(uptime)"
for i in "${!bins[@]}"; do echo "sim$i = ${bins[$i]}"; done
python3 - "$res" "$rounds" ${#bins[@]} "$cal" "$cpu" <<'PY'
import json, math, sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
rounds, nb = int(sys.argv[2]), int(sys.argv[3])
u = json.load(open(sys.argv[4]))["params"]["device_units"]
c, f = u.get("curve"), u["fit"]
print(f"calibration: c = {u['value']:.2f} units (S = {f['service_ns']/1e3:.1f} us, Z = "
      f"{f['host_ns']/1e3:.1f} us); curve " +
      (" ".join(f"T({k:g}) = {t/1e3:.1f} us" for k, t in zip(c["k"], c["service_ns"])) +
       f", Z = {c['host_ns']/1e3:.1f} us" if c else "absent") +
      "; sweep IOPS " + " ".join(f"d{p['depth']} = {p['iops']:.0f}" for p in u["per_depth"]))

def sv(k):  # sim/svcurve.c
    K, T = c["k"], c["service_ns"]
    if k <= K[0]: return T[0]
    if k >= K[-1]: return T[-1] * k / K[-1]
    i = 1
    while k > K[i]: i += 1
    return T[i-1] * (k / K[i-1]) ** (math.log(T[i] / T[i-1]) / math.log(K[i] / K[i-1]))

def loop_iops(d, z, t):  # calibrate/calqd.c closed_loop_iops: product form, log weights
    if z <= 0: return d / t(d) * 1e9
    lw, acc = [], 0.0
    for k in range(d + 1):
        acc += math.log(t(k) / k) if k else 0
        lw.append((d - k) * math.log(z) - math.lgamma(d - k + 1) + acc)
    m = max(lw)
    w = [math.exp(x - m) for x in lw]
    return sum(w[k] * k / t(k) for k in range(1, d + 1)) / sum(w) * 1e9

v = {(int(r), int(d), w): tuple(map(float, x)) for r, d, w, *x in rows}
print()
print("| round | depth | fio IOPS | fio p50 | fio p99 | " +
      " | ".join(f"sim{i} IOPS (err) | sim{i} p50 (err) | sim{i} p99 (err)" for i in range(nb)) + " |")
print("|---" * (5 + 3 * nb) + "|")
med = st.median
for r in list(range(1, rounds + 1)) + ["median"]:
    for d in (4, 16, 32):
        if r == "median":
            get = lambda w: tuple(med(v[(q, d, w)][j] for q in range(1, rounds + 1)) for j in range(3))
        else:
            get = lambda w: v[(r, d, w)]
        fi = get("fio")
        cells = [str(r), str(d), f"{fi[0]:.0f}", f"{fi[1]/1e3:.1f} us", f"{fi[2]/1e3:.1f} us"]
        for i in range(nb):
            s = get(f"sim{i}")
            if r == "median":  # the median of the per-round errors
                e = [med(v[(q, d, f"sim{i}")][j] / v[(q, d, "fio")][j] - 1
                         for q in range(1, rounds + 1)) for j in range(3)]
            else:
                e = [s[j] / fi[j] - 1 for j in range(3)]
            cells += [f"{s[0]:.0f} ({e[0]*100:+.0f}%)", f"{s[1]/1e3:.1f} us ({e[1]*100:+.0f}%)",
                      f"{s[2]/1e3:.1f} us ({e[2]*100:+.0f}%)"]
        print("| " + " | ".join(cells) + " |")
print()
print("The closed-loop models alone, against calibrate's own loop at the check depths (measured")
print("after the fit, same thread on the interrupt CPU, never fitted: device_units.check):")
print()
print("| depth | calibrate IOPS (check) | curve model (err) | c-units model (err) | fio IOPS, CPU %s (median) |"
      % sys.argv[5])
print("|---|---|---|---|---|")
chk = {r["depth"]: r["iops"] for r in u.get("check", [])}
for d in (4, 16, 32):
    fm = med(v[(q, d, "fio")][0] for q in range(1, rounds + 1))
    cu = loop_iops(d, f["host_ns"], lambda k: k * f["service_ns"] / min(k, u["value"]))
    cv = loop_iops(d, c["host_ns"], sv) if c else float("nan")
    m = chk.get(d)
    err = lambda x: f"{x:.0f} ({(x / m - 1) * 100:+.0f}%)" if m else f"{x:.0f}"
    print(f"| {d} | {m:.0f} | {err(cv)} | {err(cu)} | {fm:.0f} |" if m else
          f"| {d} | - | {err(cv)} | {err(cu)} | {fm:.0f} |")
PY
