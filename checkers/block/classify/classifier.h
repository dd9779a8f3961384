#pragma once
// Classifies one block read back from a target against what was last made
// durable there. Pure: touches no file, ring or network, so it is tested with
// hand-built buffers. Thread-safe.

#include <cstdint>
#include <span>

#include "checkers/block/classify/verdict.h"

namespace fscanary::block {

// What the durable state says of the block at `offset`.
struct Expectation {
  uint64_t target_id = 0;
  uint64_t offset = 0;
  // The last generation acknowledged durable; 0 when none was.
  uint64_t durable_generation = 0;
  // The generation of a write that was in flight when the writer last stopped
  // (never acknowledged); 0 when none was. Such a block may legitimately hold
  // the durable generation, the in-flight one, or sectors of both.
  uint64_t inflight_generation = 0;
  // The durable generation is the block's first write: nothing of fscanary's
  // was durable in it before, so it held what the target held when labelled
  // (zeros on a new file). False when unknown.
  bool first_write = false;
};

// `block` is the whole block as read (a valid block size).
Verdict Classify(const Expectation& expectation, std::span<const std::byte> block);

// A read that failed (`io_result` < 0, a negative errno) or returned fewer than
// `block_size` bytes.
Verdict ClassifyFailedRead(int64_t io_result);

// What a block holds after its write failed with an error (the writer alive,
// the target synced since): the failed write's data whole, what the block held
// before, or something else. A failed write that landed whole is as durable
// as the sync after it; one that wrote nothing leaves the record as before;
// anything else keeps the write in flight, so both generations stay forgiven
// and the classifier judges the rest.
enum class FailedWrite : uint8_t { kLanded, kNotWritten, kUndecided };
// `expectation` as for Classify, with the failed write's generation in flight.
FailedWrite ResolveFailedWrite(const Expectation& expectation, std::span<const std::byte> block);

struct ByteDiff {
  std::vector<ByteRange> ranges;  // at most kMaxByteRanges
  bool truncated = false;
};
// The ranges of bytes where `found` differs from `expected` (same size).
ByteDiff DiffBytes(std::span<const std::byte> found, std::span<const std::byte> expected);
}  // namespace fscanary::block
