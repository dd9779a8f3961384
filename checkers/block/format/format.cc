#include "checkers/block/format/format.h"

#include <xxhash.h>

#include <string>

#include "common/endian.h"

namespace fscanary::block {
namespace {

// The splitmix64 finaliser: a bijective mix, so distinct inputs give distinct
// payload words and the payload of one (target, offset, generation) never
// equals another's.
constexpr uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t SectorSeed(const BlockIdentity& identity, uint32_t sector_index) {
  return Mix(identity.target_id ^
             Mix(identity.offset ^ Mix(identity.generation ^ Mix(sector_index))));
}

size_t PayloadStart(uint32_t sector_index) { return sector_index == 0 ? kHeaderEnd : kStampSize; }

void FillPayload(uint64_t seed, std::byte* begin, std::byte* end) {
  uint64_t counter = seed;
  for (std::byte* p = begin; p < end; p += 8) {
    StoreLe<uint64_t>(p, Mix(counter));
    counter += 0x9E3779B97F4A7C15ull;
  }
}

// XXH3 over a list of byte ranges, each hash seeding the next: lets a checksum
// skip the fields that hold checksums without copying the block.
uint64_t HashRanges(std::initializer_list<std::pair<const std::byte*, size_t>> ranges) {
  uint64_t hash = 0;
  for (const auto& [data, size] : ranges) hash = XXH3_64bits_withSeed(data, size, hash);
  return hash;
}

uint32_t SectorChecksum(const std::byte* sector, uint32_t sector_index) {
  if (sector_index == 0) {
    return static_cast<uint32_t>(HashRanges(
        {{sector, kStampChecksumOffset},
         {sector + kStampSize, kHeaderChecksumOffset - kStampSize},
         {sector + kHeaderChecksumOffset + 8, kSectorSize - kHeaderChecksumOffset - 8}}));
  }
  return static_cast<uint32_t>(HashRanges(
      {{sector, kStampChecksumOffset}, {sector + kStampSize, kSectorSize - kStampSize}}));
}

uint64_t BlockChecksum(std::span<const std::byte> block) {
  const std::byte* data = block.data();
  return HashRanges({{data, kHeaderChecksumOffset},
                     {data + kHeaderChecksumOffset + 8, block.size() - kHeaderChecksumOffset - 8}});
}

}  // namespace

absl::Status ValidateBlockSize(uint64_t block_size) {
  if (block_size < kMinBlockSize || block_size > kMaxBlockSize || block_size % kSectorSize != 0) {
    return absl::InvalidArgumentError("block size " + std::to_string(block_size) +
                                      " is not a multiple of 512 between 512 and 1048576");
  }
  return absl::OkStatus();
}

uint32_t TargetTag(uint64_t target_id) {
  return static_cast<uint32_t>(target_id ^ (target_id >> 32));
}

void EncodeBlock(const BlockIdentity& identity, uint64_t write_time_ns,
                 std::span<std::byte> block) {
  const auto sectors = static_cast<uint32_t>(block.size() / kSectorSize);
  for (uint32_t i = 0; i < sectors; ++i) {
    std::byte* sector = block.data() + static_cast<size_t>(i) * kSectorSize;
    StoreLe<uint32_t>(sector + kStampMagicOffset, kSectorMagic);
    StoreLe<uint16_t>(sector + kStampIndexOffset, static_cast<uint16_t>(i));
    StoreLe<uint16_t>(sector + kStampVersionOffset, kFormatVersion);
    StoreLe<uint64_t>(sector + kStampBlockOffsetOffset, identity.offset);
    StoreLe<uint64_t>(sector + kStampGenerationOffset, identity.generation);
    StoreLe<uint32_t>(sector + kStampTargetTagOffset, TargetTag(identity.target_id));
    if (i == 0) {
      StoreLe<uint64_t>(sector + kHeaderMagicOffset, kBlockMagic);
      StoreLe<uint32_t>(sector + kHeaderBlockSizeOffset, static_cast<uint32_t>(block.size()));
      StoreLe<uint32_t>(sector + kHeaderBlockSizeOffset + 4, 0);
      StoreLe<uint64_t>(sector + kHeaderTargetIdOffset, identity.target_id);
      StoreLe<uint64_t>(sector + kHeaderBlockOffsetOffset, identity.offset);
      StoreLe<uint64_t>(sector + kHeaderGenerationOffset, identity.generation);
      StoreLe<uint64_t>(sector + kHeaderWriteTimeOffset, write_time_ns);
      StoreLe<uint64_t>(sector + kHeaderChecksumOffset + 8, 0);
    }
    FillPayload(SectorSeed(identity, i), sector + PayloadStart(i), sector + kSectorSize);
    StoreLe<uint32_t>(sector + kStampChecksumOffset, SectorChecksum(sector, i));
  }
  StoreLe<uint64_t>(block.data() + kHeaderChecksumOffset, BlockChecksum(block));
}

std::optional<IntactBlock> ParseIntactBlock(std::span<const std::byte> block) {
  const std::byte* data = block.data();
  if (block.size() < kMinBlockSize || LoadLe<uint64_t>(data + kHeaderMagicOffset) != kBlockMagic ||
      LoadLe<uint32_t>(data + kHeaderBlockSizeOffset) != block.size() ||
      LoadLe<uint64_t>(data + kHeaderChecksumOffset) != BlockChecksum(block)) {
    return std::nullopt;
  }
  return IntactBlock{.identity = {.target_id = LoadLe<uint64_t>(data + kHeaderTargetIdOffset),
                                  .offset = LoadLe<uint64_t>(data + kHeaderBlockOffsetOffset),
                                  .generation = LoadLe<uint64_t>(data + kHeaderGenerationOffset)},
                     .write_time_ns = LoadLe<uint64_t>(data + kHeaderWriteTimeOffset)};
}

SectorReading ReadSector(std::span<const std::byte> sector) {
  const std::byte* data = sector.data();
  SectorReading reading;
  reading.magic_ok = LoadLe<uint32_t>(data + kStampMagicOffset) == kSectorMagic &&
                     LoadLe<uint16_t>(data + kStampVersionOffset) == kFormatVersion;
  if (!reading.magic_ok) return reading;
  reading.stamp = {.index = LoadLe<uint16_t>(data + kStampIndexOffset),
                   .block_offset = LoadLe<uint64_t>(data + kStampBlockOffsetOffset),
                   .generation = LoadLe<uint64_t>(data + kStampGenerationOffset),
                   .target_tag = LoadLe<uint32_t>(data + kStampTargetTagOffset)};
  reading.checksum_ok =
      LoadLe<uint32_t>(data + kStampChecksumOffset) == SectorChecksum(data, reading.stamp.index);
  return reading;
}

uint64_t RawWriteTime(std::span<const std::byte> block) {
  return LoadLe<uint64_t>(block.data() + kHeaderWriteTimeOffset);
}

}  // namespace fscanary::block
