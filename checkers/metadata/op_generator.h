#pragma once
// Chooses the metadata tree's next operation: a pure function of the model,
// the tree's seed and the operation's seq, so two trees with the same seed
// grow and change the same way. Every operation it returns fits the model
// (ApplyOp accepts it), and each changes what is on disk with one visible
// syscall (see tree_mutator.h).

#include <cstdint>
#include <string>

#include "checkers/metadata/tree_model.h"

namespace fscanary::metadata {

struct TreeShape {
  // Entries (files, directories, symlinks, extra hard-link names) the tree
  // grows to and then keeps, give or take a few percent.
  uint64_t entries = 2000;
  // Tests only: when set, some symlinks point here (outside the tree), to
  // show that nothing is ever written through them.
  std::string outside_symlink_target;
};

// Largest file the generator makes or grows (sparse files included).
inline constexpr uint64_t kMaxFileSize = 1536 * 1024;
// Directory depth limit (the root's children are at depth 0).
inline constexpr int kMaxDirectoryDepth = 6;
// Entries the big directory is grown to (fewer in a small tree).
uint64_t BigDirectoryTarget(uint64_t entries);

// Operation model.seq + 1 for the tree of `seed`.
Op NextOp(const TreeModel& model, uint64_t seed, const TreeShape& shape);

}  // namespace fscanary::metadata
