#pragma once
// Which findings this agent has already reported, so that a persistent
// corruption is reported once, not at every pass that reads it again (nor
// after every agent restart). Kept in a small append-only file under the state
// directory; an entry is added only after the finding is durably spooled.

#include <cstdint>
#include <set>
#include <string>
#include <tuple>

#include "absl/status/statusor.h"
#include "io/posix.h"

namespace fscanary::daemon {

// One block's corruption as it was found: the same block found the same way
// after the same write is the same finding; a new write of the block, or
// another kind, is a new one.
struct FindingKey {
  uint64_t target_id = 0;
  uint64_t offset = 0;
  uint64_t expected_generation = 0;
  uint32_t kind = 0;
  auto operator<=>(const FindingKey&) const = default;
};

class ReportedFindings {
 public:
  // Reads `path` if it exists (creating it otherwise). A malformed line, such
  // as a half-written last one after a crash, is skipped and counted: at
  // worst that finding is reported once more.
  static absl::StatusOr<ReportedFindings> Open(const std::string& path);

  bool Contains(const FindingKey& key) const { return keys_.contains(key); }
  // Appends and syncs the entry.
  absl::Status Add(const FindingKey& key);

  size_t size() const { return keys_.size(); }
  uint64_t malformed_lines() const { return malformed_lines_; }

 private:
  ReportedFindings(std::string path, io::UniqueFd fd)
      : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  io::UniqueFd fd_;
  uint64_t end_offset_ = 0;
  std::set<FindingKey> keys_;
  uint64_t malformed_lines_ = 0;
};

}  // namespace fscanary::daemon
