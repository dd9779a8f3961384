#!/usr/bin/env bash
# The cost of each checker, beside fio doing the same I/O without checking it
# (issue 6: each checker's cost per verified GiB, or per entry).
#
# One measured cycle per checker (tests/bench/checkers/checker_cost):
#   block       a write round over the whole target (O_DIRECT, batch fdatasync)
#               and its read-back (O_DIRECT, classified)
#   page_cache  a write round over the whole target through the page cache
#               (one buffered pwrite per block, every 4th run through mmap +
#               msync, a second thread syncing concurrently), the cached pages
#               dropped, every block read back buffered and O_DIRECT, both
#               classified and compared
#   metadata    one full walk of a grown tree (stat, xattrs, links, contents,
#               compared with the manifest); growing it is not measured
# fio's anchor for each does the same I/O and no checking:
#   block       --direct=1 write with fdatasync every 4096 blocks (the block
#               checker's batch), then a direct read
#   page_cache  buffered write with fdatasync every 8 blocks, a buffered read
#               after dropping the pages (invalidate=1), then a direct read
#   metadata    open and read as many files of the same total size as the walk
#               read, pages dropped first (no stat of links, no xattrs)
# Rounds are interleaved (each round starts one variant later) and medians
# reported, as in verify_vs_fio.sh.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: checkers_vs_fio.sh --bench PATH [--dir SCRATCH_DIR] [--size 256M] [--entries 5000]
                          [--rounds 5] [--output FILE]
  --bench    the checker_cost binary (build/<dir>/tests/bench/checkers/checker_cost)
  --dir      where scratch directories are made (default /var/tmp); removed at exit
  --size     bytes of the block and page_cache targets (default 256M)
  --entries  entries of the metadata tree (default 5000)
  --rounds   interleaved rounds, at least 1 (default 5)
  --output   also write the markdown report to FILE
EOF
}

bench="" scratch_parent="/var/tmp" size="256M" entries=5000 rounds=5 output=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench) bench="$2"; shift 2 ;;
    --dir) scratch_parent="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --entries) entries="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "checkers_vs_fio.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ -x "$bench" ]] || { echo "checkers_vs_fio.sh: --bench must name checker_cost" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "checkers_vs_fio.sh: --rounds must be >= 1" >&2; exit 2; }
[[ "$entries" =~ ^[1-9][0-9]*$ ]] || { echo "checkers_vs_fio.sh: bad --entries" >&2; exit 2; }
command -v fio >/dev/null || { echo "checkers_vs_fio.sh: fio not found" >&2; exit 2; }
bench_as_given="$bench"
bench="$(realpath "$bench")"
size_bytes="$(python3 -c '
import re, sys
m = re.fullmatch(r"(\d+)([kKmMgG]?)", sys.argv[1])
if not m: sys.exit("checkers_vs_fio.sh: bad --size " + sys.argv[1])
print(int(m[1]) * 1024 ** " kmg".index(m[2].lower() or " "))' "$size")"

mkdir -p "$scratch_parent"
scratch="$(mktemp -d "$scratch_parent/fscanary-checkers-vs-fio.XXXXXX")"
trap 'rm -rf -- "$scratch"' EXIT
results="$scratch/results.tsv"

# A checker target holds the label (one block) before the blocks measured.
target_bytes=$((size_bytes + 4096))

# Prints "seconds<TAB>cpu_seconds<TAB>bytes_verified<TAB>entries_verified".
run_checker() {
  local work="$scratch/$1.$RANDOM"
  mkdir -p "$work"
  local json
  # The last line: spdlog writes its info lines to stdout before it.
  json="$("$bench" --checker "$1" --dir "$work" --size "$target_bytes" --entries "$entries" \
    2>/dev/null | tail -n 1)"
  rm -rf -- "$work"
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print("\t".join(str(d[k]) for k in ("seconds", "cpu_seconds", "bytes_verified", "entries_verified")))' "$json"
}

# Prints the summed runtime (s) of fio's jobs.
fio_seconds() {
  python3 -c '
import json, sys
jobs = json.loads(sys.stdin.read())["jobs"]
for job in jobs:
    if job["error"]:
        sys.exit("fio job %s failed: %s" % (job["jobname"], job["error"]))
print(sum((j["read"]["runtime"] + j["write"]["runtime"]) / 1000 for j in jobs))'
}

run_fio_block() {
  local file="$scratch/fio-block.$RANDOM"
  (cd "$scratch" && fio --output-format=json --filename="$file" --size="$size_bytes" --bs=4k \
    --ioengine=io_uring --iodepth=32 --direct=1 \
    --name=write --rw=write --fdatasync=4096 --end_fsync=1 \
    --name=read --stonewall --rw=read) | fio_seconds
  rm -f -- "$file"
}

run_fio_page_cache() {
  local file="$scratch/fio-page-cache.$RANDOM"
  (cd "$scratch" && fio --output-format=json --filename="$file" --size="$size_bytes" --bs=4k \
    --ioengine=psync \
    --name=write --rw=write --direct=0 --fdatasync=8 --end_fsync=1 \
    --name=buffered-read --stonewall --rw=read --direct=0 --invalidate=1 \
    --name=direct-read --stonewall --rw=read --direct=1 --ioengine=io_uring --iodepth=32) |
    fio_seconds
  rm -f -- "$file"
}

# The metadata anchor's files: as many as the walk verified entries, of the
# average size it read, laid out once.
metadata_files=0 metadata_file_size=0
prepare_fio_metadata() {
  local sample
  sample="$(run_checker metadata)"
  local verified_bytes entries_verified
  verified_bytes="$(cut -f3 <<<"$sample")" entries_verified="$(cut -f4 <<<"$sample")"
  metadata_files="$entries_verified"
  metadata_file_size=$(((verified_bytes / entries_verified + 4095) / 4096 * 4096))
  mkdir -p "$scratch/fio-tree"
  (cd "$scratch" && fio --output-format=json --directory="$scratch/fio-tree" --name=layout \
    --nrfiles="$metadata_files" --filesize="$metadata_file_size" --bs=4k --rw=write \
    --ioengine=psync --create_only=1 --openfiles=64 >/dev/null)
}

run_fio_metadata() {
  (cd "$scratch" && fio --output-format=json --directory="$scratch/fio-tree" --name=layout \
    --nrfiles="$metadata_files" --filesize="$metadata_file_size" --bs=64k --rw=read \
    --ioengine=psync --invalidate=1 --openfiles=64 --file_service_type=sequential) | fio_seconds
}

echo "laying out fio's files for the metadata anchor ..." >&2
prepare_fio_metadata

variants=(block fio_block page_cache fio_page_cache metadata fio_metadata)
: >"$results"
for ((round = 1; round <= rounds; ++round)); do
  for ((i = 0; i < ${#variants[@]}; ++i)); do
    variant="${variants[(i + round - 1) % ${#variants[@]}]}"
    case "$variant" in
      fio_block) line="$(run_fio_block)" ;;
      fio_page_cache) line="$(run_fio_page_cache)" ;;
      fio_metadata) line="$(run_fio_metadata)" ;;
      *) line="$(run_checker "$variant")" ;;
    esac
    printf '%d\t%s\t%s\n' "$round" "$variant" "$line" >>"$results"
    echo "round $round/$rounds  $variant  $line" >&2
  done
done

fs_type="$(df --output=fstype "$scratch" | tail -n 1)"
environment="kernel $(uname -r), $(nproc) CPUs ($(
  sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)), scratch dir on $fs_type, \
$(fio --version), checker_cost built from $(
  git -C "$(dirname "$bench")" describe --always --dirty 2>/dev/null || echo "an unknown tree")"
command_line="tests/bench/checkers_vs_fio.sh --bench $bench_as_given --size $size \
--entries $entries --rounds $rounds"

report="$(python3 - "$results" "$size" "$size_bytes" "$rounds" "$environment" "$command_line" \
  "$metadata_files" "$metadata_file_size" <<'EOF'
import statistics, sys
path, size, size_bytes, rounds, environment, command, files, file_size = sys.argv[1:9]
size_bytes, files, file_size = int(size_bytes), int(files), int(file_size)
runs = {}
for line in open(path):
    r, variant, *values = line.rstrip("\n").split("\t")
    runs.setdefault(variant, []).append([float(v) for v in values])
def med(variant, column=0):
    return statistics.median(v[column] for v in runs[variant])
gib = 1 << 30
out = [f"Checker cost, {rounds} interleaved rounds, medians (lower is better)", "",
       f"Environment: {environment}", "",
       "| checker | measured cycle | fscanary s | fscanary CPU s | fio s (same I/O, no check) | ratio fscanary/fio | fscanary cost |",
       "|---|---|---:|---:|---:|---:|---:|"]
for name, fio, what in [("block", "fio_block", f"write + read back {size}"),
                        ("page_cache", "fio_page_cache",
                         f"write through the cache + read back {size} twice")]:
    s, cpu, verified = med(name, 0), med(name, 1), med(name, 2)
    out.append(f"| {name} | {what} | {s:.2f} | {cpu:.2f} | {med(fio):.2f} | {s / med(fio):.2f} | "
               f"{s * gib / verified:.1f} s and {cpu * gib / verified:.1f} CPU s per verified GiB |")
s, cpu, entries = med("metadata", 0), med("metadata", 1), med("metadata", 3)
out.append(f"| metadata | walk of {entries:.0f} entries ({med('metadata', 2) / 1048576:.0f} MiB of contents) | "
           f"{s:.2f} | {cpu:.2f} | {med('fio_metadata'):.2f} | {s / med('fio_metadata'):.2f} | "
           f"{s * 1e6 / entries:.0f} µs and {cpu * 1e6 / entries:.0f} CPU µs per entry |")
out += ["", f"fio's metadata anchor: {files} files of {file_size} bytes read once, pages dropped first.",
        "", "| round | " + " | ".join(sorted(runs)) + " |", "|---:|" + "---:|" * len(runs)]
for r in range(int(rounds)):
    out.append(f"| {r + 1} | " + " | ".join(f"{runs[v][r][0]:.2f}" for v in sorted(runs)) + " |")
out += ["", f"Command: `{command}`"]
print("\n".join(out))
EOF
)"
echo "$report"
if [[ -n "$output" ]]; then printf '%s\n' "$report" >"$output"; fi
