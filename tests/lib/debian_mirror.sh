# shellcheck shell=bash
# Sourced by the tests that debootstrap a bookworm root (tests/packaging,
# tests/vm): the mirror apt uses on this machine.
#
# debian_mirror SUITE: the first "URIs:" of a deb822 source naming SUITE, else
# the first one-line "deb URI SUITE" entry; empty when none names it.
debian_mirror() {
  local suite=$1 file found=""
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" && -z "$found" ]] || continue
    found=$(awk -v s="$suite" '
      /^[[:space:]]*$/ { if (u != "" && hit) exit; u = ""; hit = 0; next }
      /^URIs:/ { u = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
      END { if (u != "" && hit) print u }' "$file")
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$file" && -z "$found" ]] || continue
    found=$(awk -v s="$suite" '$1 == "deb" {
      for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { if ($(i + 1) == s) { print $i; exit } break } }' "$file")
  done
  echo "$found"
}

# Sets MIRROR and SECURITY_MIRROR for SUITE (FSCANARY_DEBIAN_MIRROR overrides
# the first), falling back to deb.debian.org.
debian_mirrors() {
  local suite=$1
  MIRROR=${FSCANARY_DEBIAN_MIRROR:-$(debian_mirror "$suite")}
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  SECURITY_MIRROR=$(debian_mirror "$suite-security")
  SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}
}
