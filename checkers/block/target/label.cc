#include "checkers/block/target/label.h"

#include <xxhash.h>

#include <algorithm>

#include "checkers/block/format/format.h"
#include "common/endian.h"

namespace fscanary::target {
namespace {

constexpr uint64_t kLabelMagic = 0x4C4542414C435346;  // "FSCLABEL"
constexpr size_t kChecksumOffset = 48;
constexpr size_t kFieldsEnd = kChecksumOffset + 8;

// Version 1 checksummed the fields only; a foreign signature written into the
// rest of the block left such a label valid.
uint64_t ChecksumV1(const std::byte* label) { return XXH3_64bits(label, kChecksumOffset); }

// Version 2: chained XXH3 over the whole block but the checksum field.
uint64_t ChecksumV2(const std::byte* label) {
  const uint64_t head = XXH3_64bits_withSeed(label, kChecksumOffset, 0);
  return XXH3_64bits_withSeed(label + kFieldsEnd, kLabelSize - kFieldsEnd, head);
}

}  // namespace

std::vector<std::byte> EncodeLabel(const Label& label) {
  std::vector<std::byte> bytes(kLabelSize);
  std::byte* p = bytes.data();
  StoreLe<uint64_t>(p + 0, kLabelMagic);
  StoreLe<uint32_t>(p + 8, kLabelVersion);
  StoreLe<uint32_t>(p + 12, label.block_size);
  StoreLe<uint64_t>(p + 16, label.target_id);
  StoreLe<uint64_t>(p + 24, label.data_start);
  StoreLe<uint64_t>(p + 32, label.declared_size);
  StoreLe<uint64_t>(p + 40, label.created_ns);
  StoreLe<uint64_t>(p + kChecksumOffset, ChecksumV2(p));
  return bytes;
}

LabelReading ParseLabel(std::span<const std::byte> first_bytes) {
  if (first_bytes.size() < kLabelSize) return {};
  const std::byte* p = first_bytes.data();
  if (LoadLe<uint64_t>(p) != kLabelMagic) return {};
  LabelReading reading{.state = LabelState::kDamaged, .version = LoadLe<uint32_t>(p + 8)};
  const uint64_t stored = LoadLe<uint64_t>(p + kChecksumOffset);
  const bool checksum_right = (reading.version == 1 && stored == ChecksumV1(p)) ||
                              (reading.version == 2 && stored == ChecksumV2(p));
  const bool rest_zero =
      std::all_of(p + kFieldsEnd, p + kLabelSize, [](std::byte b) { return b == std::byte{0}; });
  if (!checksum_right || !rest_zero) return reading;
  reading.label = {.target_id = LoadLe<uint64_t>(p + 16),
                   .block_size = LoadLe<uint32_t>(p + 12),
                   .data_start = LoadLe<uint64_t>(p + 24),
                   .declared_size = LoadLe<uint64_t>(p + 32),
                   .created_ns = LoadLe<uint64_t>(p + 40)};
  const Label& label = reading.label;
  if (!block::ValidateBlockSize(label.block_size).ok() || label.data_start < kLabelSize ||
      label.declared_size < label.data_start + label.block_size) {
    return reading;
  }
  reading.state = LabelState::kValid;
  return reading;
}

}  // namespace fscanary::target
