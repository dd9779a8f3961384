#pragma once
// Parses byte counts as operators write them: 4096, 64K, 512M, 1G, 2T (binary
// multiples; an optional trailing "iB" or "B" is accepted).

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace fscanary {

absl::StatusOr<uint64_t> ParseByteSize(std::string_view text);

}  // namespace fscanary
