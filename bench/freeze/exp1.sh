#!/bin/bash
# helper-43 freeze experiments, run under the measurement lock
# helper-43, 2026-12-08 01:31 UTC (docs/models.md, "The VM freezes"); F: a 256 MiB written file
P=${P:-/tmp/fzprobe}; F=${F:-/var/tmp/h43/scratch}; O=${O:-/tmp/fzprobe-out1}; mkdir -p $O
uptime
$P $F 8 0 0 w ss $O/e0.txt
$P $F 10 5000 0 w ss $O/e5k.txt
$P $F 10 10000 0 w ss $O/e10k.txt
$P $F 10 20000 0 w ss $O/e20k.txt
$P $F 10 -1 0 w ss $O/emax.txt
$P $F 10 10000 1 w ss $O/e10k-c1.txt
$P $F 10 -1 1 w ss $O/emax-c1.txt
echo busy:
$P $F 10 -1 0 p -- 
$P $F 10 -1 0 p -s $O/p-s.txt
$P $F 10 -1 0 w -s $O/w-s.txt
$P $F 10 -1 0 w --
$P $F 10 -1 1 w s- $O/c1-s-.txt
$P $F 10 -1 1 w -- 
$P $F 10 -1 1 w t-
$P $F 10 -1 0 w st $O/st.txt
uptime
