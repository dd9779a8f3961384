#include "checkers/block/shared_target.h"

#include "common/status.h"
#include "spdlog/spdlog.h"

namespace fscanary::blockcheck {

absl::StatusOr<std::shared_ptr<SharedTarget>> OpenSharedTarget(const SharedTargetOptions& options) {
  ASSIGN_OR_RETURN(target::WritableTarget writable, target::OpenForWrite(options.target));
  ASSIGN_OR_RETURN(io::EngineChoice choice,
                   io::CreateEngine({.kind = options.engine,
                                     .queue_depth = options.queue_depth,
                                     .buffer_size = writable.target.label.block_size}));
  if (!choice.fallback_reason.empty()) {
    spdlog::warn("target {}: io_uring unavailable ({}); using {}", options.name,
                 choice.fallback_reason, choice.engine->Name());
  }
  if (writable.created) {
    spdlog::info("target {}: labelled {} as fscanary target {:016x} ({} blocks of {} bytes)",
                 options.name, writable.target.path, writable.target.label.target_id,
                 writable.target.label.block_count(), writable.target.label.block_size);
  }
  return std::make_shared<SharedTarget>(
      SharedTarget{options.name, std::move(writable), std::move(choice.engine)});
}

}  // namespace fscanary::blockcheck
