#pragma once
// The state file's encodings (docs/FORMAT.md, "The state file"), as pure
// functions over bytes: the 4096-byte header and the 16-byte block record.
// No I/O here, so the format is pinned by golden bytes in the tests.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::state {

// Version 2 added the first-write flag to the record; version 1 files are
// still read and written (without the flag).
inline constexpr uint32_t kStateVersion = 2;
inline constexpr uint32_t kOldestStateVersion = 1;
inline constexpr size_t kStateHeaderBytes = 4096;
inline constexpr size_t kRecordBytes = 16;

// Where a target's blocks lie; fixed when the target is first labelled.
struct TargetGeometry {
  uint64_t target_id = 0;
  uint32_t block_size = 0;
  // Byte offset of block 0 (after the label).
  uint64_t data_start = 0;
  uint64_t block_count = 0;
  friend bool operator==(const TargetGeometry&, const TargetGeometry&) = default;
};

struct BlockRecord {
  uint64_t durable_generation = 0;
  // 0: no write in flight. kUnknownInFlight: one was, of a generation too far
  // above the durable one to record (any newer generation is then forgiven).
  uint64_t inflight_generation = 0;
  // Nothing of fscanary's was durable in the block before: the durable
  // generation (or, while none is, the write in flight) is its first write, so
  // the block held only what the target held before it was labelled. False
  // where that is not known (a version 1 state file, a record rebuilt after
  // damage).
  bool first_write = false;
  // The record failed its checksum: nothing is known of the block.
  bool damaged = false;
  friend bool operator==(const BlockRecord&, const BlockRecord&) = default;
};

inline constexpr uint64_t kUnknownInFlight = ~uint64_t{0};

struct StateHeader {
  TargetGeometry geometry;
  uint64_t created_ns = 0;
  // Between kOldestStateVersion and kStateVersion.
  uint32_t version = kStateVersion;
};

// The whole 4096-byte header.
std::vector<std::byte> EncodeStateHeader(const StateHeader& header);
// DataLoss for a wrong magic or checksum (or fewer than 4096 bytes);
// FailedPrecondition for a version this build does not read.
absl::StatusOr<StateHeader> ParseStateHeader(std::span<const std::byte> header);

// The record of block `block` of target `target_id` in a state file of
// `version`. `record.damaged` is ignored, and so is `record.first_write` in
// version 1; an in-flight generation too far above the durable one is
// recorded as unknown.
std::array<std::byte, kRecordBytes> EncodeRecord(uint32_t version, uint64_t target_id,
                                                 uint64_t block, const BlockRecord& record);
// All zero decodes as "never written" (nothing durable: a first write); a
// failed check as damaged.
BlockRecord DecodeRecord(uint32_t version, std::span<const std::byte, kRecordBytes> bytes,
                         uint64_t target_id, uint64_t block);

}  // namespace fscanary::state
