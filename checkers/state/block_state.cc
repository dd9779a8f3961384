#include "checkers/state/block_state.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/endian.h"
#include "common/status.h"

namespace fscanary::state {
namespace {

constexpr uint64_t kStateMagic = 0x4554415453435346;  // "FSCSTATE"
constexpr uint32_t kStateVersion = 1;
constexpr size_t kHeaderSize = 4096;
constexpr size_t kHeaderChecksumOffset = 48;
constexpr size_t kRecordSize = 16;
// In-flight generations are kept as a 32-bit distance above the durable one.
constexpr uint32_t kUnknownDelta = 0xFFFFFFFF;

uint32_t RecordCheck(const std::byte* record, uint64_t target_id, uint64_t block) {
  // Seeded with the block number, so a record written at the wrong place fails.
  return static_cast<uint32_t>(
      XXH3_64bits_withSeed(record, 12, target_id ^ (block * 0x9E3779B97F4A7C15ull)));
}

std::vector<std::byte> EncodeHeader(const TargetGeometry& geometry, uint64_t created_ns) {
  std::vector<std::byte> header(kHeaderSize);
  std::byte* p = header.data();
  StoreLe<uint64_t>(p + 0, kStateMagic);
  StoreLe<uint32_t>(p + 8, kStateVersion);
  StoreLe<uint32_t>(p + 12, geometry.block_size);
  StoreLe<uint64_t>(p + 16, geometry.target_id);
  StoreLe<uint64_t>(p + 24, geometry.data_start);
  StoreLe<uint64_t>(p + 32, geometry.block_count);
  StoreLe<uint64_t>(p + 40, created_ns);
  StoreLe<uint64_t>(p + kHeaderChecksumOffset, XXH3_64bits(p, kHeaderChecksumOffset));
  return header;
}

}  // namespace

std::string BlockStateFile::PathFor(const std::string& state_dir, uint64_t target_id) {
  return absl::StrFormat("%s/target-%016x.state", state_dir, target_id);
}

absl::StatusOr<BlockStateFile> BlockStateFile::Create(const std::string& state_dir,
                                                      const TargetGeometry& geometry) {
  RETURN_IF_ERROR(io::MakeDirectories(state_dir));
  const std::string path = PathFor(state_dir, geometry.target_id);
  const std::string temp_path = path + ".tmp";
  {
    ASSIGN_OR_RETURN(io::UniqueFd temp, io::Open(temp_path, O_RDWR | O_CREAT | O_TRUNC));
    RETURN_IF_ERROR(
        io::WriteAll(temp.get(), EncodeHeader(geometry, io::WallClockNanos()), 0, temp_path));
    // Records start all zero ("never written") as a sparse tail.
    const uint64_t size = kHeaderSize + geometry.block_count * kRecordSize;
    RETURN_IF_ERROR(io::Preallocate(temp.get(), size, temp_path));
    RETURN_IF_ERROR(io::DataSync(temp.get(), temp_path));
  }
  // link() fails if the state exists: never clobber another target's state.
  if (::link(temp_path.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temp_path.c_str());
    if (error == EEXIST) return absl::AlreadyExistsError(path + " already exists");
    return ErrnoToStatus(error, "link " + path);
  }
  std::remove(temp_path.c_str());
  RETURN_IF_ERROR(io::SyncDirectory(state_dir));
  return Open(state_dir, geometry.target_id, /*writable=*/true);
}

absl::StatusOr<BlockStateFile> BlockStateFile::Open(const std::string& state_dir,
                                                    uint64_t target_id, bool writable) {
  const std::string path = PathFor(state_dir, target_id);
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, writable ? O_RDWR : O_RDONLY));
  RETURN_IF_ERROR(io::LockFile(fd.get(), writable, path));
  std::vector<std::byte> header(kHeaderSize);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd.get(), header, 0, path));
  const std::byte* p = header.data();
  if (got < kHeaderSize || LoadLe<uint64_t>(p) != kStateMagic) {
    return absl::DataLossError(path + " is not an fscanary state file (bad magic)");
  }
  if (LoadLe<uint64_t>(p + kHeaderChecksumOffset) != XXH3_64bits(p, kHeaderChecksumOffset)) {
    return absl::DataLossError(path + " is damaged: header checksum mismatch");
  }
  if (const uint32_t version = LoadLe<uint32_t>(p + 8); version != kStateVersion) {
    return absl::FailedPreconditionError(absl::StrCat(path, " has state format version ", version,
                                                      "; this build reads ", kStateVersion));
  }
  const TargetGeometry geometry{.target_id = LoadLe<uint64_t>(p + 16),
                                .block_size = LoadLe<uint32_t>(p + 12),
                                .data_start = LoadLe<uint64_t>(p + 24),
                                .block_count = LoadLe<uint64_t>(p + 32)};
  if (geometry.target_id != target_id) {
    return absl::DataLossError(absl::StrFormat("%s holds the state of target %016x, not %016x",
                                               path, geometry.target_id, target_id));
  }
  BlockStateFile file(path, std::move(fd), geometry);
  RETURN_IF_ERROR(file.Load());
  return file;
}

absl::Status BlockStateFile::Load() {
  records_.resize(geometry_.block_count * kRecordSize);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd_.get(), records_, kHeaderSize, path_));
  if (got != records_.size()) {
    return absl::DataLossError(absl::StrCat(path_, " is truncated: ", got / kRecordSize, " of ",
                                            geometry_.block_count, " block records"));
  }
  for (uint64_t block = 0; block < geometry_.block_count; ++block) {
    const BlockRecord record = Get(block);
    if (record.damaged) {
      ++damaged_records_;
      continue;
    }
    max_generation_ = std::max(max_generation_, record.durable_generation);
    if (record.inflight_generation != kUnknownInFlight) {
      max_generation_ = std::max(max_generation_, record.inflight_generation);
    }
  }
  return absl::OkStatus();
}

BlockRecord BlockStateFile::Get(uint64_t block) const {
  const std::byte* p = records_.data() + block * kRecordSize;
  const uint64_t durable = LoadLe<uint64_t>(p);
  const uint32_t delta = LoadLe<uint32_t>(p + 8);
  const uint32_t check = LoadLe<uint32_t>(p + 12);
  if (durable == 0 && delta == 0 && check == 0) return BlockRecord{};  // never written
  if (check != RecordCheck(p, geometry_.target_id, block)) return BlockRecord{.damaged = true};
  return BlockRecord{.durable_generation = durable,
                     .inflight_generation = delta == 0               ? 0
                                            : delta == kUnknownDelta ? kUnknownInFlight
                                                                     : durable + delta};
}

void BlockStateFile::Store(uint64_t block, uint64_t durable, uint64_t inflight) {
  std::byte* p = records_.data() + block * kRecordSize;
  uint32_t delta = 0;
  if (inflight != 0) {
    const uint64_t distance = inflight - durable;
    delta = distance >= kUnknownDelta ? kUnknownDelta : static_cast<uint32_t>(distance);
  }
  StoreLe<uint64_t>(p, durable);
  StoreLe<uint32_t>(p + 8, delta);
  StoreLe<uint32_t>(p + 12, RecordCheck(p, geometry_.target_id, block));
  dirty_begin_ = std::min(dirty_begin_, block);
  dirty_end_ = std::max(dirty_end_, block + 1);
}

void BlockStateFile::MarkInFlight(uint64_t block, uint64_t generation) {
  // A damaged record is rebuilt from nothing: the block is unverifiable until
  // this write is acknowledged.
  const BlockRecord record = Get(block);
  Store(block, record.damaged ? 0 : record.durable_generation, generation);
  max_generation_ = std::max(max_generation_, generation);
}

void BlockStateFile::MarkDurable(uint64_t block, uint64_t generation) {
  Store(block, generation, 0);
  max_generation_ = std::max(max_generation_, generation);
}

absl::Status BlockStateFile::Flush() {
  if (dirty_end_ == 0) return absl::OkStatus();
  const std::span<const std::byte> dirty(records_.data() + dirty_begin_ * kRecordSize,
                                         (dirty_end_ - dirty_begin_) * kRecordSize);
  RETURN_IF_ERROR(io::WriteAll(fd_.get(), dirty, kHeaderSize + dirty_begin_ * kRecordSize, path_));
  RETURN_IF_ERROR(io::DataSync(fd_.get(), path_));
  dirty_begin_ = ~uint64_t{0};
  dirty_end_ = 0;
  return absl::OkStatus();
}

}  // namespace fscanary::state
