#pragma once
// The fscanary label: the first 4096 bytes of every scratch target, naming the
// target and its geometry. It is how the agent recognises its own scratch area
// and refuses everything else (docs/FORMAT.md, "Target label").

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace fscanary::target {

inline constexpr size_t kLabelSize = 4096;
// The version EncodeLabel writes. Version 1 (checksum over the fields only) is
// still read.
inline constexpr uint32_t kLabelVersion = 2;

struct Label {
  uint64_t target_id = 0;
  uint32_t block_size = 0;
  // Byte offset of block 0; the label region is [0, data_start).
  uint64_t data_start = 0;
  // Bytes of the target fscanary may use; nothing at or past it is written.
  uint64_t declared_size = 0;
  uint64_t created_ns = 0;
  friend bool operator==(const Label&, const Label&) = default;

  uint64_t block_count() const { return (declared_size - data_start) / block_size; }
};

// The kLabelSize bytes of `label`, in the current version.
std::vector<std::byte> EncodeLabel(const Label& label);

enum class LabelState : uint8_t {
  kAbsent,  // no fscanary magic: not ours
  kValid,
  // fscanary's magic, but the checksum, a reserved byte, the version or the
  // geometry is wrong
  kDamaged,
};
struct LabelReading {
  LabelState state = LabelState::kAbsent;
  uint32_t version = 0;  // set when the magic is there
  Label label;
};
// Reads the first kLabelSize bytes of a target. Every byte is checked: the
// checksum of a version 2 label covers the whole block, and the bytes after the
// fields must be zero in either version (version 1 always wrote them so).
LabelReading ParseLabel(std::span<const std::byte> first_bytes);

}  // namespace fscanary::target
