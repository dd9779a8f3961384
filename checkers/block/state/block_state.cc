#include "checkers/block/state/block_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace fscanary::state {

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
    RETURN_IF_ERROR(io::WriteAll(
        temp.get(), EncodeStateHeader({.geometry = geometry, .created_ns = io::WallClockNanos()}),
        0, temp_path));
    // Records start all zero ("never written") as a sparse tail.
    const uint64_t size = kStateHeaderBytes + geometry.block_count * kRecordBytes;
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
  std::vector<std::byte> header(kStateHeaderBytes);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd.get(), header, 0, path));
  const absl::StatusOr<StateHeader> parsed =
      ParseStateHeader(std::span<const std::byte>(header).first(got));
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(path, ": ", parsed.status().message()));
  }
  const TargetGeometry& geometry = parsed->geometry;
  if (geometry.target_id != target_id) {
    return absl::DataLossError(absl::StrFormat("%s holds the state of target %016x, not %016x",
                                               path, geometry.target_id, target_id));
  }
  BlockStateFile file(path, std::move(fd), geometry, parsed->version);
  RETURN_IF_ERROR(file.Load());
  return file;
}

absl::Status BlockStateFile::Load() {
  records_.resize(geometry_.block_count * kRecordBytes);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd_.get(), records_, kStateHeaderBytes, path_));
  if (got != records_.size()) {
    return absl::DataLossError(absl::StrCat(path_, " is truncated: ", got / kRecordBytes, " of ",
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
  const std::span<const std::byte, kRecordBytes> record(records_.data() + block * kRecordBytes,
                                                        kRecordBytes);
  return DecodeRecord(version_, record, geometry_.target_id, block);
}

void BlockStateFile::Store(uint64_t block, const BlockRecord& record) {
  const std::array<std::byte, kRecordBytes> bytes =
      EncodeRecord(version_, geometry_.target_id, block, record);
  std::copy(bytes.begin(), bytes.end(), records_.begin() + block * kRecordBytes);
  dirty_begin_ = std::min(dirty_begin_, block);
  dirty_end_ = std::max(dirty_end_, block + 1);
}

void BlockStateFile::MarkInFlight(uint64_t block, uint64_t generation) {
  // A damaged record is rebuilt from nothing: the block is unverifiable until
  // this write is acknowledged, and what it held before is unknown.
  const BlockRecord record = Get(block);
  Store(block, {.durable_generation = record.damaged ? 0 : record.durable_generation,
                .inflight_generation = generation,
                .first_write = !record.damaged && record.first_write});
  max_generation_ = std::max(max_generation_, generation);
}

void BlockStateFile::MarkDurable(uint64_t block, uint64_t generation) {
  const BlockRecord record = Get(block);
  Store(block,
        {.durable_generation = generation,
         .first_write = !record.damaged && record.durable_generation == 0 && record.first_write});
  max_generation_ = std::max(max_generation_, generation);
}

void BlockStateFile::ClearInFlight(uint64_t block) {
  const BlockRecord record = Get(block);
  if (record.damaged) return;
  Store(block,
        {.durable_generation = record.durable_generation, .first_write = record.first_write});
}

BlockStateFile::ByteRange BlockStateFile::PendingBytes() const {
  if (dirty_end_ == 0) return {};
  return {.offset = kStateHeaderBytes + dirty_begin_ * kRecordBytes,
          .length = (dirty_end_ - dirty_begin_) * kRecordBytes};
}

absl::StatusOr<std::vector<uint64_t>> BlockStateFile::CheckStored(uint64_t first_block,
                                                                  uint64_t count) {
  std::vector<uint64_t> differing;
  count = std::min(count, geometry_.block_count - std::min(first_block, geometry_.block_count));
  if (count == 0) return differing;
  const uint64_t offset = kStateHeaderBytes + first_block * kRecordBytes;
  std::vector<std::byte> stored(count * kRecordBytes);
  RETURN_IF_ERROR(io::DropCachedRange(fd_.get(), offset, stored.size(), path_));
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd_.get(), stored, offset, path_));
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t block = first_block + i;
    if (block >= dirty_begin_ && block < dirty_end_) continue;
    const auto expected = records_.begin() + static_cast<ptrdiff_t>(block * kRecordBytes);
    const bool same = (i + 1) * kRecordBytes <= got &&
                      std::equal(expected, expected + kRecordBytes,
                                 stored.begin() + static_cast<ptrdiff_t>(i * kRecordBytes));
    if (same) continue;
    differing.push_back(block);
    dirty_begin_ = std::min(dirty_begin_, block);
    dirty_end_ = std::max(dirty_end_, block + 1);
  }
  return differing;
}

absl::Status BlockStateFile::Flush() {
  if (dirty_end_ == 0) return absl::OkStatus();
  const std::span<const std::byte> dirty(records_.data() + dirty_begin_ * kRecordBytes,
                                         (dirty_end_ - dirty_begin_) * kRecordBytes);
  RETURN_IF_ERROR(
      io::WriteAll(fd_.get(), dirty, kStateHeaderBytes + dirty_begin_ * kRecordBytes, path_));
  RETURN_IF_ERROR(io::DataSync(fd_.get(), path_));
  dirty_begin_ = ~uint64_t{0};
  dirty_end_ = 0;
  return absl::OkStatus();
}

}  // namespace fscanary::state
