# rdma.sh - runs inside the test guest (tests/guest/guest.sh --rdma): latsurf
# against the real RDMA stack (soft-RoCE: rdma_rxe on a dummy netdev; verbs,
# QPs, CQs and ibv_reg_mr are the kernel's and rdma-core's) and the real nvme
# driver. Each check prints "ok - ..." or "not ok - ..."; the script exits 1
# at the end if any failed. Read-only on /dev/nvme0n1 (checksummed).
# Timing under TCG means nothing: only behaviour and ratios are asserted.
D=/dev/nvme0n1
S=/data/rdma.json
. /guest/check.sh # ok, bad, check, $failed
# metric VARIANT NAME: the value in /tmp/rdma.sqlite
metric() {
  sqlite3 /tmp/rdma.sqlite "select m.value from metrics m join runs r using (run_id)
    where r.variant = '$1' and m.name = '$2'"
}
# awk comparison of two numbers: cmp A OP B
cmp() { awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"; }

sum_before=$(md5sum <$D | cut -d' ' -f1)

# 1. soft-RoCE on a dummy netdev (no QEMU NIC): rxe0, first on dummy0 down:
# the endpoint cannot connect, and the error says it was the RDMA set-up
rdma link add rxe0 type rxe netdev dummy0
rdma link show
latsurf live $S --target $D --db /tmp/down.sqlite --variant none >/tmp/down.out 2>&1
rc=$?
cat /tmp/down.out
check "port down: live fails (exit $rc) naming the RDMA endpoint set-up" \
  sh -c "[ $rc -ne 0 ] && grep -q 'setting up the RDMA endpoint on rxe0' /tmp/down.out &&
         ! grep -q 'io_uring ring' /tmp/down.out"
ip link set dummy0 up && ip addr add 10.77.0.1/24 dev dummy0
i=0
while ! rdma link show | grep -q "rxe0/1 state ACTIVE" && [ $i -lt 50 ]; do
  sleep 0.1; i=$((i + 1))
done
rdma link show
check "rxe0 is ACTIVE on dummy0" sh -c 'rdma link show | grep -q "rxe0/1 state ACTIVE"'

# 2. live on a host.rdma scenario: every read's bytes go to the RDMA peer
latsurf live $S --target $D --db /tmp/rdma.sqlite >/tmp/live.out 2>&1
rc=$?
cat /tmp/live.out
check "live with host.rdma (registration none and cache) exits 0" [ $rc -eq 0 ]
for v in none cache; do
  echo "$v: hit_rate $(metric $v registration_hit_rate)" \
       "churn_per_flow $(metric $v registration_churn_per_flow)" \
       "lat_p50 $(metric $v lat_p50_ns) e2e_mean $(metric $v e2e_mean_ns) lat_mean $(metric $v lat_mean_ns)"
done
h_none=$(metric none registration_hit_rate); h_cache=$(metric cache registration_hit_rate)
c_none=$(metric none registration_churn_per_flow); c_cache=$(metric cache registration_churn_per_flow)
check "none: every transfer registers (hit rate $h_none = 0)" cmp "${h_none:-x}" == 0
check "cache: registrations reused (hit rate $h_cache > 0.5)" cmp "${h_cache:-0}" '>' 0.5
check "cache churns less than none ($c_cache < $c_none)" cmp "${c_cache:-1e99}" '<' "${c_none:-0}"
# the bytes went to the peer: t_continued after t_ready (the RDMA write's completion)
for v in none cache; do
  e=$(metric $v e2e_mean_ns); l=$(metric $v lat_mean_ns)
  check "$v: RDMA continuation after t_ready (e2e mean $e > lat mean $l)" cmp "${e:-0}" '>' "${l:-0}"
done

# 3. calibrate measures ibv_reg_mr against size on rxe0
latsurf calibrate --target $D --quick --quiet --out /tmp/cal.json >/tmp/cal.out 2>&1
rc=$?
cat /tmp/cal.out
check "calibrate --target $D --quick exits 0" [ $rc -eq 0 ]
for p in reg_fixed_ns reg_page_ns dereg_ns rdma_reg_mr_ns; do
  grep -A2 "\"$p\"" /tmp/cal.json | tr -s ' \n' ' '; echo
  check "calibrate: $p measured by ibv_reg_mr" \
    sh -c "grep -A400 '\"$p\"' /tmp/cal.json | grep -m1 '\"source\"' | grep -q 'ibv_reg_mr'"
done
grep -A14 '"points"' /tmp/cal.json | tr -s ' \n' ' '; echo

sum_after=$(md5sum <$D | cut -d' ' -f1)
check "device bytes unchanged ($sum_before)" [ "$sum_before" = "$sum_after" ]
exit $failed
