#!/usr/bin/env python3
# bench/whatif_runq.py REC.txt EXPORT.jsonl - for the busiest thread of an exported
# recording (docs/whatif.md): the off-CPU part of its think times (think_ns -
# think_cpu_ns, which a replay sleeps) against the time it was runnable but waiting
# for a CPU over the whole recording (sched_wakeup, or a switch-out in state R, to
# its next switch-in): how much of the waiting the export hands the replay as sleep.
import re, json, sys
rec, jl = sys.argv[1], sys.argv[2]
recs = [json.loads(l) for l in open(jl)]
from collections import Counter
flow = Counter(r['flow'] for r in recs).most_common(1)[0][0]
offcpu = sum(r['think_ns'] - r['think_cpu_ns'] for r in recs if r['flow'] == flow and r['after'])
pat_sw = re.compile(r' (\d+\.\d+): sched_switch: .*prev_pid=(\d+) .*prev_state=(\S+) ==> .*next_pid=(\d+)')
pat_wk = re.compile(r' (\d+\.\d+): sched_wakeup: .*pid=(\d+) ')
runq = 0.0; since = None; nwait = 0
for line in open(rec):
    m = pat_sw.search(line)
    if m:
        t = float(m.group(1)); prev = int(m.group(2)); st = m.group(3); nxt = int(m.group(4))
        if prev == flow and st.startswith('R'):
            since = t
        if nxt == flow and since is not None:
            runq += t - since; since = None; nwait += 1
        continue
    m = pat_wk.search(line)
    if m and int(m.group(2)) == flow:
        since = float(m.group(1))
print("flow %d: off-CPU part of its think times %.1f ms; runnable but waiting for a CPU (wakeup or preemption to switch-in, whole recording) %.1f ms over %d waits" % (flow, offcpu / 1e6, runq * 1e3, nwait))
