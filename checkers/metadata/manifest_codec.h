#pragma once
// The byte encodings of the model and of an operation, as the manifest's
// snapshot and journal records carry them (docs/CHECKERS.md, "Metadata
// checker", has the layout). Little-endian; strings are a u32 length and
// their bytes. Pure.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "checkers/metadata/tree_model.h"

namespace fscanary::metadata {

std::string EncodeModel(const TreeModel& model);
// DataLoss when `bytes` is not a whole, consistent model (a path naming no
// node, a node no path names, a directory or symlink with two names, a bad
// layout, trailing bytes).
absl::StatusOr<TreeModel> DecodeModel(std::string_view bytes);

std::string EncodeOp(const Op& op);
absl::StatusOr<Op> DecodeOp(std::string_view bytes);

}  // namespace fscanary::metadata
