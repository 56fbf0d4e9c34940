# nvme.sh - runs inside the test guest (tests/guest/guest.sh --smp 2
# --queues 4 --poll 1): latsurf against the real nvme driver on an emulated
# controller with 2 interrupt-driven queues and 1 poll queue. Each check
# prints "ok - ..." or "not ok - ..." and the script exits 1 at the end if
# any failed. Read-only on /dev/nvme0n1 throughout (checksummed).
# Timing under TCG means nothing: only behaviour is asserted.
D=/dev/nvme0n1
S=/data/nvme.json
. /guest/check.sh # ok, bad, check, $failed
# Count of nvme_setup_cmd on the namespace per qid: "COUNT QID" lines.
qids() { sed -n 's/.*nvme_setup_cmd:.* disk=nvme0n1 .*qid=\([0-9]*\) .*/\1/p' "$1" | sort | uniq -c; }
# "joined per request N (P%)" of trace analyze -> P as an integer percent * 10
joined_permille() { sed -n 's/.*joined per request *[0-9]* *(\([0-9.]*\)%).*/\1/p' "$1" | awk '{ printf "%d", $1 * 10 }'; }

sum_before=$(md5sum <$D | cut -d' ' -f1)

# 1. topology: 2 interrupt queues (nvme0q1 on CPU0, nvme0q2 on CPU1) + 1 polled
latsurf live $S --target $D --db /tmp/live.sqlite --variant irq 2>/tmp/live.err >/tmp/live.out
rc=$?
cat /tmp/live.err /tmp/live.out
check "live (interrupt-driven) exits 0" [ $rc -eq 0 ]
check "topology: 3 queues, 2 interrupt, 1 polled" \
  grep -q 'host: nvme0n1: 2 CPUs, 1 NUMA nodes, 3 queues (2 interrupt, 1 polled)' /tmp/live.err
check "topology: q0 = nvme0q1 on CPU0, CPU0 -> q0" grep -q '; q0 nvme0q1 irq [0-9]* on cpu 0 <- cpus 0;' /tmp/live.err
check "topology: q1 = nvme0q2 on CPU1, CPU1 -> q1" grep -q '; q1 nvme0q2 irq [0-9]* on cpu 1 <- cpus 1;' /tmp/live.err
check "topology: q2 polled, io_poll 1" grep -q '; q2 polled; io_poll 1,' /tmp/live.err

# 2. polled live run under the tracer: every request on the poll queue (qid 3)
latsurf trace record --out /tmp/poll.trace --event nvme/nvme_setup_cmd \
  --event nvme/nvme_complete_rq -- \
  latsurf live $S --target $D --db /tmp/live.sqlite --variant poll >/tmp/poll.out 2>&1
rc=$?
cat /tmp/poll.out
check "traced polled live run exits 0" [ $rc -eq 0 ]
check "polled run: no IOPOLL fallback note" sh -c '! grep -q "IOPOLL" /tmp/poll.out'
qids /tmp/poll.trace
n_all=$(grep -c 'nvme_setup_cmd:.* disk=nvme0n1 ' /tmp/poll.trace)
n_q3=$(grep -c 'nvme_setup_cmd:.* disk=nvme0n1 .*qid=3 ' /tmp/poll.trace)
# a timed run: under TCG on a loaded host it completes tens to hundreds of commands
check "polled run: all $n_all nvme commands on the poll queue's qid 3 ($n_q3)" \
  [ "$n_all" -ge 20 -a "$n_all" -eq "$n_q3" ]
latsurf trace analyze /tmp/poll.trace >/tmp/poll.an 2>&1
cat /tmp/poll.an
p=$(joined_permille /tmp/poll.an)
check "polled trace: join >= 95% ($p permille)" [ "${p:-0}" -ge 950 ]

# 3. interrupt-driven run under the tracer: qids 1-2, vectors nvme0q1/q2, join >= 95%
latsurf trace record --out /tmp/irq.trace --event nvme/nvme_setup_cmd \
  --event nvme/nvme_complete_rq -- \
  latsurf live $S --target $D --db /tmp/live.sqlite --variant irq --quiet >/tmp/irq.out 2>&1
rc=$?
cat /tmp/irq.out
check "traced interrupt-driven live run exits 0" [ $rc -eq 0 ]
qids /tmp/irq.trace
n_all=$(grep -c 'nvme_setup_cmd:.* disk=nvme0n1 ' /tmp/irq.trace)
n_q12=$(grep -c 'nvme_setup_cmd:.* disk=nvme0n1 .*qid=[12] ' /tmp/irq.trace)
check "interrupt run: all $n_all commands on interrupt queues qid 1-2 ($n_q12)" \
  [ "$n_all" -ge 20 -a "$n_all" -eq "$n_q12" ]
check "interrupt run: nvme0qN vectors fired" grep -q 'irq_handler_entry: irq=[0-9]* name=nvme0q[12]' /tmp/irq.trace
latsurf trace analyze /tmp/irq.trace >/tmp/irq.an 2>&1
cat /tmp/irq.an
p=$(joined_permille /tmp/irq.an)
check "interrupt trace: join >= 95% ($p permille)" [ "${p:-0}" -ge 950 ]

# 4. calibrate on the device, read-only, with nvme device time
latsurf calibrate --target $D --quick --quiet --out /tmp/cal.json >/tmp/cal.out 2>&1
rc=$?
cat /tmp/cal.out
check "calibrate --target $D --quick exits 0" [ $rc -eq 0 ]
grep -A3 '"device_read_4k_ns"\|"nvme_device_read_4k_ns"' /tmp/cal.json | head -12
check "calibrate: device read time measured" grep -q '"device_read_4k_ns"' /tmp/cal.json
check "calibrate: nvme device time measured (nvme_setup_cmd -> nvme_complete_rq)" \
  grep -q '"nvme_device_read_4k_ns"' /tmp/cal.json

# 5. validate end to end (quick calibration, short runs)
latsurf validate $S --target $D --db /tmp/val.sqlite --sim-reps 1 >/tmp/val.out 2>&1
rc=$?
cat /tmp/val.out
check "validate exits 0" [ $rc -eq 0 ]
n=$(sqlite3 /tmp/val.sqlite "select count(*) from comparisons where metric = 'lat_p50_ns'")
check "validate: p50 compared for both variants ($n)" [ "$n" = 2 ]

sum_after=$(md5sum <$D | cut -d' ' -f1)
check "device bytes unchanged ($sum_before)" [ "$sum_before" = "$sum_after" ]
exit $failed
