#!/bin/bash
# helper-43, 2026-12-08 01:36 UTC (docs/models.md, "The VM freezes"); F: a 256 MiB written file
P=${P:-/tmp/fzprobe}; F=${F:-/var/tmp/h43/scratch}; O=${O:-/tmp/fzprobe-out2}; mkdir -p $O
uptime
echo "== kernel variant, no detectors"; $P $F 10 -1 0 w --
echo "== consumer variant, no detectors"; $P $F 8 -1 1 w --
for x in 50 100 200 400; do echo "== reader cpu1, timer on cpu0 every $x us"; $P $F 8 -1 1 w t- $O/t$x.txt 1 $x; done
for d in 4 16; do echo "== ss QD$d"; $P $F 8 -1 0 w ss $O/qd$d.txt $d; done
echo "== ss QD1 2500/s"; $P $F 8 2500 0 w ss $O/e2500.txt
echo "== ss QD1 max"; $P $F 10 -1 0 w ss $O/emax.txt
echo "== ss no reads"; $P $F 8 0 0 w ss $O/e0.txt
uptime
