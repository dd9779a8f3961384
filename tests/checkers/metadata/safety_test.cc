// Nothing the checker does leaves its root.

#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/guard/system_fixtures.h"
#include "tests/checkers/metadata/checker_fixture.h"
#include "tests/checkers/metadata/metadata_test_support.h"

namespace fscanary::metadata {
namespace {

namespace fs = std::filesystem;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using testing::IsFile;
using testing::MetadataCheckerTest;
using testing::ReadFile;
using testing::TestOptions;

// Nothing the checker does is ever written through a symlink: neither
// through symlinks it made itself pointing outside the root, nor through
// files and directories swapped for symlinks behind its back.
// Parameter: whether paths are resolved with openat2 (else per component).
class MetadataCheckerSafety : public MetadataCheckerTest,
                              public ::testing::WithParamInterface<bool> {
 protected:
  // A file and a directory outside the root, for the checker to leave alone.
  std::string MakeOutside() {
    const std::string outside = base_.Join("outside");
    fs::create_directories(outside + "/dir");
    std::ofstream(outside + "/victim") << "do not touch";
    std::ofstream(outside + "/dir/inner") << "nor this";
    return outside;
  }

  // Their content, names and the victim's fscanary xattr.
  std::string SnapshotOutside() const {
    const std::string outside = base_.Join("outside");
    std::string state = ReadFile(outside + "/victim") + "|" + ReadFile(outside + "/dir/inner");
    for (const auto& entry : fs::recursive_directory_iterator(outside)) {
      absl::StrAppend(&state, "|", entry.path().string());
    }
    char value[64];
    absl::StrAppend(
        &state, "|",
        ::getxattr((outside + "/victim").c_str(), "user.fscanary.a", value, sizeof(value)));
    return state;
  }
};

TEST_P(MetadataCheckerSafety, OutsideFilesAreNeverWrittenThroughSymlinks) {
  const std::string outside = MakeOutside();
  const std::string before = SnapshotOutside();

  MetadataOptions options = TestOptions(Root(), State(), 300);
  options.outside_symlink_target = outside + "/victim";
  options.use_openat2 = GetParam();
  auto opened = MetadataChecker::Open(options, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  checker_ = *std::move(opened);
  EXPECT_EQ(checker_->uses_openat2(), GetParam());
  ASSERT_TRUE(testing::Grow(*checker_, 300).ok());
  const uint64_t escaping =
      std::count_if(checker_->model().nodes.begin(), checker_->model().nodes.end(),
                    [&](const auto& entry) { return entry.second.target == outside + "/victim"; });
  EXPECT_GE(escaping, 3u);

  // Swap files (with and without xattrs, hard-linked ones too) and
  // directories for symlinks to the outside.
  int swapped = 0;
  for (const auto& [path, id] : checker_->model().paths) {
    const Node& node = checker_->model().nodes.at(id);
    if (swapped >= 40 || id % 5 != 0) continue;
    const bool empty_dir =
        node.type == NodeType::kDirectory && checker_->model().ChildNames(path).empty();
    if (node.type == NodeType::kFile) {
      ASSERT_EQ(::unlink(At(path).c_str()), 0);
      ASSERT_EQ(::symlink((outside + "/victim").c_str(), At(path).c_str()), 0);
      ++swapped;
    } else if (empty_dir) {
      ASSERT_EQ(::rmdir(At(path).c_str()), 0);
      ASSERT_EQ(::symlink((outside + "/dir").c_str(), At(path).c_str()), 0);
      ++swapped;
    }
  }
  ASSERT_GE(swapped, 20);
  // Many rounds of every kind of change, over the swapped entries too.
  for (int round = 0; round < 20; ++round) ASSERT_TRUE(checker_->Mutate(100).ok());
  EXPECT_GT(checker_->stats().ops_not_done, 0u) << "the swapped entries were left alone";
  EXPECT_EQ(SnapshotOutside(), before);
  // And the swaps are reported, where they still stand.
  const std::vector<checker::Finding> findings = Verify();
  EXPECT_FALSE(findings.empty());
  for (const checker::Finding& finding : findings) {
    EXPECT_THAT(finding.detail, AnyOf(HasSubstr("found symlink"), HasSubstr("nlink")))
        << finding.path;
  }
  EXPECT_EQ(SnapshotOutside(), before);
}

// A bind mount is on the same filesystem, so st_dev cannot tell it: a file
// and a directory from outside mounted over entries of the tree are neither
// written nor reported (they are the operator's doing, not corruption), and
// the walk goes on with the rest of the tree.
TEST_P(MetadataCheckerSafety, BindMountsInsideTheTreeAreNeitherWrittenNorReported) {
  if (::geteuid() != 0) GTEST_SKIP() << "bind mounts need root";
  const std::string outside = MakeOutside();
  const std::string before = SnapshotOutside();

  MetadataOptions options = TestOptions(Root(), State(), 300);
  options.use_openat2 = GetParam();
  auto opened = MetadataChecker::Open(options, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  checker_ = *std::move(opened);
  ASSERT_TRUE(testing::Grow(*checker_, 300).ok());
  const std::string file = PathWhere([](const std::string&, const Node& node) {
    return IsFile(node) && node.links == 1 && node.layout.size > 0;
  });
  const std::string directory = PathWhere([&](const std::string& path, const Node& node) {
    return node.type == NodeType::kDirectory && !checker_->model().ChildNames(path).empty() &&
           !file.starts_with(path + "/");
  });

  guard::testing::BindMountsUnder mounts(base_.path());
  if (!mounts.Bind(outside + "/victim", At(file))) {
    GTEST_SKIP() << "cannot bind mount here: " << std::strerror(errno);
  }
  ASSERT_TRUE(mounts.Bind(outside + "/dir", At(directory))) << std::strerror(errno);

  // A file elsewhere, deleted: still found.
  const std::string deleted = PathWhere([&](const std::string& path, const Node& node) {
    return IsFile(node) && node.links == 1 && path != file && !path.starts_with(directory + "/");
  });
  ASSERT_EQ(::unlink(At(deleted).c_str()), 0);
  const absl::StatusOr<std::vector<checker::Finding>> walked = checker_->VerifyAll();
  ASSERT_TRUE(walked.ok()) << walked.status();
  EXPECT_EQ(testing::Describe(*walked), "\n  " + deleted + ": missing (persistent)");
  EXPECT_GE(checker_->stats().skipped_under_mounts,
            2 + checker_->model().ChildNames(directory).size());
  for (int round = 0; round < 20; ++round) (void)checker_->Mutate(100);
  EXPECT_EQ(SnapshotOutside(), before);
}

INSTANTIATE_TEST_SUITE_P(Resolution, MetadataCheckerSafety, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Openat2" : "PerComponent";
                         });

}  // namespace
}  // namespace fscanary::metadata
