#!/usr/bin/env bash
# Compare the results of two latsurf databases, ignoring what legitimately
# differs between two builds (run ids, version, timestamps, wall time).
# Usage: scripts/db_diff.sh A.sqlite B.sqlite
# Exit 0 when metrics, stages, histograms, requests and comparisons are
# identical row for row; 1 with the first differing rows otherwise; 2 on
# bad input. Used to show that a restructuring changes no result (issue 14).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 A.sqlite B.sqlite" >&2; exit 2; }
for f in "$1" "$2"; do [ -r "$f" ] || { echo "$0: $f: cannot read" >&2; exit 2; }; done
dump() {
  sqlite3 -batch "$1" <<'SQL'
.mode list
.separator |
SELECT 'run', scenario, variant, mode, replication, seed, events, requests FROM runs ORDER BY run_id;
SELECT 'metric', r.scenario, r.variant, r.replication, m.name, quote(m.value)
  FROM metrics m JOIN runs r USING (run_id) ORDER BY r.run_id, m.name;
SELECT 'stage', r.scenario, r.variant, r.replication, s.stage, s.count, quote(s.mean_ns), quote(s.p50_ns), quote(s.p99_ns)
  FROM stages s JOIN runs r USING (run_id) ORDER BY r.run_id, s.stage;
SELECT 'hist', r.scenario, r.variant, r.replication, h.metric, h.lo_ns, h.hi_ns, h.count
  FROM histograms h JOIN runs r USING (run_id) ORDER BY r.run_id, h.metric, h.lo_ns;
SELECT 'req', r.scenario, r.variant, r.replication, q.req_id, q.flow, q.class, q.op, q.bytes,
       q.submit_cpu, q.completion_cpu, q.consumer_cpu, q.t_issue, q.t_submit, q.t_dispatch,
       q.t_device_done, q.t_irq, q.t_blk_done, q.t_cqe, q.t_ready, q.t_continued, q.deferred
  FROM requests q JOIN runs r USING (run_id) ORDER BY r.run_id, q.req_id;
SELECT 'cmp', scenario, variant, baseline, metric, quote(value), quote(baseline_value),
       quote(delta_pct), quote(ci_low), quote(ci_high), significant
  FROM comparisons ORDER BY scenario, variant, metric;
SQL
}
a=$(mktemp) b=$(mktemp); trap 'rm -f "$a" "$b"' EXIT
dump "$1" >"$a"; dump "$2" >"$b"
if cmp -s "$a" "$b"; then
  echo "identical: $(wc -l <"$a") rows ($(grep -c '^metric' "$a") metrics, $(grep -c '^req' "$a") request rows)"
  exit 0
fi
echo "DIFFERENT ($(wc -l <"$a") vs $(wc -l <"$b") rows); first differences:"
diff "$a" "$b" | head -20
exit 1
