#!/bin/bash
# Builds the test guest of tests/vm: a minimal Debian bookworm root with
# systemd as init, Debian's kernel (linux-image-amd64) and the fscanary-agent
# .deb of this tree installed with apt and enabled, configured as the README
# tells operators (tests/vm/guest/). Writes into OUT_DIR:
#   root.img        ext4 root filesystem image (made with mkfs.ext4 -d: nothing mounted)
#   vmlinuz, initrd.img, kernel_release   the guest's own kernel and initramfs
#
#   build_image.sh AGENT_DEB OUT_DIR
#   build_image.sh --debootstrap-only     (fills the first cache only)
#
# Three caches under FSCANARY_VM_CACHE (default /var/cache/fscanary-vm):
#   debootstrap-DAY-KEY.tar.zst  minbase + systemd, udev, kernel; one a day (about 2 min)
#   base-DAY-KEY.tar.zst         + the agent's dependencies, per Depends line (apt)
#   image-KEY/                   the finished image, keyed by the .deb's and these files' hashes
# so that a run pays only for what changed. Needs root and the Debian mirror.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SOURCE_DIR=$(cd "$HERE/../.." && pwd)
SUITE=bookworm
INCLUDE=systemd-sysv,udev,kmod,linux-image-amd64,util-linux
CACHE_DIR=${FSCANARY_VM_CACHE:-/var/cache/fscanary-vm}
ROOT_IMAGE_SIZE=2G

say() { echo "== build_image: $*"; }
die() { echo "build_image: $*" >&2; exit 1; }
in_root() { chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "${@:2}"; }

DEBOOTSTRAP_ONLY=0
if [[ "${1:-}" == --debootstrap-only ]]; then
  DEBOOTSTRAP_ONLY=1
else
  [[ $# -eq 2 ]] || die "usage: build_image.sh AGENT_DEB OUT_DIR | --debootstrap-only"
  [[ -f "$1" ]] || die "no such .deb: $1"
  AGENT_DEB=$(realpath "$1")
  OUT_DIR=$2
fi
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is not installed"

# shellcheck source=../lib/debian_mirror.sh
source "$SOURCE_DIR/tests/lib/debian_mirror.sh"
debian_mirrors "$SUITE"

mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"
flock 9  # one builder at a time; a concurrent one waits and finds the cache

DAY=$(date +%Y%m%d)
DEBOOTSTRAP_KEY=$(printf '%s\n' "$SUITE" "$MIRROR" "$INCLUDE" | sha256sum | cut -c1-16)
DEBOOTSTRAP_TAR="$CACHE_DIR/debootstrap-$DAY-$DEBOOTSTRAP_KEY.tar.zst"

WORK=""
cleanup() { [[ -n "$WORK" ]] && rm -rf "$WORK"; return 0; }
trap cleanup EXIT
WORK=$(mktemp -d /var/tmp/fscanary-vm-image.XXXXXX)

make_debootstrap() {
  local root="$WORK/debootstrap"
  say "debootstrap $SUITE with $INCLUDE (not cached today)"
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" \
    >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
  tar -C "$root" --numeric-owner -cf - . | zstd -T2 -q >"$DEBOOTSTRAP_TAR.tmp"
  mv "$DEBOOTSTRAP_TAR.tmp" "$DEBOOTSTRAP_TAR"
  rm -rf "$root"
  find "$CACHE_DIR" -maxdepth 1 -name 'debootstrap-*.tar.zst' \
    ! -name "$(basename "$DEBOOTSTRAP_TAR")" -delete
}

make_base() {
  local root="$WORK/base"
  say "installing the agent's dependencies: $DEPENDS"
  mkdir -p "$root"
  zstd -d -q <"$DEBOOTSTRAP_TAR" | tar -C "$root" --numeric-owner -xf -
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
    "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" "$SECURITY_MIRROR" "$SUITE" >"$root/etc/apt/sources.list"
  { in_root "$root" apt-get update -q &&
    in_root "$root" apt-get satisfy -y -q --no-install-recommends "$DEPENDS"; } \
    >"$WORK/apt.log" 2>&1 ||
    { tail -n 30 "$WORK/apt.log" >&2; die "the agent's dependencies are not installable"; }
  in_root "$root" apt-get clean
  tar -C "$root" --numeric-owner -cf - . | zstd -T2 -q >"$BASE_TAR.tmp"
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$root"
  find "$CACHE_DIR" -maxdepth 1 -name 'base-*.tar.zst' ! -name "$(basename "$BASE_TAR")" -delete
}

make_image() {
  local root="$WORK/root" staged="$WORK/image" release
  mkdir -p "$root" "$staged"
  zstd -d -q <"$BASE_TAR" | tar -C "$root" --numeric-owner -xf -
  cp "$AGENT_DEB" "$root/tmp/fscanary-agent.deb"
  in_root "$root" apt-get install -y -q --no-install-recommends /tmp/fscanary-agent.deb \
    >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; die "installing the .deb failed"; }
  rm "$root/tmp/fscanary-agent.deb"
  in_root "$root" systemctl is-enabled fscanary-agent.service >/dev/null ||
    die "the package did not enable fscanary-agent.service"
  # What the README tells operators to do for a raw scratch disk: the
  # package's udev rule with the disk's by-id name (a line per bus the guests
  # use), its drop-in, and the device in agent.yaml (guest/etc/fscanary/).
  local examples="$root/usr/share/doc/fscanary-agent/examples" name
  [[ -f "$examples/61-fscanary-scratch.rules" && -f "$examples/scratch-device.conf" ]] ||
    die "the package ships no scratch disk examples in /usr/share/doc/fscanary-agent/examples"
  for name in virtio-fscanary-scratch scsi-0QEMU_QEMU_HARDDISK_fscanary-scratch; do
    sed -n "s|SCRATCH-BY-ID|$name|p" "$examples/61-fscanary-scratch.rules"
  done >"$root/etc/udev/rules.d/61-fscanary-scratch.rules"
  mkdir -p "$root/etc/systemd/system/fscanary-agent.service.d"
  cp "$examples/scratch-device.conf" "$root/etc/systemd/system/fscanary-agent.service.d/"
  # And what only the test guest has: its agent.yaml, network, facts on the console.
  cp -a "$HERE/guest/." "$root/"
  # (fscanary-vm-boot and -facts are not enabled: the scratch disk's
  # appearance starts them, guest/etc/udev/rules.d/62-fscanary-vm.rules.)
  in_root "$root" systemctl enable systemd-networkd.service \
    >/dev/null 2>&1 || die "systemctl enable failed in the root"
  # Each guest gets its own machine id (so its own agent id) from the test.
  : >"$root/etc/machine-id"
  echo "fscanary-vm" >"$root/etc/hostname"
  echo "/dev/vda / ext4 errors=remount-ro 0 1" >"$root/etc/fstab"
  # No login prompt on the console the tests read; no timers that write.
  in_root "$root" systemctl mask serial-getty@ttyS0.service getty@tty1.service \
    apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
  rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
  rm -rf "$root/var/lib/apt/lists"/* "$root/var/cache/apt"/*.bin
  release=$(basename "$(ls -d "$root"/lib/modules/*)")
  cp "$root/boot/vmlinuz-$release" "$staged/vmlinuz"
  cp "$root/boot/initrd.img-$release" "$staged/initrd.img"
  echo "$release" >"$staged/kernel_release"
  mkfs.ext4 -q -F -L fscanary-root -d "$root" "$staged/root.img" "$ROOT_IMAGE_SIZE" ||
    die "mkfs.ext4 -d failed"
  rm -rf "$IMAGE_DIR"
  mv "$staged" "$IMAGE_DIR"
  find "$CACHE_DIR" -maxdepth 1 -name 'image-*' ! -name "image-$IMAGE_KEY" -exec rm -rf {} +
}

[[ -f "$DEBOOTSTRAP_TAR" ]] || make_debootstrap
[[ $DEBOOTSTRAP_ONLY -eq 1 ]] && exit 0

DEPENDS=$(dpkg-deb -f "$AGENT_DEB" Depends)
BASE_KEY=$(printf '%s\n' "$DEBOOTSTRAP_KEY" "$DEPENDS" | sha256sum | cut -c1-16)
BASE_TAR="$CACHE_DIR/base-$DAY-$BASE_KEY.tar.zst"
IMAGE_KEY=$( (sha256sum "$AGENT_DEB" "$0" | cut -d' ' -f1; cd "$HERE/guest" &&
  find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum; echo "$BASE_KEY") |
  sha256sum | cut -c1-16)
IMAGE_DIR="$CACHE_DIR/image-$IMAGE_KEY"

[[ -f "$BASE_TAR" ]] || make_base
if [[ -f "$IMAGE_DIR/root.img" ]]; then
  say "cached image $IMAGE_KEY"
else
  say "installing $(basename "$AGENT_DEB") into a fresh root"
  make_image
fi
mkdir -p "$OUT_DIR"
for file in root.img vmlinuz initrd.img kernel_release; do
  cp --sparse=always "$IMAGE_DIR/$file" "$OUT_DIR/$file"
done
say "image in $OUT_DIR (kernel $(cat "$OUT_DIR/kernel_release"))"
