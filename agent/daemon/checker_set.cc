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
  if (wants("block")) {
    ASSIGN_OR_RETURN(std::shared_ptr<blockcheck::SharedTarget> shared,
                     blockcheck::OpenSharedTarget(target.shared));
    opened.push_back({target.name, std::make_unique<blockcheck::BlockChecker>(
                                       std::move(shared), target.block, limiter)});
  }
  if (opened.empty()) {
    return absl::InvalidArgumentError("target " + target.name + ": no checker to run");
  }
  return opened;
}

}  // namespace fscanary::daemon
