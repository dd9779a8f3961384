#pragma once
// Hand-built blocks for classifier tests.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "checkers/block/format/format.h"

namespace fscanary::block::testing {

inline constexpr uint64_t kTarget = 0x1234'5678'9ABC'DEF0;
inline constexpr uint64_t kOtherTarget = 0x0FED'CBA9'8765'4321;
inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kSectors = kBlockSize / kSectorSize;
inline constexpr uint64_t kWriteTime = 1'700'000'000'000'000'000;

inline std::vector<std::byte> BlockStamped(uint64_t offset, uint64_t generation,
                                           uint64_t target = kTarget) {
  std::vector<std::byte> block(kBlockSize);
  EncodeBlock({.target_id = target, .offset = offset, .generation = generation}, kWriteTime, block);
  return block;
}

// `base` with sector `index` taken from `donor`.
inline std::vector<std::byte> WithSector(std::vector<std::byte> base,
                                         const std::vector<std::byte>& donor, uint32_t index) {
  std::copy_n(donor.begin() + size_t{index} * kSectorSize, kSectorSize,
              base.begin() + size_t{index} * kSectorSize);
  return base;
}

}  // namespace fscanary::block::testing
