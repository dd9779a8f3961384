#pragma once
// One block-format scratch target opened for the checkers that share it (the
// block checker's O_DIRECT passes, the page-cache checker's buffered ones):
// one label, one state file, one engine, so their generations never collide.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "checkers/block/target/scratch_target.h"
#include "io/engine.h"

namespace fscanary::blockcheck {

struct SharedTargetOptions {
  // The target's configured name, for logs and findings.
  std::string name;
  target::WriteTargetOptions target;
  io::EngineKind engine = io::EngineKind::kAuto;
  uint32_t queue_depth = 32;
};

struct SharedTarget {
  std::string name;
  target::WritableTarget writable;
  std::unique_ptr<io::Engine> engine;
};

// Opens (labels, if new) the target and its state and creates its engine;
// refuses what the guard refuses.
absl::StatusOr<std::shared_ptr<SharedTarget>> OpenSharedTarget(const SharedTargetOptions& options);

}  // namespace fscanary::blockcheck
