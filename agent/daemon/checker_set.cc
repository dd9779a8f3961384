#include "agent/daemon/checker_set.h"

#include <algorithm>

#include "common/status.h"

namespace fscanary::daemon {

absl::StatusOr<std::vector<ActiveChecker>> OpenCheckers(const TargetOptions& target,
                                                        io::RateLimiter* limiter) {
  auto wants = [&](std::string_view name) {
    return std::find(target.checkers.begin(), target.checkers.end(), name) != target.checkers.end();
  };
  std::vector<ActiveChecker> opened;
  if (wants("block") || wants("page_cache")) {
    // One label, state file and engine for both: their generations never collide.
    ASSIGN_OR_RETURN(std::shared_ptr<blockcheck::SharedTarget> shared,
                     blockcheck::OpenSharedTarget(target.shared));
    if (wants("block")) {
      opened.push_back(
          {target.name, std::make_unique<blockcheck::BlockChecker>(shared, target.block, limiter)});
    }
    if (wants("page_cache")) {
      ASSIGN_OR_RETURN(std::unique_ptr<pagecache::PageCacheChecker> page_cache,
                       pagecache::PageCacheChecker::Create(shared, target.page_cache, limiter));
      opened.push_back({target.name, std::move(page_cache)});
    }
  }
  if (wants("metadata")) {
    ASSIGN_OR_RETURN(std::unique_ptr<metadata::MetadataChecker> tree,
                     metadata::MetadataChecker::Open(target.metadata, limiter));
    opened.push_back({target.name, std::move(tree)});
  }
  if (opened.empty()) {
    return absl::InvalidArgumentError("target " + target.name + ": no checker to run");
  }
  return opened;
}

}  // namespace fscanary::daemon
