#!/usr/bin/env python3
"""whatif_cpubudget.py REC.txt [N_READS]: where each CPU's time went in a
`latsurf trace record` recording (docs/whatif.md, "Why the simulation is
faster than the four-thread recording").

From the recording's sched_switch, sys_enter/exit_pread64 and irq/softirq
events, over the window from the first pread64 entry to the last exit:
per CPU, the on-CPU time of each task (the readers split into time inside
their pread64 calls and time between them, i.e. the exported think's CPU
part), hard-IRQ and softirq time (counted inside whichever task was
current: this kernel has no IRQ time accounting), and idle; then per read.
A task is a reader when it made at least 100 pread64 calls.

Analysis only: it reads the recording and prints; nothing is written.
"""
import collections
import re
import sys

EV = re.compile(r'^\s*(.+?)-(\d+)\s+\[(\d+)\]\s+\S+\s+([\d.]+): (\w+):(.*)$')


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: whatif_cpubudget.py REC.txt")
    lines = []
    first = last = None
    calls = collections.Counter()
    with open(sys.argv[1]) as f:
        for line in f:
            m = EV.match(line)
            if not m:
                continue
            pid, cpu, t, ev, rest = int(m.group(2)), int(m.group(3)), float(m.group(4)), m.group(5), m.group(6)
            if ev in ("sys_enter_pread64", "sys_exit_pread64"):
                first = t if first is None else min(first, t)
                last = t if last is None else max(last, t)
                if ev == "sys_enter_pread64":
                    calls[pid] += 1
            lines.append((t, pid, cpu, ev, rest))
    if first is None:
        sys.exit("whatif_cpubudget: no pread64 events in %s" % sys.argv[1])
    lines.sort(key=lambda x: x[0])
    readers = {p for p, n in calls.items() if n >= 100}
    nreads = sum(calls[p] for p in readers)
    cur = {}        # cpu -> (comm, pid) running
    since = {}      # cpu -> t it started
    inside = set()  # readers inside pread64
    busy = collections.defaultdict(float)  # (cpu, label) -> s
    lvl = collections.defaultdict(float)   # (cpu, 'hardirq'|'softirq') -> s
    lvl_n = collections.Counter()
    start = {}

    def label(comm, pid):
        if pid == 0:
            return "idle"
        if pid in readers:
            return "readers, in pread64" if pid in inside else "readers, between reads (think)"
        return "%s (other)" % re.sub(r"[:/]\d+.*$", "", comm)

    def account(cpu, t):
        if cpu in cur:
            a, b = max(since[cpu], first), min(t, last)
            if b > a:
                busy[(cpu, label(*cur[cpu]))] += b - a
        since[cpu] = t

    for t, pid, cpu, ev, rest in lines:
        if ev == "sched_switch":
            account(cpu, t)
            nc = re.search(r"next_comm=(.*?) next_pid=(\d+)", rest)
            cur[cpu] = (nc.group(1), int(nc.group(2)))
        elif ev in ("sys_enter_pread64", "sys_exit_pread64") and pid in readers:
            account(cpu, t)
            cur.setdefault(cpu, ("", pid))
            (inside.add if ev == "sys_enter_pread64" else inside.discard)(pid)
        elif ev in ("irq_handler_entry", "softirq_entry"):
            start[(cpu, ev)] = t
        elif ev in ("irq_handler_exit", "softirq_exit"):
            k = (cpu, ev.replace("exit", "entry"))
            if k in start and first <= t <= last:
                name = "hardirq" if ev.startswith("irq") else "softirq"
                lvl[(cpu, name)] += t - start.pop(k)
                lvl_n[(cpu, name)] += 1
    for cpu in list(cur):
        account(cpu, last)
    win = last - first
    print("window %.1f ms (first pread64 entry to last exit), %d reads by %d readers"
          % (win * 1e3, nreads, len(readers)))
    for cpu in sorted({c for c, _ in busy}):
        rows = sorted(((l, s) for (c, l), s in busy.items() if c == cpu), key=lambda x: -x[1])
        tot = sum(s for l, s in rows if l != "idle")
        print("cpu %d: busy %.1f ms (%.0f%%), %.2f us per read" % (cpu, tot * 1e3, 100 * tot / win,
                                                                tot / nreads * 1e6))
        for l, s in rows[:10]:
            print("  %-40s %8.1f ms  %6.2f us/read" % (l, s * 1e3, s / nreads * 1e6))
        for name in ("hardirq", "softirq"):
            if lvl_n[(cpu, name)]:
                s = lvl[(cpu, name)]
                print("  %-40s %8.1f ms  %6.2f us/read (%d runs, inside the tasks above)"
                      % (name, s * 1e3, s / nreads * 1e6, lvl_n[(cpu, name)]))


if __name__ == "__main__":
    main()
