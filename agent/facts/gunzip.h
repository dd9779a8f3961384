#pragma once
// Inflates gzip data in memory (zlib), for /proc/config.gz.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace fscanary::facts {

// The decompressed bytes of one gzip stream. DataLoss when the data is not
// gzip or is truncated; ResourceExhausted past `max_bytes` of output (a config
// is ~100 KiB; this bounds what a damaged file can make us allocate).
absl::StatusOr<std::string> Gunzip(std::string_view compressed, size_t max_bytes = 16 << 20);

}  // namespace fscanary::facts
