#!/bin/bash
# Checks fscanary's systemd units the way systemd itself reads them.
#
#   check_units.sh verify BUILD_DIR COMPONENT SOURCE_UNIT
#     Installs the package component (binaries, unit, config) into an empty
#     root, as the .deb would lay it out, adds the host's own systemd units
#     (the targets ours depend on) and /usr/bin/kill (procps, a dependency),
#     and runs `systemd-analyze verify --root` on the installed unit. Clean
#     means exit 0 and no output at all: an unknown directive, a typo in a
#     system call name or a missing ExecStart= binary each print a line.
#     The installed unit must be byte-identical to SOURCE_UNIT.
#
#   check_units.sh security UNIT_FILE MAX_EXPOSURE
#     `systemd-analyze security --offline=true` must rate the unit at
#     MAX_EXPOSURE or below (0.0 best, 10.0 worst).
#
# Exit 77 (skipped) where systemd-analyze is missing.
set -euo pipefail

die() { echo "FAIL: $*" >&2; exit 1; }
root=""  # verify's temporary root
trap '[[ -z "$root" ]] || rm -rf "$root"' EXIT

command -v systemd-analyze >/dev/null || { echo "SKIP: no systemd-analyze"; exit 77; }

verify() {
  local build_dir=$1 component=$2 source_unit=$3
  local unit_name
  unit_name=$(basename "$source_unit")
  root=$(mktemp -d "${TMPDIR:-/tmp}/fscanary-units.XXXXXX")

  # Debian's merged /usr: /bin, /sbin and /lib are links into /usr.
  mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/usr/lib/systemd/system" "$root/etc"
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"

  DESTDIR="$root" cmake --install "$build_dir" --component "$component" --prefix /usr \
    >/dev/null || die "cmake --install --component $component failed"

  local installed="$root/lib/systemd/system/$unit_name"
  [[ -f "$installed" ]] || die "component $component installs no $unit_name"
  cmp -s "$installed" "$source_unit" || die "installed $unit_name differs from $source_unit"

  # The units ours pull in (sysinit.target, network-online.target, ...).
  local unit
  for unit in /usr/lib/systemd/system/*; do
    case $(basename "$unit") in fscanary-*) continue ;; esac
    [[ -e "$root/usr/lib/systemd/system/$(basename "$unit")" ]] || cp -a "$unit" "$root/usr/lib/systemd/system/"
  done
  [[ -x /usr/bin/kill ]] || die "/usr/bin/kill (procps) is missing on this machine"
  cp /usr/bin/kill "$root/usr/bin/kill"

  local output status=0
  output=$(systemd-analyze verify --man=no --generators=no --root="$root" "$unit_name" 2>&1) ||
    status=$?
  if [[ $status -ne 0 || -n "$output" ]]; then
    printf '%s\n' "$output" >&2
    die "systemd-analyze verify $unit_name: exit $status, ${#output} bytes of complaints"
  fi

  # The binary the unit starts is the one the component installed, and runs.
  local exec_start
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$installed")
  [[ -x "$root$exec_start" ]] || die "ExecStart=$exec_start is not installed"
  "$root$exec_start" --help >/dev/null || die "$exec_start --help failed"
  echo "PASS: $unit_name verifies clean; ExecStart=$exec_start installed by component $component"
}

security() {
  local unit_file=$1 max=$2 report exposure
  report=$(systemd-analyze security --offline=true --no-pager "$unit_file" 2>&1) ||
    die "systemd-analyze security failed: $report"
  exposure=$(printf '%s\n' "$report" |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
  [[ -n "$exposure" ]] || die "no overall exposure level in: $report"
  printf '%s\n' "$report" | grep '^✗' || true
  if awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }'; then
    echo "PASS: $(basename "$unit_file") exposure $exposure <= $max"
  else
    die "$(basename "$unit_file") exposure $exposure > $max"
  fi
}

case ${1:-} in
  verify) [[ $# -eq 4 ]] || die "usage: $0 verify BUILD_DIR COMPONENT SOURCE_UNIT"; verify "$2" "$3" "$4" ;;
  security) [[ $# -eq 3 ]] || die "usage: $0 security UNIT_FILE MAX_EXPOSURE"; security "$2" "$3" ;;
  *) die "usage: $0 verify|security ..." ;;
esac
