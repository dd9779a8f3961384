#pragma once
// Reaches the bytes of a scratch target from outside the agent, as a faulty
// disk or kernel would: plain pread/pwrite with O_DIRECT (so nothing waits in
// the page cache), on a file or a block device. Also the target layout the
// agent promises (docs/FORMAT.md), restated here so the tests check it.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fscanary::testing {

inline constexpr uint32_t kSectorSize = 512;
inline constexpr uint64_t kLabelSize = 4096;

// Where block i of a target lies: after the label, padded to one block.
struct Layout {
  uint32_t block_size = 4096;

  uint64_t data_start() const { return std::max<uint64_t>(kLabelSize, block_size); }
  uint64_t BlockOffset(uint64_t block) const { return data_start() + block * block_size; }
  // The --size that gives exactly `blocks` blocks.
  uint64_t TargetSize(uint64_t blocks) const { return BlockOffset(blocks); }
  uint32_t sectors() const { return block_size / kSectorSize; }
};

// `offset` and the sizes must be multiples of 512 (O_DIRECT).
absl::StatusOr<std::vector<std::byte>> ReadBytes(const std::string& path, uint64_t offset,
                                                 size_t size);
// Writes and makes durable (fdatasync).
absl::Status WriteBytes(const std::string& path, uint64_t offset, std::span<const std::byte> data);

// Whole-file helpers for unaligned checks (buffered I/O).
absl::StatusOr<std::vector<std::byte>> ReadWholeFile(const std::string& path);
absl::Status CreateFileWith(const std::string& path, std::span<const std::byte> data);

// `size` bytes that no fscanary structure starts with (and that are not zero).
std::vector<std::byte> ForeignBytes(size_t size, uint64_t seed);

}  // namespace fscanary::testing
