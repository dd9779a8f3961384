#!/usr/bin/env bash
# Compares `fscanary-agent verify` with fio's own io_uring read-and-verify at the
# same block size and queue depth (issue 2: verify must be at least as fast as fio).
#
# Each tool reads back, with O_DIRECT, a file it wrote itself in its own
# self-checking format:
#   fscanary  `write` once, then per round `verify --json`; MiB/s is
#             bytes_verified / seconds (the pass only, not process start-up).
#   fio       `--rw=write --verify=xxhash --do_verify=0` once, then per round a
#             pure read job with `--verify=xxhash`, which checks every block it
#             reads (io_u.c sets verify_io_u as end_io for a read-only job).
#             `--verify_only` is not passed: fio honours it only for write jobs
#             (a dry run of the write, then the verify phase) and ignores it for
#             `--rw=read`, whose result is the same. MiB/s is read io_bytes /
#             read runtime from fio's JSON.
# Both open their files with O_DIRECT, so the guest page cache plays no part and
# nothing is dropped between runs. A host-side cache under a virtual disk is not
# controlled; the rotating interleave below spreads it evenly over the variants.
#
# Runs are interleaved: every round runs each variant once, starting one
# variant later than the previous round, so drift on a shared machine falls on
# all variants alike. Medians are reported.
#
# The headline compares both tools as an operator runs them. They do not put
# the same requests on the device, though: fscanary submits runs of 8 adjacent
# blocks in one io_uring_enter, which the block layer merges into 32 KiB
# requests (by design: merge pressure), while fio submits one 4 KiB read per
# call by default. Three variants, for information, separate the two effects:
#   fscanary --run-blocks 1   one block per submission, like fio's default
#   fio batched               8 per submission and registered buffers, like fscanary
#   fscanary --engine psync   the fallback engine (one pread at a time)
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: verify_vs_fio.sh --agent PATH [--dir SCRATCH_DIR] [--size 1G] [--bs 4k]
                        [--iodepth 32] [--rounds 5] [--output FILE]
  --agent    fscanary-agent binary (a Release build)
  --dir      directory for the two scratch files (default: a new dir under /var/tmp);
             the files go in a fresh subdirectory that is removed at exit
  --size     bytes per target, fio/fscanary suffixes (default 1G)
  --bs       block size (default 4k)
  --iodepth  queue depth of both tools (default 32)
  --rounds   interleaved rounds, at least 1; 5 or more for a report (default 5)
  --output   also write the markdown report to FILE
EOF
}

agent="" scratch_parent="/var/tmp" size="1G" bs="4k" iodepth=32 rounds=5 output=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --agent) agent="$2"; shift 2 ;;
    --dir) scratch_parent="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --bs) bs="$2"; shift 2 ;;
    --iodepth) iodepth="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "verify_vs_fio.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -n "$agent" ]] || { echo "verify_vs_fio.sh: --agent is required" >&2; usage >&2; exit 2; }
[[ -x "$agent" ]] || { echo "verify_vs_fio.sh: $agent is not executable" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "verify_vs_fio.sh: --rounds must be >= 1" >&2; exit 2; }
[[ "$iodepth" =~ ^[1-9][0-9]*$ ]] || { echo "verify_vs_fio.sh: bad --iodepth" >&2; exit 2; }
for tool in fio python3; do
  command -v "$tool" >/dev/null || { echo "verify_vs_fio.sh: $tool not found" >&2; exit 2; }
done
agent_as_given="$agent"
agent="$(realpath "$agent")"

mkdir -p "$scratch_parent"
scratch="$(mktemp -d "$scratch_parent/fscanary-verify-vs-fio.XXXXXX")"
trap 'rm -rf -- "$scratch"' EXIT
fsc_target="$scratch/fscanary.img" fsc_state="$scratch/fscanary-state"
fio_target="$scratch/fio.img"
results="$scratch/results.tsv"

# Room for both files, with a margin for the state file and fio's logs.
size_bytes="$(python3 -c '
import re, sys
m = re.fullmatch(r"(\d+)([kKmMgGtT]?)(i?[bB])?", sys.argv[1])
if not m: sys.exit("verify_vs_fio.sh: bad --size " + sys.argv[1])
print(int(m[1]) * 1024 ** " kmgt".index(m[2].lower() or " "))' "$size")"
free_bytes="$(df --output=avail -B1 "$scratch" | tail -n 1)"
if ((free_bytes < 2 * size_bytes + 64 * 1024 * 1024)); then
  echo "verify_vs_fio.sh: $scratch needs $((2 * size_bytes)) bytes free, has $free_bytes" >&2
  exit 1
fi

fio_common=(--bs="$bs" --iodepth="$iodepth" --ioengine=io_uring --direct=1 --size="$size"
            --verify=xxhash --filename="$fio_target" --output-format=json)
fio_batched=(--fixedbufs=1 --registerfiles=1 --iodepth_batch_submit=8
             --iodepth_batch_complete_min=8)

echo "preparing $size targets in $scratch ..." >&2
"$agent" write --target "$fsc_target" --state-dir "$fsc_state" --size "$size" \
  --block-size "$bs" --queue-depth "$iodepth" --engine io_uring --json >/dev/null
# fio writes to its own state dir so that no verify-state file lands in the cwd.
(cd "$scratch" && fio --name=prep --rw=write --do_verify=0 "${fio_common[@]}" >/dev/null)

# Prints MiB/s of one fscanary verify; fails unless the pass was clean and full.
run_fscanary() {
  local engine="$1" json
  shift
  json="$("$agent" verify --target "$fsc_target" --state-dir "$fsc_state" --json \
    --queue-depth "$iodepth" --engine "$engine" "$@")"
  python3 - "$json" "$engine" "$size_bytes" "$bs" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
engine, size, bs = sys.argv[2], int(sys.argv[3]), sys.argv[4]
# The target's first block is fscanary's label, never verified.
if d["engine"] != engine or d["findings"] or d["bytes_verified"] < size * 0.99:
    sys.exit(f"fscanary verify was not a clean full pass with {engine}: {sys.argv[1][:400]}")
print(f'{d["bytes_verified"] / d["seconds"] / 1048576:.1f}')
EOF
}

# Prints MiB/s of one fio read-and-verify pass; fails unless every byte verified.
run_fio() {
  local json
  json="$(cd "$scratch" && fio --name=verify --rw=read --verify_fatal=1 "${fio_common[@]}" "$@")"
  python3 - "$json" "$size_bytes" <<'EOF'
import json, sys
job = json.loads(sys.argv[1])["jobs"][0]
read = job["read"]
if job["error"] != 0 or read["io_bytes"] != int(sys.argv[2]):
    sys.exit(f'fio verify failed: error {job["error"]}, {read["io_bytes"]} bytes read')
print(f'{read["io_bytes"] / 1048576 / (read["runtime"] / 1000):.1f}')
EOF
}

variants=(fscanary fio fscanary_run1 fio_batched fscanary_psync)
run_variant() {
  case "$1" in
    fscanary) run_fscanary io_uring ;;
    fio) run_fio ;;
    fscanary_run1) run_fscanary io_uring --run-blocks 1 ;;
    fio_batched) run_fio "${fio_batched[@]}" ;;
    fscanary_psync) run_fscanary psync ;;
  esac
}

: >"$results"
for ((round = 1; round <= rounds; ++round)); do
  for ((i = 0; i < ${#variants[@]}; ++i)); do
    variant="${variants[(i + round - 1) % ${#variants[@]}]}"
    mib_s="$(run_variant "$variant")"
    printf '%d\t%s\t%s\n' "$round" "$variant" "$mib_s" >>"$results"
    echo "round $round/$rounds  $variant  $mib_s MiB/s" >&2
  done
done

fs_type="$(df --output=fstype "$scratch" | tail -n 1)"
fs_device="$(df --output=source "$scratch" | tail -n 1)"
environment="kernel $(uname -r), $(nproc) CPUs ($(
  sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), scratch dir on \
$fs_type ($fs_device), $(fio --version), fscanary-agent built from $(
  git -C "$(dirname "$agent")" describe --always --dirty 2>/dev/null || echo "an unknown tree")"
command_line="tests/bench/verify_vs_fio.sh --agent $agent_as_given --size $size --bs $bs \
--iodepth $iodepth --rounds $rounds"

report="$(python3 - "$results" "$size" "$bs" "$iodepth" "$rounds" "$environment" \
  "$command_line" "${fio_batched[@]}" <<'EOF'
import statistics, sys
path, size, bs, iodepth, rounds, environment, command = sys.argv[1:8]
runs = {}
for line in open(path):
    r, variant, mib = line.split("\t")
    runs.setdefault(int(r), {})[variant] = float(mib)
cols = [("fscanary", "fscanary"), ("fio", "fio"),
        ("fscanary_run1", "fscanary --run-blocks 1 (info)"),
        ("fio_batched", "fio batched (info)"),
        ("fscanary_psync", "fscanary --engine psync (info)")]
med = {v: statistics.median(runs[r][v] for r in runs) for v, _ in cols}
out = [f"verify of a {size} target, bs {bs}, queue depth {iodepth}, {rounds} interleaved rounds, "
       "MiB/s (higher is better)", "", f"Environment: {environment}", "",
       "fio batched: " + " ".join(sys.argv[8:]), "",
       "| round | " + " | ".join(title for _, title in cols) + " |",
       "|---:|" + "---:|" * len(cols)]
for r in sorted(runs):
    out.append(f"| {r} | " + " | ".join(f"{runs[r][v]:.1f}" for v, _ in cols) + " |")
out.append("| **median** | " + " | ".join(f"**{med[v]:.1f}**" for v, _ in cols) + " |")
ratio = med["fscanary"] / med["fio"]
out += ["", f"Ratio fscanary/fio (medians): **{ratio:.2f}** "
        f"({'meets' if ratio >= 1 else 'does NOT meet'} issue 2: at least as fast as fio)",
        "Like for like (information): fscanary --run-blocks 1 / fio: "
        f"{med['fscanary_run1'] / med['fio']:.2f}; fscanary / fio batched: "
        f"{med['fscanary'] / med['fio_batched']:.2f}",
        f"Ratio fscanary psync/io_uring (information): "
        f"{med['fscanary_psync'] / med['fscanary']:.2f}",
        "", f"Command: `{command}`"]
print("\n".join(out))
EOF
)"
echo "$report"
if [[ -n "$output" ]]; then
  printf '%s\n' "$report" >"$output"
fi
