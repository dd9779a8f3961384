#pragma once
// Shared by the metadata checker's tests: small trees, counting what a model
// holds, tampering behind the checker's back, and the kill -9 loop run on the
// temp dir and on real filesystems.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "checkers/checker/finding.h"
#include "checkers/metadata/metadata_checker.h"
#include "checkers/metadata/tree_model.h"

namespace fscanary::metadata::testing {

// A tree of `entries` that changes and verifies only when a test says so
// (Mutate, VerifyAll), with a fixed seed.
MetadataOptions TestOptions(const std::string& root, const std::string& state_dir,
                            uint64_t entries);

// Mutates until the tree has grown to 90% of options.entries.
absl::Status Grow(MetadataChecker& checker, uint64_t entries);

struct EntryCounts {
  uint64_t directories = 0;
  int max_depth = 0;
  uint64_t files = 0;
  uint64_t small_files = 0;  // 1..60 bytes
  uint64_t large_files = 0;  // 64 KiB or more of data
  // Data at 256 KiB or further, less than half the size generated.
  uint64_t sparse_files = 0;
  // Files with a hole inside their data (punched or written past the end).
  uint64_t files_with_inner_holes = 0;
  uint64_t hard_linked_files = 0;  // nodes with two or more names
  uint64_t symlinks = 0;
  uint64_t dangling_symlinks = 0;
  uint64_t with_xattrs = 0;
  uint64_t largest_directory = 0;
};
EntryCounts CountEntries(const TreeModel& model);

// The first path (in model order) whose node satisfies `predicate`.
std::optional<std::string> FindPath(
    const TreeModel& model, const std::function<bool(const std::string&, const Node&)>& predicate);

// (path, detail) per finding, for matchers.
std::vector<std::pair<std::string, std::string>> PathsAndDetails(
    const std::vector<checker::Finding>& findings);

// "path: detail (persistent|transient)" per finding, for failure messages.
std::string Describe(const std::vector<checker::Finding>& findings);

struct CrashLoopResult {
  int kills = 0;
  // Kills after which Open found an operation pending, and resolved it done.
  int pending_found = 0;
  int pending_done = 0;
  // Kind of each operation a kill interrupted -> how often.
  std::map<std::string, int> interrupted;
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint64_t findings = 0;
};

// "create_file 3, rename 2, ..." for a log line.
std::string Summarize(const CrashLoopResult& result);

// `kills` times: forks a child that opens the tree (`options`) and steps it
// continuously (change_interval 0); waits until it has finished a round (or,
// every fourth time, not at all, so some kills land in Open and its
// recovery), waits a random 0-50 ms more, kills it with SIGKILL, then opens
// the tree here and verifies all of it. Records failures with gtest: every
// verification must find nothing, and each killed child must have grown the
// journal.
CrashLoopResult RunCrashLoop(const MetadataOptions& options, int kills, uint64_t random_seed);

}  // namespace fscanary::metadata::testing
