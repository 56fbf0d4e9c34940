#!/usr/bin/env bash
# guest.sh - run a script inside a QEMU guest booted with Debian's own kernel,
# so latsurf meets the real nvme driver (emulated NVMe controller: many
# queues, MSI-X vectors, poll queues) and the real RDMA stack (soft-RoCE).
# Only the hardware is emulated; the drivers, blk-mq, io_uring and verbs are
# the kernel's. Timing under TCG says nothing about hardware: guest tests are
# functional.
#
# usage: guest.sh --bin LATSURF --script FILE [--smp N] [--queues M] [--poll P]
#                 [--rdma] [--disk-mb N] [--timeout S] [--file SRC[:DEST]]...
#                 [--work DIR]
#   --queues M   NVMe I/O queue pairs the controller offers (max_ioqpairs)
#   --poll P     nvme.ko poll_queues=P
#   --rdma       load soft-RoCE (rdma_rxe) and the rdma-core userspace
#   --file       copy SRC into the guest at DEST (default /data/BASENAME)
# The guest script runs as /guest/run.sh, with the check helpers at
# /guest/check.sh, latsurf on PATH, the NVMe namespace (filled with random
# bytes) at /dev/nvme0n1, tracefs mounted.
#
# Exit: the guest script's exit code; 77 when QEMU cannot run at all (the
# test is skipped, saying why); 1 when the guest does not boot or finish, with
# the console's tail. The console is left in WORK/console.log.
#
# The kernel (the package linux-image-amd64 depends on, fetched with
# `apt-get download`, unpacked with dpkg-deb -x: nothing is installed) is
# cached in ${LATSURF_GUEST_CACHE:-~/.cache/latsurf-guest}/PACKAGE: the
# uncompressed vmlinux (PVH boot, twice as fast as vmlinuz under TCG) and the
# few modules the guests load.
set -euo pipefail

die() { echo "guest.sh: $*" >&2; exit 1; }
skip() { echo "SKIP guest: $*" >&2; exit 77; }

bin="" script="" smp=2 queues=4 poll=1 rdma=0 disk_mb=64 timeout=300 work="" files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --queues) queues=$2; shift 2 ;;
    --poll) poll=$2; shift 2 ;;
    --rdma) rdma=1; shift ;;
    --disk-mb) disk_mb=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) die "unknown argument '$1'" ;;
  esac
done
[ -x "$bin" ] || die "--bin: '$bin' is not an executable"
[ -f "$script" ] || die "--script: '$script' not found"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
qemu=qemu-system-x86_64

# --- can QEMU run at all? (the only reason to skip) --------------------------
command -v $qemu >/dev/null || skip "$qemu not installed (scripts/deps.sh installs qemu-system-x86)"
echo quit | timeout 30 $qemu -M q35 -accel tcg -display none -nodefaults -no-user-config \
  -S -monitor stdio >/dev/null 2>&1 || skip "$qemu cannot start a TCG machine"
for t in busybox cpio; do
  command -v $t >/dev/null || die "$t missing: run scripts/deps.sh"
done
ldd "$(command -v busybox)" 2>/dev/null | grep -q '=>' &&
  die "busybox is dynamically linked: install busybox-static"

# --- the kernel, cached -------------------------------------------------------
cache=${LATSURF_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latsurf-guest}
mkdir -p "$cache"
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$pkg" ]; then # no apt metadata: use what is cached
  pkg=$(ls -1 "$cache" 2>/dev/null | grep '^linux-image-' | sort -V | tail -1 || true)
  [ -n "$pkg" ] || die "cannot find the package linux-image-amd64 depends on (apt-get update?)"
fi
kdir=$cache/$pkg
modules=(crc64 crct10dif_common crct10dif_generic crc-t10dif crc64_rocksoft_generic
         crc64-rocksoft t10-pi nvme-core nvme
         crc32_generic udp_tunnel ip6_udp_tunnel ib_core ib_uverbs rdma_rxe dummy)
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$kdir/ok" ]; then
  echo "guest.sh: fetching $pkg into $kdir ..." >&2
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>"$tmp/apt.err") ||
    die "apt-get download $pkg failed: $(tail -2 "$tmp/apt.err")"
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  vmlinuz=$(ls "$tmp"/x/boot/vmlinuz-*)
  mkdir -p "$tmp/k/modules"
  # The xz payload inside vmlinuz is the ELF vmlinux, which QEMU boots by PVH.
  off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1 || true)
  # (not a pipe: xz stops at the stream's end and tail's SIGPIPE would fail it)
  [ -n "$off" ] && tail -c +$((off + 1)) "$vmlinuz" >"$tmp/payload.xz"
  if [ -n "$off" ] && xz -dcq --single-stream "$tmp/payload.xz" >"$tmp/k/vmlinux" 2>/dev/null &&
     [ "$(head -c4 "$tmp/k/vmlinux" | od -An -c | tr -d ' ')" = "177ELF" ]; then
    :
  else
    echo "guest.sh: no ELF vmlinux inside $vmlinuz: booting the compressed kernel" >&2
    cp "$vmlinuz" "$tmp/k/vmlinux"
  fi
  for m in "${modules[@]}"; do
    f=$(find "$tmp"/x/lib/modules -name "$m.ko*" | head -1)
    [ -n "$f" ] || die "$pkg has no module $m"
    cp "$f" "$tmp/k/modules/"
  done
  rm -rf "$kdir"
  mv "$tmp/k" "$kdir"
  touch "$kdir/ok"
  rm -rf "$tmp"
  trap - EXIT
fi
flock -u 9

# --- the accelerator: KVM only when it really boots this kernel --------------
# (a nested KVM may exist but abort or hang on a stock kernel: probe once per
# host kernel, keep the answer)
accel=tcg cpu=max
probe=$cache/accel-$(uname -r)-$(uname -n)
if [ -n "${LATSURF_GUEST_ACCEL:-}" ]; then
  accel=$LATSURF_GUEST_ACCEL
elif [ -f "$probe" ]; then
  accel=$(cat "$probe")
elif [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  pd=$(mktemp -d)
  mkdir -p "$pd/r/bin"
  cp "$(command -v busybox)" "$pd/r/bin/busybox"
  printf '#!/bin/busybox sh\n/bin/busybox echo LATSURF_KVM_OK\n/bin/busybox poweroff -f\n' >"$pd/r/init"
  chmod +x "$pd/r/init"
  (cd "$pd/r" && find . | cpio -o -H newc --quiet) >"$pd/i.cpio"
  if timeout 30 $qemu -M q35 -accel kvm -cpu host -m 256 -smp 1 -display none -nodefaults \
       -no-user-config -no-reboot -serial file:"$pd/c.log" -kernel "$kdir/vmlinux" \
       -initrd "$pd/i.cpio" -append "console=ttyS0 panic=-1 rdinit=/init" >/dev/null 2>&1 &&
     grep -q LATSURF_KVM_OK "$pd/c.log"; then
    accel=kvm
  fi
  rm -rf "$pd"
  echo $accel >"$probe"
else
  echo tcg >"$probe"
fi
[ "$accel" = kvm ] && cpu=host

# --- the initramfs ------------------------------------------------------------
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/latsurf-guest.XXXXXX")
rm -rf "$work/root"
mkdir -p "$work/root"/{bin,sbin,dev,proc,sys,tmp,data,guest,modules,etc,run}
root=$work/root
cp "$(command -v busybox)" "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
# A binary and what ldd says it loads, at the same paths.
add_elf() {
  local src=$1 dest=$2
  mkdir -p "$root$(dirname "$dest")"
  cp -L "$src" "$root$dest"
  ldd "$src" 2>/dev/null | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }' |
    while read -r lib; do
      [ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
    done
}
add_elf "$bin" /bin/latsurf
add_elf "$(command -v sqlite3)" /usr/bin/sqlite3
if [ $rdma = 1 ]; then
  # busybox's ip applet would shadow iproute2's; rdma is iproute2's only.
  add_elf "$(command -v rdma)" /usr/sbin/rdma
  # libibverbs dlopens its provider: ldd does not name it.
  prov=/usr/lib/x86_64-linux-gnu/libibverbs/librxe-rdmav34.so
  [ -f "$prov" ] || prov=$(ls /usr/lib/*/libibverbs/librxe-rdmav*.so 2>/dev/null | head -1)
  [ -n "$prov" ] && [ -f "$prov" ] || die "no rxe provider: install ibverbs-providers"
  add_elf "$prov" "$prov"
  mkdir -p "$root/etc/libibverbs.d"
  cp /etc/libibverbs.d/rxe.driver "$root/etc/libibverbs.d/"
fi
cp "$kdir"/modules/*.ko "$root/modules/"
{
  for m in crc64 crct10dif_common crct10dif_generic crc-t10dif crc64_rocksoft_generic \
           crc64-rocksoft t10-pi nvme-core; do echo "$m"; done
  echo "nvme poll_queues=$poll"
  if [ $rdma = 1 ]; then
    for m in crc32_generic udp_tunnel ip6_udp_tunnel ib_core ib_uverbs rdma_rxe dummy; do
      echo "$m"; done
  fi
} >"$root/modules/order"
cp "$here/init" "$root/init"
chmod +x "$root/init"
cp "$script" "$root/guest/run.sh"
cp "$here/check.sh" "$root/guest/check.sh" # the scripts' check helpers
for f in "${files[@]}"; do
  src=${f%%:*}; dest=${f#*:}
  [ "$dest" = "$f" ] && dest=/data/$(basename "$src")
  mkdir -p "$root$(dirname "$dest")"
  cp -rL "$src" "$root$dest"
done
echo "$(hostname)-guest" >"$root/etc/hostname"
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initramfs.cpio"

# --- the NVMe backing file (tmpfs: cache=writeback, O_DIRECT is refused there)
img_dir=/dev/shm
[ -w "$img_dir" ] || img_dir=$work
img=$(mktemp "$img_dir/latsurf-nvme.XXXXXX")
trap 'rm -f "$img"' EXIT
head -c $((disk_mb << 20)) /dev/urandom >"$img"

# --- boot ---------------------------------------------------------------------
# The emulated (TCG) guest kernel has hung once in many runs here: both vCPUs
# reported "BUG: soft lockup" (the idle task on one, latsurf inside the kernel
# on the other) from 26 s on until the timeout, where the same clone then
# passed in 61 s. A guest whose kernel reports a soft lockup is stopped at
# once and booted again, once, saying so; a second lockup, like any other
# failure, fails the test (latsurf hanging the guest twice is not a flake).
log=$work/console.log
mem=$((512 + disk_mb))
boot() {
  : >"$log"
  timeout -k 5 "$timeout" $qemu -M q35 -accel $accel -cpu $cpu -smp "$smp" -m $mem \
    -display none -nodefaults -no-user-config -no-reboot -serial file:"$log" \
    -kernel "$kdir/vmlinux" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 panic=-1 rdinit=/init loglevel=4 tsc=reliable" \
    -drive file="$img",if=none,id=nvm,format=raw,cache=writeback \
    -device nvme,serial=latsurf0,drive=nvm,max_ioqpairs="$queues" \
    >"$work/qemu.out" 2>&1 &
  local q=$!
  lockup=0
  while kill -0 $q 2>/dev/null; do
    if grep -q 'BUG: soft lockup' "$log"; then
      lockup=1
      kill $q 2>/dev/null
      break
    fi
    sleep 2
  done
  wait $q
}
t0=$(date +%s.%N)
set +e
boot
qrc=$?
if [ $lockup = 1 ]; then
  cp "$log" "$work/console-lockup.log"
  echo "guest.sh: the guest kernel reported a soft lockup (console kept in" \
       "$work/console-lockup.log); booting it again, once" >&2
  t0=$(date +%s.%N)
  boot
  qrc=$?
fi
set -e
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
tail_of() { echo "--- console tail ($log) ---"; tail -n 60 "$log"; cat "$work/qemu.out"; }
rc=$(sed -n 's/.*LATSURF_GUEST_RC=\([0-9]*\).*/\1/p' "$log" | tail -1)
if [ -z "$rc" ]; then
  if [ $lockup = 1 ]; then
    echo "guest.sh: the guest kernel reported a soft lockup again ($accel, -smp $smp)" >&2
  elif [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
    echo "guest.sh: the guest did not finish within ${timeout}s ($accel, -smp $smp)" >&2
  else
    echo "guest.sh: the guest did not finish (qemu exit $qrc, ${secs}s, $accel)" >&2
  fi
  tail_of >&2
  exit 1
fi
echo "guest.sh: guest finished in ${secs}s ($accel, -smp $smp, $queues queue pairs," \
     "poll_queues=$poll$([ $rdma = 1 ] && echo ', rdma')): exit $rc" >&2
if [ "$rc" -ne 0 ]; then
  tail_of >&2
  [ "$rc" -eq 77 ] && rc=1 # only QEMU missing is a skip
else
  sed -n '/LATSURF_GUEST_BEGIN/,/LATSURF_GUEST_RC/p' "$log" | sed '1d;$d'
fi
exit "$rc"
