#!/usr/bin/env bash
# Installs fscanary's build and test dependencies from Debian bookworm's
# packages. Idempotent: packages already present are left as they are.
# Usage: scripts/install-deps.sh [build|test]   (default: build)
set -euo pipefail

profile="${1:-build}"

build_packages=(
  build-essential cmake pkg-config ninja-build
  liburing-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libspdlog-dev libxxhash-dev libcivetweb-dev libcli11-dev
  libyaml-cpp-dev libsqlite3-dev libpq-dev libsystemd-dev libblkid-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev zlib1g-dev libssl-dev
)
test_packages=(
  fio fdisk util-linux e2fsprogs xfsprogs btrfs-progs socat python3 prometheus prometheus-alertmanager
  debootstrap dpkg-dev zstd openssl
  qemu-system-x86 qemu-utils nbdkit nbdkit-plugin-python
  postgresql-15
)

case "$profile" in
  build) wanted=("${build_packages[@]}") ;;
  test) wanted=("${build_packages[@]}" "${test_packages[@]}") ;;
  *) echo "install-deps.sh: unknown profile '$profile' (expected build or test)" >&2; exit 2 ;;
esac

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get install)" >&2
  exit 2
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps.sh: all ${#wanted[@]} packages already installed"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
