#include "checkers/metadata/op_generator.h"

#include <map>

#include "gtest/gtest.h"
#include "tests/checkers/metadata/metadata_test_support.h"

namespace fscanary::metadata {
namespace {

using testing::CountEntries;
using testing::EntryCounts;

// The sanitizer build (Debug, ASan) runs these pure loops about 50 times
// slower; it takes a share of the operations, the main build all of them.
#ifdef __SANITIZE_ADDRESS__
constexpr int kShare = 8;
#else
constexpr int kShare = 1;
#endif

TEST(OpGenerator, EveryOperationFitsTheModelItWasMadeFrom) {
  TreeModel model;
  std::map<OpKind, int> kinds;
  for (int i = 0; i < 20000 / kShare; ++i) {
    const Op op = NextOp(model, /*seed=*/11, {.entries = 1000});
    ++kinds[op.kind];
    const absl::Status applied = ApplyOp(model, op);
    ASSERT_TRUE(applied.ok()) << i << ": " << applied;
  }
  for (uint8_t kind = 1; kind <= kLastOpKind; ++kind) {
    EXPECT_GT(kinds[static_cast<OpKind>(kind)], 50 / kShare)
        << OpKindName(static_cast<OpKind>(kind));
  }
}

TEST(OpGenerator, TreeGrowsToItsSizeAndStaysThere) {
  TreeModel model;
  // Past growth (about 5000 operations) it must stay near its size.
  for (int i = 0; i < 5000 + 25000 / kShare; ++i) {
    ASSERT_TRUE(ApplyOp(model, NextOp(model, 5, {.entries = 1000})).ok());
    if (i > 5000) {
      ASSERT_GT(model.paths.size(), 850u) << i;
      ASSERT_LT(model.paths.size(), 1150u) << i;
    }
  }
}

TEST(OpGenerator, GrownTreeHasEveryKindOfEntry) {
  TreeModel model;
  while (model.paths.size() < 1800) {
    ASSERT_TRUE(ApplyOp(model, NextOp(model, 3, {.entries = 2000})).ok());
  }
  const EntryCounts counts = CountEntries(model);
  EXPECT_GE(counts.directories, 20u);
  EXPECT_GE(counts.max_depth, 3);
  EXPECT_GE(counts.small_files, 50u);
  EXPECT_GE(counts.large_files, 20u);
  EXPECT_GE(counts.sparse_files, 5u);
  EXPECT_GE(counts.hard_linked_files, 20u);
  EXPECT_GE(counts.symlinks, 30u);
  EXPECT_GE(counts.dangling_symlinks, 5u);
  EXPECT_GE(counts.with_xattrs, 50u);
  EXPECT_GE(counts.largest_directory, 300u);
  for (const auto& [id, node] : model.nodes) {
    if (node.type == NodeType::kFile) {
      ASSERT_LE(node.layout.size, kMaxFileSize);
    }
  }
}

TEST(OpGenerator, SameSeedSameOperations) {
  TreeModel a;
  TreeModel b;
  for (int i = 0; i < 3000; ++i) {
    const Op op = NextOp(a, 99, {.entries = 500});
    ASSERT_EQ(op, NextOp(b, 99, {.entries = 500}));
    ASSERT_TRUE(ApplyOp(a, op).ok());
    ASSERT_TRUE(ApplyOp(b, op).ok());
  }
  EXPECT_EQ(a, b);
  TreeModel c;
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(ApplyOp(c, NextOp(c, 100, {.entries = 500})).ok());
  EXPECT_NE(a, c);
}

TEST(OpGenerator, WritesNeverCrossA4KiBBlock) {
  TreeModel model;
  for (int i = 0; i < 20000 / kShare; ++i) {
    const Op op = NextOp(model, 8, {.entries = 600});
    if (op.kind == OpKind::kWrite) {
      ASSERT_GE(op.length, 1u);
      ASSERT_EQ(op.offset / 4096, (op.offset + op.length - 1) / 4096) << op.offset;
    }
    if (op.kind == OpKind::kPunchHole) {
      ASSERT_EQ(op.offset % 4096, 0u);
      ASSERT_EQ(op.length, 4096u);
    }
    ASSERT_TRUE(ApplyOp(model, op).ok());
  }
}

}  // namespace
}  // namespace fscanary::metadata
