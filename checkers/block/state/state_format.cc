#include "checkers/block/state/state_format.h"

#include <xxhash.h>

#include "absl/strings/str_cat.h"
#include "common/endian.h"

namespace fscanary::state {
namespace {

constexpr uint64_t kStateMagic = 0x4554415453435346;  // "FSCSTATE"
constexpr size_t kHeaderChecksumOffset = 48;
// In-flight generations are kept as a distance above the durable one: 32 bits
// in version 1; in version 2 the low 31, the top bit being the first-write flag.
constexpr uint32_t kUnknownDeltaV1 = 0xFFFFFFFF;
constexpr uint32_t kUnknownDeltaV2 = 0x7FFFFFFF;
constexpr uint32_t kFirstWriteFlag = 0x80000000;

uint32_t RecordCheck(const std::byte* record, uint64_t target_id, uint64_t block) {
  // Seeded with the block number, so a record written at the wrong place fails.
  return static_cast<uint32_t>(
      XXH3_64bits_withSeed(record, 12, target_id ^ (block * 0x9E3779B97F4A7C15ull)));
}

}  // namespace

std::vector<std::byte> EncodeStateHeader(const StateHeader& header) {
  std::vector<std::byte> bytes(kStateHeaderBytes);
  std::byte* p = bytes.data();
  StoreLe<uint64_t>(p + 0, kStateMagic);
  StoreLe<uint32_t>(p + 8, header.version);
  StoreLe<uint32_t>(p + 12, header.geometry.block_size);
  StoreLe<uint64_t>(p + 16, header.geometry.target_id);
  StoreLe<uint64_t>(p + 24, header.geometry.data_start);
  StoreLe<uint64_t>(p + 32, header.geometry.block_count);
  StoreLe<uint64_t>(p + 40, header.created_ns);
  StoreLe<uint64_t>(p + kHeaderChecksumOffset, XXH3_64bits(p, kHeaderChecksumOffset));
  return bytes;
}

absl::StatusOr<StateHeader> ParseStateHeader(std::span<const std::byte> header) {
  const std::byte* p = header.data();
  if (header.size() < kStateHeaderBytes || LoadLe<uint64_t>(p) != kStateMagic) {
    return absl::DataLossError("not an fscanary state file (bad magic)");
  }
  if (LoadLe<uint64_t>(p + kHeaderChecksumOffset) != XXH3_64bits(p, kHeaderChecksumOffset)) {
    return absl::DataLossError("damaged: header checksum mismatch");
  }
  const uint32_t version = LoadLe<uint32_t>(p + 8);
  if (version < kOldestStateVersion || version > kStateVersion) {
    return absl::FailedPreconditionError(absl::StrCat("state format version ", version,
                                                      "; this build reads ", kOldestStateVersion,
                                                      " to ", kStateVersion));
  }
  return StateHeader{.geometry = {.target_id = LoadLe<uint64_t>(p + 16),
                                  .block_size = LoadLe<uint32_t>(p + 12),
                                  .data_start = LoadLe<uint64_t>(p + 24),
                                  .block_count = LoadLe<uint64_t>(p + 32)},
                     .created_ns = LoadLe<uint64_t>(p + 40),
                     .version = version};
}

std::array<std::byte, kRecordBytes> EncodeRecord(uint32_t version, uint64_t target_id,
                                                 uint64_t block, const BlockRecord& record) {
  std::array<std::byte, kRecordBytes> bytes{};
  std::byte* p = bytes.data();
  const uint32_t unknown = version == 1 ? kUnknownDeltaV1 : kUnknownDeltaV2;
  uint32_t delta = 0;
  if (record.inflight_generation != 0) {
    const uint64_t distance = record.inflight_generation - record.durable_generation;
    delta = distance >= unknown ? unknown : static_cast<uint32_t>(distance);
  }
  if (version > 1 && record.first_write) delta |= kFirstWriteFlag;
  StoreLe<uint64_t>(p, record.durable_generation);
  StoreLe<uint32_t>(p + 8, delta);
  StoreLe<uint32_t>(p + 12, RecordCheck(p, target_id, block));
  return bytes;
}

BlockRecord DecodeRecord(uint32_t version, std::span<const std::byte, kRecordBytes> bytes,
                         uint64_t target_id, uint64_t block) {
  const std::byte* p = bytes.data();
  const uint64_t durable = LoadLe<uint64_t>(p);
  uint32_t delta = LoadLe<uint32_t>(p + 8);
  const uint32_t check = LoadLe<uint32_t>(p + 12);
  if (durable == 0 && delta == 0 && check == 0) {
    return BlockRecord{.first_write = true};  // never written: nothing durable yet
  }
  if (check != RecordCheck(p, target_id, block)) return BlockRecord{.damaged = true};
  bool first_write = false;
  uint32_t unknown = kUnknownDeltaV1;
  if (version > 1) {
    first_write = (delta & kFirstWriteFlag) != 0;
    delta &= ~kFirstWriteFlag;
    unknown = kUnknownDeltaV2;
  }
  return BlockRecord{.durable_generation = durable,
                     .inflight_generation = delta == 0         ? 0
                                            : delta == unknown ? kUnknownInFlight
                                                               : durable + delta,
                     .first_write = first_write};
}

}  // namespace fscanary::state
