#!/usr/bin/env bash
# findings.sh - regenerate docs/findings.md: what each completion policy does
# in the shipped scenarios, one table per policy, every number with its 95%
# CI over replications (the paired variant - baseline difference that
# `latsurf run` writes to the comparisons table, docs/report.md).
#
# Usage: scripts/findings.sh [LATSURF_BINARY [OUT_MD]]
#   defaults: build/latsurf, docs/findings.md; FINDINGS_REPS (5) replications,
#   seed 1, so the same binary writes the same numbers.
#
# Campaigns: every scenarios/*.json as shipped, plus host-qd1 with a hog on
# its IRQ CPU (consumer affinity under IRQ-CPU load). A variant is filed
# under a policy when it differs from its scenario's baseline in that policy
# key alone; variants that change several keys go to "combined".
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${1:-$src/build/latsurf}")
out=${2:-$src/docs/findings.md}
reps=${FINDINGS_REPS:-5}
seed=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/findings.sqlite

run() { # scenario file, extra args...
  local f=$1; shift
  (cd "$src" && "$bin" run "$f" --db "$db" --seed $seed --reps "$reps" "$@" >/dev/null) || {
    echo "findings: latsurf run $f $* failed" >&2; exit 1; }
}
for s in "$src"/scenarios/*.json; do
  run "scenarios/$(basename "$s")"
done
hog='[{"cpu": 1, "period_us": 4000, "busy_us": 2000}]'
run scenarios/host-qd1.json --set name=host-qd1-irq-hog --set "host.background=$hog"

commit=$(cd "$src" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(cd "$src" && git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit (with uncommitted changes)"
fi

# One row per (comparison, metric): policy, scenario, the change, the metric,
# baseline and variant means, the difference with its CI, and the verdict.
# Directions: higher is better for the metrics named in `higher` (as
# sim/metric.h registers them), lower for the rest shown here.
sql="
WITH sj AS (SELECT scenario, max(scenario_json) AS j FROM v_latest_runs GROUP BY scenario),
v AS (SELECT sj.scenario, json_extract(e.value, '\$.name') AS name,
             coalesce(json_extract(e.value, '\$.affinity'), 'kernel') AS aff,
             coalesce(json_extract(e.value, '\$.mode'), 'throughput') AS mode,
             coalesce(json_extract(e.value, '\$.registration'), 'none') AS reg,
             coalesce(json_extract(e.value, '\$.hints'), 'none') AS hints,
             coalesce(json_extract(e.value, '\$.set'), '') AS st
      FROM sj, json_each(sj.j, '\$.variants') e),
shown(metric, ord, higher) AS (VALUES
  ('lat_p50_ns', 1, 0), ('lat_p99_ns', 2, 0), ('useful_completion_p99_ns', 3, 0),
  ('query_latency_p99_ns', 4, 0), ('step_stall_p99_ns', 5, 0),
  ('storage_to_gpu_gap_p99_ns', 6, 0), ('iops', 7, 1), ('cpu_ns_per_io', 8, 0),
  ('locality_miss_rate', 9, 0)),
c AS (
  SELECT c.*, s.ord, s.higher, x.aff, x.mode, x.reg, x.hints, x.st,
         b.aff AS baff, b.mode AS bmode, b.reg AS breg, b.hints AS bhints, b.st AS bst,
         (x.aff <> b.aff) + (x.mode <> b.mode) + (x.reg <> b.reg) + (x.hints <> b.hints) AS k
  FROM comparisons c JOIN shown s USING (metric)
  JOIN v x ON x.scenario = c.scenario AND x.name = c.variant
  JOIN v b ON b.scenario = c.scenario AND b.name = c.baseline
  WHERE c.owner = 'report'),
d AS (
  SELECT *,
    CASE WHEN st <> bst OR k = 0 THEN 'other' WHEN k > 1 THEN 'combined'
         WHEN aff <> baff THEN 'affinity' WHEN mode <> bmode THEN 'mode'
         WHEN reg <> breg THEN 'registration' ELSE 'hints' END AS policy,
    trim(CASE WHEN aff <> baff THEN 'affinity ' || baff || '->' || aff || ' ' ELSE '' END ||
         CASE WHEN mode <> bmode THEN 'mode ' || bmode || '->' || mode || ' ' ELSE '' END ||
         CASE WHEN reg <> breg THEN 'registration ' || breg || '->' || reg || ' ' ELSE '' END ||
         CASE WHEN hints <> bhints THEN 'hints ' || bhints || '->' || hints ELSE '' END) AS chg,
    CASE WHEN ci_low IS NULL THEN 'no CI (1 replication)'
         WHEN ci_low <= 0 AND ci_high >= 0 THEN 'no effect (CI includes 0)'
         WHEN (ci_low > 0) = (higher = 1) THEN 'helps' ELSE 'hurts' END AS verdict
  FROM c)
SELECT policy, scenario, variant || ' (' || chg || ')', metric,
  CASE WHEN metric LIKE '%_ns' THEN printf('%.1f us', baseline_value / 1e3)
       WHEN metric LIKE '%rate' THEN printf('%.1f%%', 100 * baseline_value)
       WHEN metric = 'iops' THEN printf('%.2fk', baseline_value / 1e3)
       WHEN metric = 'cpu_ns_per_io' THEN printf('%.0f ns', baseline_value)
       ELSE printf('%.4g', baseline_value) END,
  CASE WHEN metric LIKE '%_ns' THEN printf('%.1f us', value / 1e3)
       WHEN metric LIKE '%rate' THEN printf('%.1f%%', 100 * value)
       WHEN metric = 'iops' THEN printf('%.2fk', value / 1e3)
       WHEN metric = 'cpu_ns_per_io' THEN printf('%.0f ns', value)
       ELSE printf('%.4g', value) END,
  CASE WHEN ci_low IS NULL THEN '-'
       WHEN metric LIKE '%_ns' THEN printf('%+.1f [%+.1f, %+.1f] us', (value - baseline_value) / 1e3,
                                           ci_low / 1e3, ci_high / 1e3)
       WHEN metric LIKE '%rate' THEN printf('%+.1f [%+.1f, %+.1f] pts', 100 * (value - baseline_value),
                                            100 * ci_low, 100 * ci_high)
       WHEN metric = 'iops' THEN printf('%+.2f [%+.2f, %+.2f]k', (value - baseline_value) / 1e3,
                                        ci_low / 1e3, ci_high / 1e3)
       WHEN metric = 'cpu_ns_per_io' THEN printf('%+.0f [%+.0f, %+.0f] ns', value - baseline_value,
                                                 ci_low, ci_high)
       ELSE printf('%+.4g [%+.4g, %+.4g]', value - baseline_value, ci_low, ci_high) END,
  CASE WHEN delta_pct IS NULL THEN '-' ELSE printf('%+.1f%%', delta_pct) END,
  verdict
FROM d
ORDER BY CASE policy WHEN 'affinity' THEN 1 WHEN 'mode' THEN 2 WHEN 'registration' THEN 3
                     WHEN 'hints' THEN 4 WHEN 'combined' THEN 5 ELSE 6 END,
         scenario, variant, ord;"
sqlite3 -separator $'\t' "$db" "$sql" >"$tmp/rows.tsv"

{
  echo "# Findings: what each policy does in the shipped scenarios"
  echo
  echo "Generated by \`scripts/findings.sh\` (FINDINGS_REPS=$reps, seed $seed) at commit"
  echo "$commit on $(date -u +%Y-%m-%d). Do not edit by hand: rerun the script."
  echo
  echo "Each row compares one variant with its scenario's baseline variant (the"
  echo "Linux/NVMe default of the machine the scenario describes, docs/scenarios.md),"
  echo "over $reps replications paired by common random numbers. *diff* is variant -"
  echo "baseline with its 95% confidence interval (the \`comparisons\` table,"
  echo "docs/report.md). *helps* / *hurts*: the interval excludes 0 and the"
  echo "difference is better / worse for that metric (higher is better for \`iops\`,"
  echo "lower for the others); *no effect*: the interval includes 0. These are"
  echo "simulator results under the models of docs/models.md, no what-if on, not"
  echo "measurements of a machine. \`host-qd1-irq-hog\` is \`host-qd1.json\` with a"
  echo "thread busy 2 ms of every 4 ms on its IRQ CPU (CPU 1)."
  for p in affinity mode registration hints combined other; do
    grep -q "^$p	" "$tmp/rows.tsv" || continue
    echo
    echo "## $p"
    echo
    for v in helps hurts "no effect (CI includes 0)"; do
      list=$(awk -F'\t' -v p="$p" -v v="$v" '$1 == p && $9 == v { print $2 " " $4 }' "$tmp/rows.tsv" |
             sort -u | awk '{ a[$1] = a[$1] (a[$1] ? ", " : "") $2 } END { for (s in a) print s ": " a[s] }' |
             sort | paste -sd ';' | sed 's/;/; /g')
      echo "- **${v}**: ${list:-nowhere}"
    done
    echo
    echo "| scenario | variant (change) | metric | baseline | variant | diff [95% CI] | change | verdict |"
    echo "|---|---|---|---|---|---|---|---|"
    awk -F'\t' -v p="$p" '$1 == p { printf "| %s | %s | `%s` | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7, $8, $9 }' \
      "$tmp/rows.tsv"
  done
} >"$out"
echo "findings: wrote $out" >&2
