#pragma once
// Resolving the one operation a crash may have left half known: its INTENT
// is in the journal, its outcome is not. Since every operation changes the
// visible tree with one syscall (tree_mutator.h), each path it touches must
// be as the model had it before, or as the operation leaves it; the disk says
// which.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/metadata/io_budget.h"
#include "checkers/metadata/tree_model.h"
#include "io/directory_tree.h"

namespace fscanary::metadata {

struct Resolution {
  // The operation's syscall happened: the model applies it.
  bool done = false;
  // Every path whose expected state the operation changes.
  std::vector<std::string> touched;
  // Touched paths in neither state, or a mix (some before, some after) that
  // one syscall cannot make. The model then expects the operation's result
  // and the first verification reports these paths: a crash never explains
  // them away.
  std::vector<std::string> unexplained;
  // A kWrite or kPunchHole that power loss tore: every 512-byte sector of
  // its range holds the old or the new bytes. The model expects what is
  // there (this layout) instead of either.
  std::optional<FileLayout> torn_layout;
};

// Looks at every path `op` touches. FailedPrecondition when `op` does not fit
// `model` (a journal from elsewhere).
absl::StatusOr<Resolution> ResolvePending(const io::DirectoryTree& tree, const TreeModel& model,
                                          const Op& op, const IoBudget& budget);

}  // namespace fscanary::metadata
