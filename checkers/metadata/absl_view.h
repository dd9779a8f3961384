#pragma once
// Debian's abseil (20220623) has its own absl::string_view, which StrCat and
// friends take and std::string_view does not convert to: this spells the
// conversion once.

#include <string_view>

#include "absl/strings/string_view.h"

namespace fscanary::metadata {

inline absl::string_view AbslView(std::string_view view) { return {view.data(), view.size()}; }

}  // namespace fscanary::metadata
