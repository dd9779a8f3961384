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

// The model, then (format 2) the flagged node ids (u64 count, u64 ids) and
// a u8 that is 1 when the tree has no xattr operations.
std::string EncodeModel(const TreeModel& model);
// DataLoss when `bytes` is not a whole, consistent model (a path naming no
// node, a node no path names, a directory or symlink with two names, a bad
// layout, a flagged id naming no node, trailing bytes). `format` 1 (snapshot
// version 1) has no flagged ids and no xattr byte.
absl::StatusOr<TreeModel> DecodeModel(std::string_view bytes, int format = 2);

std::string EncodeOp(const Op& op);
absl::StatusOr<Op> DecodeOp(std::string_view bytes);

}  // namespace fscanary::metadata
