#!/bin/bash
# The fault plugin behind a real NBD client (qemu-io): a FUA write and a
# flushed write survive a power cut, an armed EIO reaches the client, and
# damage at rest lands where the plugin says. Exit 77 without nbdkit's
# Python plugin or qemu-io.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
command -v qemu-io >/dev/null || { echo "SKIP: qemu-io is not installed (qemu-utils)"; exit 77; }
nbdkit python --version >/dev/null 2>&1 ||
  { echo "SKIP: nbdkit's Python plugin is not installed (nbdkit-plugin-python)"; exit 77; }

WORK=$(mktemp -d)
NBDKIT=""
cleanup() { [[ -n "$NBDKIT" ]] && kill "$NBDKIT" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
truncate -s 4M "$WORK/disk.img"
nbdkit -f -U "$WORK/disk.sock" python "$HERE/plugin.py" file="$WORK/disk.img" \
  control="$WORK/control.sock" seed=3 2>"$WORK/nbdkit.log" &
NBDKIT=$!
for _ in $(seq 100); do [[ -S "$WORK/control.sock" ]] && break; sleep 0.1; done
[[ -S "$WORK/control.sock" ]] || { cat "$WORK/nbdkit.log"; echo "FAIL: nbdkit did not start"; exit 1; }

control() { echo "$1" | socat -t 30 - "UNIX-CONNECT:$WORK/control.sock"; }
# qemu-io's output, whatever its exit status (a failed read is what some steps expect).
io() { qemu-io -t writeback -f raw "nbd+unix:///?socket=$WORK/disk.sock" "$@" 2>&1 || true; }
fail() { echo "FAIL: $*"; cat "$WORK/nbdkit.log"; exit 1; }

# 1 MiB of volatile writes (dropped or torn at random by the cut), one write
# with FUA, one flushed write.
io -c "write -P 0x11 1M 1M" -c "write -P 0x22 0 4k" -c "flush" -c "write -f -P 0x33 4k 4k" \
  -c "write -P 0x44 3M 64k" >/dev/null
reply=$(control '{"op": "status"}')
[[ "$reply" == *'"fua_writes": 1'* ]] || fail "the FUA flag did not reach the plugin: $reply"
control '{"op": "power_cut"}' >/dev/null
io -c "read -P 0x22 0 4k" | grep -q "read 4096/4096" || fail "a flushed write was lost"
io -c "read -P 0x33 4k 4k" | grep -q "read 4096/4096" || fail "a FUA write was lost"
# qemu-io closes each session with a flush: 0x44 was flushed before the cut.
io -c "read -P 0x44 3M 64k" | grep -q "read 65536/65536" || fail "a write flushed at close was lost"

control '{"op": "lie_flush", "on": true}' >/dev/null
# Sixteen acknowledged and "flushed" writes: a cut keeps each with p = 0.4.
writes=()
for i in $(seq 0 15); do writes+=(-c "write -P 0x55 $((2048 + 4 * i))k 4k"); done
io "${writes[@]}" -c "flush" >/dev/null
control '{"op": "power_cut"}' >/dev/null
io -c "read -P 0x55 2M 64k" | grep -q "Pattern verification failed" ||
  fail "sixteen writes acknowledged under a lying flush all survived the cut"
reply=$(control '{"op": "status"}')
[[ "$reply" == *'"flushes_lied": '[1-9]* ]] || fail "no flush was lied about: $reply"
control '{"op": "clear"}' >/dev/null

control '{"op": "eio_read", "ranges": [[0, 512]]}' >/dev/null
io -c "read 0 4k" | grep -q "Input/output error" || fail "an armed EIO did not reach the client"
control '{"op": "clear"}' >/dev/null

reply=$(control '{"op": "flip", "offset": 0, "within": 100, "bits": 8}')
[[ "$reply" == *'"ok": true'* ]] || fail "flip: $reply"
io -c "read -P 0x22 0 4k" | grep -q "Pattern verification failed" ||
  fail "a bit flipped at rest was not read back"
io -c "read -P 0x33 4k 4k" | grep -q "read 4096/4096" || fail "a flip touched the next page"
echo "PASS: fault disk behind qemu-io"
