#pragma once
// The portable engine: pread/pwritev2 issued in order from the calling thread.
// Works on every kernel; requests queued together still run back to back.

#include <memory>

#include "io/engine.h"

namespace fscanary::io {

std::unique_ptr<Engine> CreatePsyncEngine(const EngineOptions& options);

}  // namespace fscanary::io
