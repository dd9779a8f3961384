// Crashes: an operation left pending in the journal, staged by hand, and
// kill -9 at random moments.

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "checkers/metadata/manifest_codec.h"
#include "checkers/metadata/manifest_store.h"
#include "checkers/metadata/op_generator.h"
#include "checkers/metadata/tree_mutator.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/metadata/checker_fixture.h"
#include "tests/checkers/metadata/metadata_test_support.h"

namespace fscanary::metadata {
namespace {

namespace fs = std::filesystem;
using testing::Describe;
using ::testing::HasSubstr;
using testing::MetadataCheckerTest;
using ::testing::Pair;
using testing::PathsAndDetails;
using testing::TestOptions;
using ::testing::UnorderedElementsAre;

// A crash between an operation's INTENT and its outcome, staged by hand:
// the journal ends with the intent, the disk is as the test leaves it.
class MetadataCheckerRecovery : public MetadataCheckerTest {
 protected:
  void SetUp() override {
    OpenGrown(200);
    before_ = checker_->model();
    seed_ = checker_->seed();
    checker_.reset();
  }

  void AppendIntent(const Op& op) {
    const std::string payload = std::string(1, '\2') + EncodeOp(op);
    std::ofstream(State() + "/" + std::string(kJournalFileName), std::ios::app | std::ios::binary)
        << EncodeFrame(payload);
  }

  void Reopen() {
    auto opened = MetadataChecker::Open(TestOptions(Root(), State(), 200), nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    checker_ = *std::move(opened);
    ASSERT_TRUE(checker_->stats().recovered_pending);
  }

  TreeModel before_;
  uint64_t seed_ = 0;
};

TEST_F(MetadataCheckerRecovery, IntentWhoseOperationNeverRanIsDropped) {
  const Op op = NextOp(before_, seed_, {.entries = 200});
  AppendIntent(op);
  Reopen();
  EXPECT_FALSE(checker_->stats().recovered_done);
  TreeModel expected = before_;
  ASSERT_TRUE(SkipOp(expected, op).ok());
  EXPECT_EQ(checker_->model(), expected);
  const std::vector<checker::Finding> findings = Verify();
  EXPECT_TRUE(findings.empty()) << Describe(findings);
}

TEST_F(MetadataCheckerRecovery, IntentWhoseOperationRanIsKept) {
  int kept = 0;
  TreeModel model = before_;
  // Several operations, each in its own crash, to see several kinds.
  for (int i = 0; i < 12; ++i) {
    const Op op = NextOp(model, seed_, {.entries = 200});
    AppendIntent(op);
    {
      auto tree = io::DirectoryTree::Open(Root(), {});
      ASSERT_TRUE(tree.ok());
      ASSERT_TRUE(Perform(*tree, model, op, {}).done) << OpKindName(op.kind);
    }
    Reopen();
    EXPECT_TRUE(checker_->stats().recovered_done) << OpKindName(op.kind);
    ASSERT_TRUE(ApplyOp(model, op).ok());
    EXPECT_EQ(checker_->model(), model) << OpKindName(op.kind);
    const std::vector<checker::Finding> findings = Verify();
    EXPECT_TRUE(findings.empty()) << OpKindName(op.kind) << Describe(findings);
    checker_.reset();
    ++kept;
  }
  EXPECT_EQ(kept, 12);
}

TEST_F(MetadataCheckerRecovery, PathInNeitherStateIsReportedAtTheFirstWalk) {
  Op op{.kind = OpKind::kCreateFile,
        .seq = before_.seq + 1,
        .path = "made-by-a-crash",
        .node = before_.next_node,
        .mode = 0644};
  op.layout.Write(0, 100, PatternFor(seed_, op.node, op.seq));
  AppendIntent(op);
  {
    std::ofstream(At("made-by-a-crash")) << std::string(100, 'x');
    ::chmod(At("made-by-a-crash").c_str(), 0644);
  }
  Reopen();
  EXPECT_EQ(checker_->stats().recovery_unexplained, std::vector<std::string>{"made-by-a-crash"});
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(Pair("made-by-a-crash", HasSubstr("content: expected"))));
}

TEST_F(MetadataCheckerRecovery, LeftoversInTheStageAreCleanedAtOpen) {
  AppendIntent(NextOp(before_, seed_, {.entries = 200}));
  fs::create_directories(At(".fscanary-stage/s999/deeper"));
  std::ofstream(At(".fscanary-stage/s998")) << "half written";
  Reopen();
  EXPECT_TRUE(fs::is_empty(At(".fscanary-stage")));
  const std::vector<checker::Finding> findings = Verify();
  EXPECT_TRUE(findings.empty()) << Describe(findings);
}

class MetadataCheckerCrash : public MetadataCheckerTest {};

TEST_F(MetadataCheckerCrash, KillAtRandomMomentsNeverYieldsAFinding) {
  MetadataOptions options = TestOptions(Root(), State(), 300);
  options.growth_changes_per_step = 16;
  options.changes_per_round = 8;
  // Kills while the tree grows, then while it is changed in every way.
  const testing::CrashLoopResult growing = testing::RunCrashLoop(options, 10, io::RandomU64());
  std::cout << "kill -9 while growing: " << testing::Summarize(growing) << "\n";
  {
    auto opened = MetadataChecker::Open(options, nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_TRUE(testing::Grow(**opened, 300).ok());
  }
  const testing::CrashLoopResult changing = testing::RunCrashLoop(options, 10, io::RandomU64());
  std::cout << "kill -9 while changing: " << testing::Summarize(changing) << "\n";
  EXPECT_EQ(growing.kills + changing.kills, 20);
  EXPECT_EQ(growing.findings + changing.findings, 0u);
  EXPECT_GT(growing.last_seq, growing.first_seq);
  EXPECT_GT(changing.last_seq, changing.first_seq);
  EXPECT_GE(growing.pending_found + changing.pending_found, 1)
      << "no kill landed inside an operation";
}

}  // namespace
}  // namespace fscanary::metadata
