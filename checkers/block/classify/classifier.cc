#include "checkers/block/classify/classifier.h"

#include <algorithm>
#include <cerrno>
#include <vector>

#include "checkers/block/format/format.h"

namespace fscanary::block {
namespace {

bool AllZero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

SectorState ClassifySector(const Expectation& expectation, std::span<const std::byte> sector,
                           uint32_t sector_index) {
  if (AllZero(sector)) return SectorState::kZero;
  const SectorReading reading = ReadSector(sector);
  if (!reading.magic_ok) return SectorState::kForeign;
  if (!reading.checksum_ok) return SectorState::kDamaged;
  const SectorStamp& stamp = reading.stamp;
  if (stamp.target_tag != TargetTag(expectation.target_id)) return SectorState::kForeign;
  if (stamp.block_offset != expectation.offset || stamp.index != sector_index) {
    return SectorState::kMisplaced;
  }
  if (stamp.generation == expectation.durable_generation) return SectorState::kNew;
  if (expectation.inflight_generation != 0 && stamp.generation == expectation.inflight_generation) {
    return SectorState::kInFlight;
  }
  return stamp.generation < expectation.durable_generation ? SectorState::kOld
                                                           : SectorState::kNewer;
}

// The sectors an unacknowledged write may leave: never evidence of corruption.
bool Tolerated(SectorState state) {
  return state == SectorState::kNew || state == SectorState::kInFlight ||
         state == SectorState::kNewer;
}

Verdict ChecksumMismatch(const Expectation& expectation, std::span<const std::byte> block,
                         std::vector<SectorState> sectors) {
  // Regenerated with the write time the block itself carries, so the diff
  // shows the damage, not the time of the write.
  std::vector<std::byte> expected(block.size());
  EncodeBlock({.target_id = expectation.target_id,
               .offset = expectation.offset,
               .generation = expectation.durable_generation},
              RawWriteTime(block), expected);
  ByteDiff diff = DiffBytes(block, expected);
  return Verdict{.kind = Kind::kChecksumMismatch,
                 .sectors = std::move(sectors),
                 .differing_bytes = std::move(diff.ranges),
                 .byte_ranges_truncated = diff.truncated};
}

Verdict ClassifyIntact(const Expectation& expectation, const IntactBlock& intact) {
  const BlockIdentity& found = intact.identity;
  if (found.target_id != expectation.target_id) {
    return Verdict{.kind = Kind::kMisdirectedWrite,
                   .found_generation = found.generation,
                   .found_offset = found.offset,
                   .found_target_id = found.target_id};
  }
  if (found.offset != expectation.offset) {
    return Verdict{.kind = Kind::kMisdirectedWrite,
                   .found_generation = found.generation,
                   .found_offset = found.offset};
  }
  if (found.generation < expectation.durable_generation) {
    return Verdict{.kind = Kind::kLostWrite, .found_generation = found.generation};
  }
  Verdict verdict{.found_generation = found.generation};
  verdict.newer_than_state = found.generation > expectation.durable_generation &&
                             found.generation != expectation.inflight_generation;
  return verdict;
}

// A block whose whole-block checksum fails: decided sector by sector.
Verdict ClassifySectors(const Expectation& expectation, std::span<const std::byte> block) {
  const auto sector_count = static_cast<uint32_t>(block.size() / kSectorSize);
  std::vector<SectorState> sectors;
  sectors.reserve(sector_count);
  size_t tolerated = 0, damaged = 0, foreign = 0, zero = 0, old = 0, misplaced = 0;
  bool newer_than_state = false;
  for (uint32_t i = 0; i < sector_count; ++i) {
    const SectorState state =
        ClassifySector(expectation, block.subspan(size_t{i} * kSectorSize, kSectorSize), i);
    sectors.push_back(state);
    if (Tolerated(state)) ++tolerated;
    if (state == SectorState::kNewer) newer_than_state = true;
    if (state == SectorState::kDamaged) ++damaged;
    if (state == SectorState::kForeign) ++foreign;
    if (state == SectorState::kZero) ++zero;
    if (state == SectorState::kOld) ++old;
    if (state == SectorState::kMisplaced) ++misplaced;
  }

  const bool all_new = std::all_of(sectors.begin(), sectors.end(),
                                   [](SectorState s) { return s == SectorState::kNew; });
  if (tolerated == sector_count) {
    // Every sector is right, yet the block checksum failed: the damage is in
    // the one field no sector checksum covers.
    if (all_new) return ChecksumMismatch(expectation, block, std::move(sectors));
    // A write in flight that was torn at a sector boundary: legitimate.
    return Verdict{.sectors = std::move(sectors), .newer_than_state = newer_than_state};
  }
  if (tolerated + damaged == sector_count) {
    return ChecksumMismatch(expectation, block, std::move(sectors));
  }
  if (foreign + zero == sector_count) {
    return Verdict{.kind = Kind::kForeignData, .sectors = std::move(sectors)};
  }

  // Stale sectors only: a whole block from the past (or another offset) whose
  // header checksum field alone was hit is still a lost (misdirected) write.
  if (old == sector_count || misplaced == sector_count) {
    const SectorReading first = ReadSector(block.first(kSectorSize));
    bool same_source = true;
    for (uint32_t i = 1; i < sector_count && same_source; ++i) {
      const SectorReading reading = ReadSector(block.subspan(size_t{i} * kSectorSize, kSectorSize));
      same_source = reading.stamp.generation == first.stamp.generation &&
                    reading.stamp.block_offset == first.stamp.block_offset;
    }
    if (same_source) {
      return Verdict{.kind = old == sector_count ? Kind::kLostWrite : Kind::kMisdirectedWrite,
                     .found_generation = first.stamp.generation,
                     .found_offset = misplaced == sector_count
                                         ? std::optional<uint64_t>(first.stamp.block_offset)
                                         : std::nullopt,
                     .sectors = std::move(sectors)};
    }
  }

  // Where the durable generation was the block's first write, zero sectors
  // are what the block held before it: stale, as older sectors are (a torn
  // or lost first write), not data of ours zeroed.
  const size_t stale_sectors = old + (expectation.first_write ? zero : 0);

  // No older generation of this block anywhere: whatever else is wrong, it is
  // not a torn write (which leaves sectors of two generations of this block).
  // The wrong sectors say what happened, most specific first: sectors of
  // another block, bytes not ours, zeros.
  if (old == 0 && (misplaced > 0 || foreign > 0 || stale_sectors == 0)) {
    if (misplaced > 0) {
      const auto first_misplaced = static_cast<size_t>(
          std::find(sectors.begin(), sectors.end(), SectorState::kMisplaced) - sectors.begin());
      const SectorReading stray =
          ReadSector(block.subspan(first_misplaced * kSectorSize, kSectorSize));
      return Verdict{.kind = Kind::kMisdirectedWrite,
                     .found_generation = stray.stamp.generation,
                     .found_offset = stray.stamp.block_offset,
                     .sectors = std::move(sectors)};
    }
    return Verdict{.kind = foreign > 0 ? Kind::kForeignData : Kind::kZeroed,
                   .sectors = std::move(sectors)};
  }

  // Stale sectors beside the durable generation's: its write was torn. Beside
  // an unacknowledged write's only (none of the durable one left), the durable
  // write was lost before that write began: a power cut that tears a write in
  // flight over a lost block must not turn the lost write it already showed
  // into a torn one, a corruption of another kind.
  const bool durable_sector_left =
      std::find(sectors.begin(), sectors.end(), SectorState::kNew) != sectors.end();
  Verdict stale{.kind = !durable_sector_left && tolerated + stale_sectors == sector_count
                            ? Kind::kLostWrite
                            : Kind::kTornWrite};
  // The stale part's generation: the oldest one found where this block belongs.
  for (uint32_t i = 0; i < sector_count; ++i) {
    if (sectors[i] != SectorState::kOld) continue;
    const uint64_t generation =
        ReadSector(block.subspan(size_t{i} * kSectorSize, kSectorSize)).stamp.generation;
    if (!stale.found_generation || generation < *stale.found_generation) {
      stale.found_generation = generation;
    }
  }
  stale.sectors = std::move(sectors);
  return stale;
}

}  // namespace

Verdict Classify(const Expectation& expectation, std::span<const std::byte> block) {
  // Nothing was ever acknowledged here: whatever the block holds is legitimate.
  if (expectation.durable_generation == 0) return Verdict{};
  if (AllZero(block)) {
    // Where the durable write was the block's first, zeros are what the block
    // held before it: the acknowledged write is lost (a disk that acknowledges
    // flushes without keeping the data). A write in flight since cannot leave
    // zeros either. Otherwise something zeroed fscanary's data.
    return Verdict{.kind = expectation.first_write ? Kind::kLostWrite : Kind::kZeroed};
  }
  if (const std::optional<IntactBlock> intact = ParseIntactBlock(block)) {
    return ClassifyIntact(expectation, *intact);
  }
  return ClassifySectors(expectation, block);
}

FailedWrite ResolveFailedWrite(const Expectation& expectation, std::span<const std::byte> block) {
  if (expectation.inflight_generation == 0) return FailedWrite::kUndecided;
  if (const std::optional<IntactBlock> intact = ParseIntactBlock(block)) {
    const BlockIdentity& found = intact->identity;
    if (found.target_id == expectation.target_id && found.offset == expectation.offset) {
      if (found.generation == expectation.inflight_generation) return FailedWrite::kLanded;
      if (found.generation == expectation.durable_generation && found.generation != 0) {
        return FailedWrite::kNotWritten;
      }
    }
    return FailedWrite::kUndecided;
  }
  if (expectation.durable_generation != 0) return FailedWrite::kUndecided;
  // Nothing durable before: the write left nothing if no sector carries it.
  for (size_t at = 0; at + kSectorSize <= block.size(); at += kSectorSize) {
    const SectorState state = ClassifySector(expectation, block.subspan(at, kSectorSize),
                                             static_cast<uint32_t>(at / kSectorSize));
    if (state == SectorState::kInFlight) return FailedWrite::kUndecided;
  }
  return FailedWrite::kNotWritten;
}

Verdict ClassifyFailedRead(int64_t io_result) {
  if (io_result < 0) {
    return Verdict{.kind = Kind::kIoError, .error_number = static_cast<int>(-io_result)};
  }
  return Verdict{.kind = Kind::kShortRead, .bytes_read = static_cast<uint64_t>(io_result)};
}

ByteDiff DiffBytes(std::span<const std::byte> found, std::span<const std::byte> expected) {
  ByteDiff diff;
  const size_t size = std::min(found.size(), expected.size());
  size_t i = 0;
  while (i < size) {
    if (found[i] == expected[i]) {
      ++i;
      continue;
    }
    const size_t begin = i;
    while (i < size && found[i] != expected[i]) ++i;
    if (diff.ranges.size() == kMaxByteRanges) {
      diff.truncated = true;
      break;
    }
    diff.ranges.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(i)});
  }
  return diff;
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kOk:
      return "ok";
    case Kind::kChecksumMismatch:
      return "checksum_mismatch";
    case Kind::kMisdirectedWrite:
      return "misdirected_write";
    case Kind::kLostWrite:
      return "lost_write";
    case Kind::kTornWrite:
      return "torn_write";
    case Kind::kZeroed:
      return "zeroed";
    case Kind::kForeignData:
      return "foreign_data";
    case Kind::kIoError:
      return "io_error";
    case Kind::kShortRead:
      return "short_read";
  }
  return "unknown";
}

std::string_view SectorStateName(SectorState state) {
  switch (state) {
    case SectorState::kNew:
      return "new";
    case SectorState::kInFlight:
      return "in_flight";
    case SectorState::kNewer:
      return "newer";
    case SectorState::kOld:
      return "old";
    case SectorState::kMisplaced:
      return "misplaced";
    case SectorState::kDamaged:
      return "damaged";
    case SectorState::kZero:
      return "zero";
    case SectorState::kForeign:
      return "foreign";
  }
  return "unknown";
}

}  // namespace fscanary::block
