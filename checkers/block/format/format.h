#pragma once
// The self-describing block, format version 1 (docs/FORMAT.md is the spec):
// every 512-byte sector carries a stamp (offset, generation, checksum) and the
// first sector a header; the payload is recomputed from (target, offset,
// generation), never stored. Pure: no I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "absl/status/status.h"

namespace fscanary::block {

inline constexpr uint32_t kSectorSize = 512;
inline constexpr uint32_t kMinBlockSize = kSectorSize;
inline constexpr uint32_t kMaxBlockSize = 1u << 20;
inline constexpr uint32_t kDefaultBlockSize = 4096;
inline constexpr uint16_t kFormatVersion = 1;

// "FSCS": starts every sector of an fscanary block.
inline constexpr uint32_t kSectorMagic = 0x53435346;
// "FSCANARY" as a little-endian u64: starts the block header in sector 0.
inline constexpr uint64_t kBlockMagic = 0x5952414E41435346;

// Sector stamp, at byte 0 of every sector.
inline constexpr size_t kStampMagicOffset = 0;
inline constexpr size_t kStampIndexOffset = 4;
inline constexpr size_t kStampVersionOffset = 6;
inline constexpr size_t kStampBlockOffsetOffset = 8;
inline constexpr size_t kStampGenerationOffset = 16;
inline constexpr size_t kStampTargetTagOffset = 24;
inline constexpr size_t kStampChecksumOffset = 28;
inline constexpr size_t kStampSize = 32;

// Block header, in sector 0 after its stamp.
inline constexpr size_t kHeaderMagicOffset = 32;
inline constexpr size_t kHeaderBlockSizeOffset = 40;
inline constexpr size_t kHeaderTargetIdOffset = 48;
inline constexpr size_t kHeaderBlockOffsetOffset = 56;
inline constexpr size_t kHeaderGenerationOffset = 64;
inline constexpr size_t kHeaderWriteTimeOffset = 72;
inline constexpr size_t kHeaderChecksumOffset = 80;
inline constexpr size_t kHeaderEnd = 96;

// Which block one buffer holds: what a writer stamps and a reader expects.
struct BlockIdentity {
  uint64_t target_id = 0;
  uint64_t offset = 0;
  uint64_t generation = 0;
  friend bool operator==(const BlockIdentity&, const BlockIdentity&) = default;
};

// A block size is a multiple of 512 bytes between 512 bytes and 1 MiB.
absl::Status ValidateBlockSize(uint64_t block_size);

// The 32 bits of a target id that every sector stamp carries.
uint32_t TargetTag(uint64_t target_id);

// Fills `block` (a valid block size) with the complete block for `identity`.
void EncodeBlock(const BlockIdentity& identity, uint64_t write_time_ns, std::span<std::byte> block);

// What the header of a block says, if its magic, size and whole-block checksum
// are right: the block is then exactly as some writer encoded it.
struct IntactBlock {
  BlockIdentity identity;
  uint64_t write_time_ns = 0;
};
std::optional<IntactBlock> ParseIntactBlock(std::span<const std::byte> block);

// What one sector's stamp says, if its magic and checksum are right.
struct SectorStamp {
  uint16_t index = 0;
  uint64_t block_offset = 0;
  uint64_t generation = 0;
  uint32_t target_tag = 0;
};
struct SectorReading {
  bool magic_ok = false;
  bool checksum_ok = false;
  SectorStamp stamp;
};
// The stamp's own index says whether the sector claims to be the first of its
// block, whose checksum skips the block checksum field.
SectorReading ReadSector(std::span<const std::byte> sector);

// Header fields read without validation (for evidence of damaged blocks).
uint64_t RawWriteTime(std::span<const std::byte> block);

}  // namespace fscanary::block
