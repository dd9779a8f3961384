#pragma once
// The io_uring engine. Only uring_engine.cc includes <liburing.h>.

#include <memory>

#include "absl/status/statusor.h"
#include "io/engine.h"

namespace fscanary::io {

// Sets up a ring and checks that the kernel supports every opcode used.
// Unimplemented or PermissionDenied where io_uring is missing or blocked (old
// kernel, seccomp, kernel.io_uring_disabled); the caller falls back.
absl::StatusOr<std::unique_ptr<Engine>> CreateUringEngine(const EngineOptions& options);

}  // namespace fscanary::io
