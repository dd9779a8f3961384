#!/bin/bash
# shellcheck disable=SC2016  # '${Field}' is for dpkg-query, not the shell
# Installs the fscanary .deb packages into a clean Debian bookworm root (made
# with debootstrap) and checks what a Debian user expects:
#   install  every program runs --help with the root's own libraries (so the
#            Depends are right); every file lands where the unit expects:
#            ExecStart= and ExecReload= binaries, the --config file as a
#            conffile, User= and Group=, StateDirectory= owned by the user
#            with mode 0700; the unit is enabled;
#   upgrade  to a newer version keeps a locally edited conffile without a
#            prompt, keeps the state and the user's uid;
#   remove   (dpkg -r) leaves the conffiles and the state, nothing else;
#   purge    (dpkg -P) leaves nothing: the file tree equals the one before the
#            install, except the system user and group, which Debian keeps.
# Services are never started: policy-rc.d says 101, and the root has no systemd
# running (/run/systemd/system is absent).
#
#   deb_install_test.sh BUILD_DIR SOURCE_DIR [PACKAGE...]
# PACKAGE defaults to every package cpack builds (fscanary-agent,
# fscanary-collector). Needs root, debootstrap, zstd or gzip, and the Debian
# mirror; exits 77 (skipped) without root or debootstrap.
#
# The debootstrapped root is cached as a tarball in FSCANARY_TEST_ROOT_CACHE
# (default /var/cache/fscanary-test-root), one per day, so that only the first
# run of a day pays for debootstrap (minutes); every run unpacks a fresh copy.
# FSCANARY_DEBIAN_MIRROR overrides the mirror found in /etc/apt.
set -euo pipefail

BUILD_DIR=$(realpath "$1")
SOURCE_DIR=$(realpath "$2")
shift 2
WANTED_PACKAGES=("$@")

SUITE=bookworm
CACHE_DIR=${FSCANARY_TEST_ROOT_CACHE:-/var/cache/fscanary-test-root}
T0=$(date +%s.%N)
WORK=""
ROOT=""

say() { echo "== $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }
# Seconds since PREVIOUS (a date +%s.%N value).
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
declare -a TIMINGS=()
timed() {  # timed LABEL COMMAND...: runs COMMAND, records how long it took
  local label=$1 start
  shift
  start=$(date +%s.%N)
  "$@"
  TIMINGS+=("$(printf '%-52s %6ss' "$label" "$(elapsed "$start")")")
}
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

cleanup() {
  local status=$?
  if [[ -n "$ROOT" ]]; then
    # Nothing is mounted on purpose; unmount anything a failing step left.
    local mount_point
    awk -v r="$ROOT" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r |
      while read -r mount_point; do umount -l "$mount_point" || true; done
  fi
  [[ -n "$WORK" ]] && rm -rf "$WORK"
  if [[ ${#TIMINGS[@]} -gt 0 ]]; then
    echo "-- timings"
    printf '   %s\n' "${TIMINGS[@]}"
    printf '   %-52s %6ss\n' "total" "$(elapsed "$T0")"
  fi
  exit $status
}
trap cleanup EXIT

[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (debootstrap, chroot)"; exit 77; }
command -v debootstrap >/dev/null || { echo "SKIP: debootstrap is not installed"; exit 77; }
command -v cpack >/dev/null || die "cpack is missing"

# --- the mirror apt uses on this machine ------------------------------------------
# shellcheck source=../lib/debian_mirror.sh
source "$SOURCE_DIR/tests/lib/debian_mirror.sh"
debian_mirrors "$SUITE"
say "mirror $MIRROR, security $SECURITY_MIRROR"

WORK=$(mktemp -d /var/tmp/fscanary-deb-test.XXXXXX)

# --- packages -------------------------------------------------------------------
build_packages() {
  # cpack builds the `preinstall` target first, with ninja's default width;
  # up to date already, unless the tree changed since the build.
  cmake --build "$BUILD_DIR" -j2 >"$WORK/build.log" 2>&1 ||
    { tail -n 30 "$WORK/build.log" >&2; die "the build is broken"; }
  (cd "$BUILD_DIR" && cpack -G DEB -B "$WORK/cpack" >"$WORK/cpack.log" 2>&1) ||
    { cat "$WORK/cpack.log" >&2; die "cpack failed"; }
  mkdir -p "$WORK/debs"
  cp "$WORK"/cpack/*.deb "$WORK/debs/"
}
timed "cpack -G DEB" build_packages
DEBS=()
for deb in "$WORK"/debs/*.deb; do
  name=$(dpkg-deb -f "$deb" Package)
  if [[ ${#WANTED_PACKAGES[@]} -eq 0 ]] || [[ " ${WANTED_PACKAGES[*]} " == *" $name "* ]]; then
    DEBS+=("$deb")
    say "package $(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"
  fi
done
[[ ${#DEBS[@]} -gt 0 ]] || die "cpack built none of: ${WANTED_PACKAGES[*]}"

# --- a clean bookworm root ----------------------------------------------------------
compress() { if command -v zstd >/dev/null; then zstd -T2 -q; else gzip; fi; }
decompress() { if command -v zstd >/dev/null; then zstd -d -q; else gzip -d; fi; }
ARCH=$(dpkg --print-architecture)
CACHE_KEY="$SUITE-minbase-$ARCH-$(echo "$MIRROR" | md5sum | cut -c1-8)-$(date +%Y%m%d)"
CACHE_TAR="$CACHE_DIR/$CACHE_KEY.tar"

make_cached_root() {
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/.lock"
  flock 9  # a concurrent run waits for this one's debootstrap
  if [[ ! -f "$CACHE_TAR" ]]; then
    say "debootstrap --variant=minbase $SUITE (not cached today)"
    local fresh="$WORK/debootstrap"
    debootstrap --variant=minbase "$SUITE" "$fresh" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    tar -C "$fresh" --numeric-owner -cf - . | compress >"$CACHE_TAR.tmp"
    mv "$CACHE_TAR.tmp" "$CACHE_TAR"
    rm -rf "$fresh"
    find "$CACHE_DIR" -maxdepth 1 -name "$SUITE-minbase-*.tar" ! -name "$CACHE_KEY.tar" -delete
  fi
  flock -u 9
}
unpack_root() {
  ROOT="$WORK/root"
  mkdir -p "$ROOT"
  decompress <"$CACHE_TAR" | tar -C "$ROOT" --numeric-owner -xf -
}
timed "debootstrap (or today's cached root)" make_cached_root
timed "unpack a fresh root" unpack_root

prepare_root() {
  # Never start a service from a maintainer script in here.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
EOF
  in_root apt-get update -q >"$WORK/apt-update.log" 2>&1 ||
    { cat "$WORK/apt-update.log" >&2; die "apt-get update in the root failed"; }
  mkdir -p "$ROOT/tmp/debs"
  cp "${DEBS[@]}" "$ROOT/tmp/debs/"
}
timed "apt-get update in the root" prepare_root

# Dependencies first, so that the snapshots below differ only by our package.
install_dependencies() {
  local deb
  for deb in "${DEBS[@]}"; do
    in_root apt-get satisfy -y -q "$(dpkg-deb -f "$deb" Depends)" >>"$WORK/apt-deps.log" 2>&1 ||
      { cat "$WORK/apt-deps.log" >&2; die "dependencies of $(basename "$deb") not installable"; }
  done
  in_root apt-get clean
}
timed "install the dependencies (apt-get satisfy)" install_dependencies

# --- snapshots ------------------------------------------------------------------------
# Every path (type, mode, owner) outside the package manager's own books and
# logs, plus the contents of /etc.
snapshot() {
  local out=$1
  in_root find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
    -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache/apt -o -path /var/cache/debconf \
    -o -path /var/log \) -prune -o -printf '%p %y %m %u:%g\n' | LC_ALL=C sort >"$out.paths"
  (cd "$ROOT" && find etc -xdev -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) >"$out.etc"
  cut -d: -f1 "$ROOT/etc/passwd" | LC_ALL=C sort >"$out.passwd"
  cut -d: -f1 "$ROOT/etc/group" | LC_ALL=C sort >"$out.group"
}

# --- checks -----------------------------------------------------------------------------
unit_key() {  # unit_key UNIT_FILE KEY: the value of KEY= (first occurrence)
  sed -n "s/^$2=//p" "$1" | head -n1
}

check_installed() {
  local package=$1 source_unit=$2 phase=$3
  local file
  while read -r file; do
    [[ -e "$ROOT$file" || -L "$ROOT$file" ]] || die "$package: $file listed by dpkg -L is missing"
  done < <(in_root dpkg -L "$package")

  # Every program runs in the clean root: its libraries came with Depends.
  local program
  while read -r program; do
    in_root "$program" --help >/dev/null || die "$package: $program --help fails in the clean root"
  done < <(in_root dpkg -L "$package" | grep -E '^/usr/s?bin/.')

  local conffiles
  conffiles=$(in_root dpkg-query -W -f='${Conffiles}' "$package")
  if [[ -z "$source_unit" ]]; then
    say "$package ($phase): ships no unit (its daemon is not built yet): unit checks skipped"
    return
  fi
  local unit_name unit
  unit_name=$(basename "$source_unit")
  unit="$ROOT/lib/systemd/system/$unit_name"
  [[ -f "$unit" ]] || die "$package: /lib/systemd/system/$unit_name is missing"
  cmp -s "$unit" "$source_unit" || die "$package: installed $unit_name differs from the source"

  local exec_start binary config user group state_dir reload_binary
  exec_start=$(unit_key "$unit" ExecStart)
  binary=${exec_start%% *}
  [[ -x "$ROOT$binary" ]] || die "$package: ExecStart binary $binary is not installed"
  reload_binary=$(unit_key "$unit" ExecReload)
  reload_binary=${reload_binary%% *}
  if [[ -n "$reload_binary" ]]; then
    [[ -x "$ROOT$reload_binary" ]] || die "$package: ExecReload binary $reload_binary is missing"
  fi
  config=$(sed -n 's/.*--config \([^ ]*\).*/\1/p' <<<"$exec_start")
  [[ -f "$ROOT$config" ]] || die "$package: --config $config is missing"
  grep -q " $config " <<<" $conffiles " || die "$package: $config is not a conffile ($conffiles)"
  user=$(unit_key "$unit" User)
  group=$(unit_key "$unit" Group)
  in_root getent passwd "$user" >/dev/null || die "$package: User=$user does not exist"
  in_root getent group "$group" >/dev/null || die "$package: Group=$group does not exist"
  state_dir=/var/lib/$(unit_key "$unit" StateDirectory)
  local owner_mode
  owner_mode=$(in_root stat -c '%U:%G %a' "$state_dir" 2>&1 || true)
  [[ "$owner_mode" == "$user:$group 700" ]] ||
    die "$package: $state_dir is not $user:$group 0700 ($owner_mode)"
  [[ -L "$ROOT/etc/systemd/system/multi-user.target.wants/$unit_name" ]] ||
    die "$package: $unit_name is not enabled (no multi-user.target.wants link)"
  say "$package ($phase): $binary installed; $config is a conffile; $user:$group and $state_dir exist; enabled"
}

make_upgrade() {  # make_upgrade DEB OUT: the same package with a higher version
  local deb=$1 out=$2 tree="$WORK/repack"
  rm -rf "$tree"
  dpkg-deb -R "$deb" "$tree"
  sed -i 's/^Version: \(.*\)$/Version: \1+upgrade1/' "$tree/DEBIAN/control"
  dpkg-deb --root-owner-group -b "$tree" "$out" >/dev/null
}

test_package() {
  local deb=$1 package source_unit="" state_dir config user_before
  package=$(dpkg-deb -f "$deb" Package)
  local contents
  contents=$(dpkg-deb -c "$deb")
  if grep -q "/lib/systemd/system/$package.service$" <<<"$contents"; then
    source_unit="$SOURCE_DIR/deploy/systemd/$package.service"
  fi
  state_dir=/var/lib/$package
  config=$(dpkg-deb -I "$deb" conffiles)
  config=${config%%$'\n'*}
  say "$package"
  snapshot "$WORK/before"
  in_root dpkg -l | awk '/^ii/ { print $2 }' | LC_ALL=C sort >"$WORK/packages.before"

  timed "$package: apt-get install ./deb" \
    in_root apt-get install -y -q "/tmp/debs/$(basename "$deb")" >"$WORK/install.log" 2>&1 ||
    { cat "$WORK/install.log" >&2; die "$package: apt-get install failed"; }
  in_root dpkg -l | awk '/^ii/ { print $2 }' | LC_ALL=C sort >"$WORK/packages.after"
  local extra
  extra=$(LC_ALL=C comm -13 "$WORK/packages.before" "$WORK/packages.after" | grep -vx "$package" || true)
  [[ -z "$extra" ]] || die "$package: the install pulled in more than the package: $extra"
  check_installed "$package" "$source_unit" "after install"
  user_before=$(in_root getent passwd "$package")

  # Upgrade: a local edit of the conffile and the state survive, silently.
  echo "# edited by the operator" >>"$ROOT$config"
  echo "evidence" >"$ROOT$state_dir/marker"
  make_upgrade "$deb" "$ROOT/tmp/debs/upgrade.deb"
  timed "$package: upgrade (dpkg -i newer version)" \
    in_root dpkg -i /tmp/debs/upgrade.deb </dev/null >"$WORK/upgrade.log" 2>&1 ||
    { cat "$WORK/upgrade.log" >&2; die "$package: upgrade failed (a conffile prompt?)"; }
  [[ "$(in_root dpkg-query -W -f='${Version}' "$package")" == *+upgrade1 ]] ||
    die "$package: version did not change on upgrade"
  grep -q "edited by the operator" "$ROOT$config" || die "$package: upgrade lost the edited $config"
  [[ -f "$ROOT$state_dir/marker" ]] || die "$package: upgrade lost the state in $state_dir"
  [[ "$(in_root getent passwd "$package")" == "$user_before" ]] || die "$package: user changed"
  check_installed "$package" "$source_unit" "after upgrade"
  rm -f "$ROOT/tmp/debs/upgrade.deb"

  # Remove: configuration and state stay.
  timed "$package: dpkg -r" in_root dpkg -r "$package" >"$WORK/remove.log" 2>&1 ||
    { cat "$WORK/remove.log" >&2; die "$package: dpkg -r failed"; }
  [[ "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' "$package")" == "rc " ]] ||
    die "$package: not in state config-files after dpkg -r"
  grep -q "edited by the operator" "$ROOT$config" || die "$package: dpkg -r removed $config"
  [[ -f "$ROOT$state_dir/marker" ]] || die "$package: dpkg -r removed $state_dir"
  local binary
  while read -r binary; do
    [[ ! -e "$ROOT$binary" ]] || die "$package: dpkg -r left $binary"
  done < <(awk '$1 ~ /^-/ && $6 ~ /bin\// { sub(/^\./, "", $6); print $6 }' <<<"$contents")

  # Purge: back to the tree before the install, but for the system user.
  timed "$package: dpkg -P" in_root dpkg -P "$package" >"$WORK/purge.log" 2>&1 ||
    { cat "$WORK/purge.log" >&2; die "$package: dpkg -P failed"; }
  [[ -z "$(in_root dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null)" ]] ||
    die "$package: still known to dpkg after purge"
  snapshot "$WORK/after"
  local path_diff etc_diff
  # adduser leaves backups of the account files (/etc/shadow- ...): part of
  # the account database, like the user it added.
  path_diff=$(diff <(grep -vE '^/etc/(passwd|group|shadow|gshadow)- ' "$WORK/before.paths") \
                   <(grep -vE '^/etc/(passwd|group|shadow|gshadow)- ' "$WORK/after.paths") || true)
  [[ -z "$path_diff" ]] || die "$package: purge left the file tree different:
$path_diff"
  # /etc/passwd, group, shadow, gshadow and their "-" backups may only have
  # gained this package's system user and group.
  etc_diff=$(diff "$WORK/before.etc" "$WORK/after.etc" | awk '/^[<>]/ { print $3 }' | sort -u |
    grep -vxE 'etc/(passwd|group|shadow|gshadow)-?' || true)
  [[ -z "$etc_diff" ]] || die "$package: purge left files in /etc changed: $etc_diff"
  local file added
  for file in passwd group; do
    added=$(LC_ALL=C comm -13 "$WORK/before.$file" "$WORK/after.$file" | tr '\n' ' ')
    [[ "$added" == "$package " ]] || die "$package: purge left in /etc/$file: ${added:-nothing}"
    [[ -z "$(LC_ALL=C comm -23 "$WORK/before.$file" "$WORK/after.$file")" ]] ||
      die "$package: an account disappeared from /etc/$file"
  done
  say "$package: purge left only the system user and group $package (Debian keeps them)"
}

for deb in "${DEBS[@]}"; do
  test_package "$deb"
done
say "PASS: ${#DEBS[@]} package(s) install, upgrade, remove and purge cleanly in $SUITE"
