#pragma once
// Reads a whole (small) text file: a config or a token file. The one place the
// config modules touch the filesystem.

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace fscanary::config {

// Every error names `path` (NotFound, PermissionDenied, ...). A file larger
// than `max_bytes` is refused (InvalidArgument): configs are small, and a
// path pointing at a device or a huge file is a mistake.
absl::StatusOr<std::string> ReadTextFile(const std::string& path, size_t max_bytes = 1 << 20);

}  // namespace fscanary::config
