#include "tests/integration/state_records.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "tests/integration/target_bytes.h"

namespace fscanary::testing {
namespace {

constexpr size_t kStateHeaderSize = 4096;
constexpr size_t kRecordSize = 16;
// Version 1: a 32-bit delta. Version 2: bit 31 is the first-write flag, the
// low 31 bits the delta.
constexpr uint32_t kUnknownDeltaV1 = 0xFFFFFFFF;
constexpr uint32_t kUnknownDeltaV2 = 0x7FFFFFFF;
constexpr uint32_t kFirstWriteFlag = 0x80000000;
constexpr uint32_t kSectorMagic = 0x53435346;  // "FSCS"
constexpr size_t kStampGenerationOffset = 16;

template <typename T>
T LoadLe(const std::byte* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));  // the tests run on little-endian hosts
  return value;
}

}  // namespace

std::string FindStateFile(const std::string& state_dir) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir, error)) {
    const std::string name = entry.path().filename().string();
    // Not "target-<id>.state.tmp": the state is linked into place complete.
    if (name.starts_with("target-") && name.ends_with(".state")) return entry.path().string();
  }
  return "";
}

absl::StatusOr<std::vector<StateRecord>> ReadStateRecords(const std::string& path) {
  absl::StatusOr<std::vector<std::byte>> bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() < kStateHeaderSize) return absl::DataLossError(path + " has no header");
  const uint32_t version = LoadLe<uint32_t>(bytes->data() + 8);
  const uint32_t unknown = version == 1 ? kUnknownDeltaV1 : kUnknownDeltaV2;
  std::vector<StateRecord> records((bytes->size() - kStateHeaderSize) / kRecordSize);
  for (size_t i = 0; i < records.size(); ++i) {
    const std::byte* p = bytes->data() + kStateHeaderSize + i * kRecordSize;
    const uint64_t durable = LoadLe<uint64_t>(p);
    uint32_t delta = LoadLe<uint32_t>(p + 8);
    if (version > 1) delta &= ~kFirstWriteFlag;
    records[i] = {.durable_generation = durable,
                  .inflight_generation = delta == 0         ? 0
                                         : delta == unknown ? ~uint64_t{0}
                                                            : durable + delta};
  }
  return records;
}

uint64_t MaxGeneration(const std::vector<StateRecord>& records) {
  uint64_t max = 0;
  for (const StateRecord& record : records) {
    max = std::max(max, record.durable_generation);
    if (record.inflight_generation != ~uint64_t{0}) max = std::max(max, record.inflight_generation);
  }
  return max;
}

absl::StatusOr<uint64_t> StampedGeneration(const std::string& target, uint64_t offset) {
  absl::StatusOr<std::vector<std::byte>> sector = ReadBytes(target, offset, kSectorSize);
  if (!sector.ok()) return sector.status();
  if (LoadLe<uint32_t>(sector->data()) != kSectorMagic) return 0;
  return LoadLe<uint64_t>(sector->data() + kStampGenerationOffset);
}

}  // namespace fscanary::testing
