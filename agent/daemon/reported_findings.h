#pragma once
// Which findings this agent has already reported, so that a persistent
// corruption is reported once, not at every pass that reads it again (nor
// after every agent restart). Kept in a small append-only file under the state
// directory; an entry is added only after the finding is durably spooled,
// and only for a persistent one: each sighting of a transient corruption is an
// event of its own.

#include <cstdint>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "checkers/checker/finding.h"
#include "io/posix.h"

namespace fscanary::daemon {

using checker::FindingKey;

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
