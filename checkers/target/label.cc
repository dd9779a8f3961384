#include "checkers/target/label.h"

#include <xxhash.h>

#include "checkers/block/format.h"
#include "common/endian.h"

namespace fscanary::target {
namespace {

constexpr uint64_t kLabelMagic = 0x4C4542414C435346;  // "FSCLABEL"
constexpr uint32_t kLabelVersion = 1;
constexpr size_t kChecksumOffset = 48;

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
  StoreLe<uint64_t>(p + kChecksumOffset, XXH3_64bits(p, kChecksumOffset));
  return bytes;
}

LabelReading ParseLabel(std::span<const std::byte> first_bytes) {
  if (first_bytes.size() < kLabelSize) return {};
  const std::byte* p = first_bytes.data();
  if (LoadLe<uint64_t>(p) != kLabelMagic) return {};
  LabelReading reading{.state = LabelState::kDamaged};
  if (LoadLe<uint64_t>(p + kChecksumOffset) != XXH3_64bits(p, kChecksumOffset) ||
      LoadLe<uint32_t>(p + 8) != kLabelVersion) {
    return reading;
  }
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
