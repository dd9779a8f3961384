#pragma once
// Makes one operation of the model on disk, so that a kill at any instant
// leaves each touched path either as it was or as the operation leaves it:
// every operation changes the visible tree with exactly one syscall
//   create/replace file, make directory, retarget symlink: built under the
//     stage directory (content written and fsynced, mode and xattrs set), then
//     renamed into place (RENAME_NOREPLACE, or over the old name to replace);
//   make symlink, link, rename, unlink, rmdir: that one call;
//   truncate, punch one 4 KiB block, write inside one 4 KiB block (a kill
//     cannot split a write that fits one page), set or remove one xattr: that
//     one call on an fd opened with O_NOFOLLOW;
// then fsyncs what changed (files, their directories, the stage), so the
// change is durable before the next operation's intent.
//
// Safety: paths resolve beneath the root without following symlinks
// (io::DirectoryTree); in-place changes go only to a regular file whose link
// count is the model's (a file hard-linked in from outside is left alone).

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "checkers/metadata/io_budget.h"
#include "checkers/metadata/tree_model.h"
#include "io/directory_tree.h"

namespace fscanary::metadata {

struct MutationResult {
  // The visible syscall succeeded: the model must apply the operation.
  bool done = false;
  // Not done because the filesystem does not support it (punch hole).
  bool unsupported = false;
  // Why it was not done (the entry was not as the model says, an error), or
  // what failed after it was done (an fsync).
  absl::Status status;
  uint64_t bytes_written = 0;
};

// Performs `op` on the tree, which should be as `model` says (the model
// before the operation). Leaves the stage directory empty when it can.
MutationResult Perform(const io::DirectoryTree& tree, const TreeModel& model, const Op& op,
                       const IoBudget& budget);

// Where operation `seq` builds what it then renames into place.
std::string StagePath(uint64_t seq);

}  // namespace fscanary::metadata
