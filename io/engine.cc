#include "io/engine.h"

#include "absl/strings/str_cat.h"
#include "io/psync_engine.h"
#include "io/uring_engine.h"

namespace fscanary::io {

absl::StatusOr<EngineChoice> CreateEngine(const EngineOptions& options) {
  if (options.queue_depth == 0 || options.queue_depth > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("queue depth ", options.queue_depth, " is not between 1 and 4096"));
  }
  if (options.kind == EngineKind::kPsync) {
    return EngineChoice{.engine = CreatePsyncEngine(options)};
  }
  absl::StatusOr<std::unique_ptr<Engine>> uring = CreateUringEngine(options);
  if (uring.ok()) return EngineChoice{.engine = *std::move(uring)};
  if (options.kind == EngineKind::kIoUring) return uring.status();
  return EngineChoice{.engine = CreatePsyncEngine(options),
                      .fallback_reason = std::string(uring.status().message())};
}

absl::StatusOr<EngineKind> ParseEngineKind(std::string_view name) {
  if (name == "auto") return EngineKind::kAuto;
  if (name == "io_uring") return EngineKind::kIoUring;
  if (name == "psync") return EngineKind::kPsync;
  return absl::InvalidArgumentError(absl::StrCat("unknown engine '",
                                                 absl::string_view(name.data(), name.size()),
                                                 "' (expected auto, io_uring or psync)"));
}

}  // namespace fscanary::io
