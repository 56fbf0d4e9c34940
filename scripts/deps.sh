#!/usr/bin/env bash
# Install the Debian packages latsurf needs, or say exactly what to run.
# Idempotent: does nothing when everything is present. The last line is for
# the guest tests (tests/guest/guest.sh: QEMU, a static busybox, the initramfs
# tools, and rdma-core's userspace with the soft-RoCE provider).
set -eu
pkgs=(build-essential clang cmake pkg-config libgsl-dev libsqlite3-dev sqlite3 libjansson-dev
      liburing-dev libnuma-dev libcmocka-dev librandom123-dev libtracefs-dev libtraceevent-dev zlib1g-dev
      python3-simpy fio gnuplot-nox openmpi-bin libopenmpi-dev libibverbs-dev
      qemu-system-x86 busybox-static cpio zstd xz-utils libibverbs1 ibverbs-providers iproute2
      ${LATSURF_EXTRA_PKGS:-})
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "latsurf: missing Debian packages: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "latsurf: run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
