// What the checker refuses to open, and that it leaves it as it was.

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/metadata/checker_fixture.h"
#include "tests/checkers/metadata/metadata_test_support.h"

namespace fscanary::metadata {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::MetadataCheckerTest;
using testing::ReadFile;
using testing::TestOptions;

class Refusal : public MetadataCheckerTest {};

TEST_F(Refusal, NonEmptyForeignDirectoryIsRefused) {
  fs::create_directories(Root());
  std::ofstream(At("precious.txt")) << "someone's data";
  auto opened = MetadataChecker::Open(TestOptions(Root(), State(), 100), nullptr);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(opened.status().message()),
              AllOf(HasSubstr(Root()), HasSubstr("not empty"), HasSubstr("precious.txt")));
  EXPECT_EQ(ReadFile(At("precious.txt")), "someone's data");
}

TEST_F(Refusal, RootThatIsASymlinkIsRefused) {
  fs::create_directories(base_.Join("elsewhere"));
  fs::create_directory_symlink(base_.Join("elsewhere"), Root());
  auto opened = MetadataChecker::Open(TestOptions(Root(), State(), 100), nullptr);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(opened.status().message()),
              AllOf(HasSubstr(Root()), HasSubstr("symlink")));
  EXPECT_TRUE(fs::is_empty(base_.Join("elsewhere")));
}

TEST_F(Refusal, ManifestOfAnotherTreeIsRefused) {
  ASSERT_TRUE(
      MetadataChecker::Open(TestOptions(base_.Join("a"), base_.Join("sa"), 50), nullptr).ok());
  ASSERT_TRUE(
      MetadataChecker::Open(TestOptions(base_.Join("b"), base_.Join("sb"), 50), nullptr).ok());
  auto crossed = MetadataChecker::Open(TestOptions(base_.Join("a"), base_.Join("sb"), 50), nullptr);
  EXPECT_EQ(crossed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(crossed.status().message()),
              AllOf(HasSubstr(base_.Join("a")), HasSubstr("belongs to tree")));
}

TEST_F(Refusal, TreeWithoutItsManifestIsRefused) {
  ASSERT_TRUE(MetadataChecker::Open(TestOptions(Root(), State(), 50), nullptr).ok());
  auto opened = MetadataChecker::Open(TestOptions(Root(), base_.Join("fresh-state"), 50), nullptr);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(opened.status().message()), HasSubstr("has no manifest"));
}

TEST_F(Refusal, EmptiedRootOfAGrownTreeIsRefused) {
  OpenGrown(100);
  checker_.reset();
  fs::remove_all(Root());
  auto opened = MetadataChecker::Open(TestOptions(Root(), State(), 100), nullptr);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(opened.status().message()), HasSubstr("is empty but the manifest"));
}

TEST_F(Refusal, StateDirInsideTheRootIsRefused) {
  auto opened = MetadataChecker::Open(TestOptions(Root(), Root() + "/state", 100), nullptr);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(Root()));
}

TEST_F(Refusal, SecondCheckerOnTheSameStateIsRefused) {
  auto first = MetadataChecker::Open(TestOptions(Root(), State(), 50), nullptr);
  ASSERT_TRUE(first.ok());
  auto second = MetadataChecker::Open(TestOptions(Root(), State(), 50), nullptr);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("locked"));
}

}  // namespace
}  // namespace fscanary::metadata
