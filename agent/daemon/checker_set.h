#pragma once
// The checkers of each configured target, made from the daemon's options:
// block and page_cache share one block-format target; metadata keeps a tree
// in a directory of its own.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/block_checker.h"
#include "checkers/block/shared_target.h"
#include "checkers/checker/checker.h"
#include "checkers/metadata/metadata_checker.h"
#include "checkers/pagecache/page_cache_checker.h"
#include "io/rate_limiter.h"

namespace fscanary::daemon {

// One configured target and what runs on it.
struct TargetOptions {
  std::string name;
  std::string path;
  // "block", "page_cache", "metadata" (agent/config checks the combination).
  std::vector<std::string> checkers = {"block"};
  // The block-format target of the block and page_cache checkers.
  blockcheck::SharedTargetOptions shared;
  blockcheck::BlockCheckerOptions block;
  pagecache::PageCacheOptions page_cache;
  // The metadata checker's tree (root = path).
  metadata::MetadataOptions metadata;
};

struct ActiveChecker {
  std::string target_name;
  std::unique_ptr<checker::Checker> checker;
  // After a failed step: consecutive failures, and not before this (monotonic ns).
  uint32_t failures = 0;
  uint64_t retry_at_ns = 0;
  // Since the last interval report: steps that failed, and the last one's
  // message (the report carries them to the collector, then they restart).
  uint64_t failed_steps = 0;
  std::string last_error;
};

// Opens the target(s) and creates its checkers; `limiter` (may be null) must
// outlive them.
absl::StatusOr<std::vector<ActiveChecker>> OpenCheckers(const TargetOptions& target,
                                                        io::RateLimiter* limiter);

}  // namespace fscanary::daemon
