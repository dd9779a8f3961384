#pragma once
// The records sent on one stream and not yet answered: the only ones an
// acknowledgement or a rejection from the collector may act on. Anything
// else an answer names (a sequence never sent, already answered, beyond what
// was sent, or a malformed range) is counted and ignored: a collector that is
// wrong or lies can never make the agent drop a record it did not store.
// Thread-safe: the sending thread adds, the reading thread takes.

#include <cstdint>
#include <mutex>
#include <set>
#include <span>
#include <vector>

#include "agent/spool/spool.h"

namespace fscanary::transport {

class InFlight {
 public:
  // Call before the record is written to the stream, so that no answer can
  // arrive before it is known.
  void Add(uint64_t sequence);
  size_t size() const;

  struct Taken {
    // The in-flight sequences named, no longer in flight, as ranges.
    std::vector<spool::SequenceRange> ranges;
    uint64_t records = 0;
    // Ranges that named anything not in flight (wholly or in part), or were
    // malformed (first 0, last < first).
    uint64_t ignored_ranges = 0;
  };
  // Takes the in-flight records `ranges` name.
  Taken Take(std::span<const spool::SequenceRange> ranges);

 private:
  mutable std::mutex mutex_;
  std::set<uint64_t> sequences_;
};

}  // namespace fscanary::transport
