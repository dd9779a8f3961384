// Tampering behind the checker's back, one kind at a time: each is reported
// with its path and what differs.

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <xxhash.h>

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/metadata/checker_fixture.h"
#include "tests/checkers/metadata/metadata_test_support.h"

namespace fscanary::metadata {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::IsFile;
using testing::MetadataCheckerTest;
using ::testing::Pair;
using testing::PathsAndDetails;
using ::testing::UnorderedElementsAre;

// A grown tree, changed by the test with plain syscalls before a walk.
class Tampering : public MetadataCheckerTest {};

TEST_F(Tampering, DeletedEntryIsReportedMissing) {
  OpenGrown(200);
  const std::string path = PathWhere(
      [](const std::string&, const Node& node) { return IsFile(node) && node.links == 1; });
  ASSERT_EQ(::unlink(At(path).c_str()), 0);
  const std::vector<checker::Finding> findings = Verify();
  ASSERT_THAT(PathsAndDetails(findings), UnorderedElementsAre(Pair(path, "missing")));
  const checker::Finding& finding = findings[0];
  EXPECT_TRUE(finding.persistent);
  EXPECT_EQ(finding.kind, checker::FindingKind::kMetadataMismatch);
  EXPECT_EQ(finding.key.target_id, checker_->tree_id());
  // Keyed on the node, not its name or generation.
  EXPECT_EQ(finding.key.offset, checker_->model().paths.at(path));
  EXPECT_EQ(finding.key.expected_generation, 0u);
  EXPECT_EQ(finding.key.kind, 10u);
}

TEST_F(Tampering, RenamedFileIsMissingAtItsNameAndExtraAtTheNew) {
  OpenGrown(200);
  const std::string path = PathWhere(
      [](const std::string&, const Node& node) { return IsFile(node) && node.links == 1; });
  ASSERT_EQ(::rename(At(path).c_str(), At(path + "-moved").c_str()), 0);
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(Pair(path, "missing"), Pair(path + "-moved", "extra entry")));
}

TEST_F(Tampering, TruncatedFileIsReportedWithBothSizes) {
  OpenGrown(200);
  const std::string path = PathWhere([](const std::string&, const Node& node) {
    return IsFile(node) && node.links == 1 && node.layout.size > 100;
  });
  const uint64_t size = checker_->model().Find(path)->layout.size;
  ASSERT_EQ(::truncate(At(path).c_str(), 0), 0);
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(Pair(path, absl::StrCat("size: expected ", size, ", found 0"))));
}

TEST_F(Tampering, ContentChangedInPlaceIsReportedWithTheFirstDifferentByte) {
  OpenGrown(200);
  const std::string path = PathWhere([](const std::string&, const Node& node) {
    return IsFile(node) && node.links == 1 && !node.layout.extents.empty() &&
           node.layout.extents[0].offset == 0 && node.layout.extents[0].length > 20;
  });
  const int fd = ::open(At(path).c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char byte = 0;
  ASSERT_EQ(::pread(fd, &byte, 1, 17), 1);
  byte = static_cast<char>(~byte);
  ASSERT_EQ(::pwrite(fd, &byte, 1, 17), 1);
  ::close(fd);
  const std::vector<checker::Finding> findings = Verify();
  ASSERT_THAT(PathsAndDetails(findings),
              UnorderedElementsAre(Pair(path, AllOf(HasSubstr("content: expected XXH3"),
                                                    HasSubstr("first difference at byte 17")))));
  EXPECT_TRUE(findings[0].persistent);
}

TEST_F(Tampering, ChangedXattrIsReportedByName) {
  OpenGrown(200);
  const std::string path = PathWhere([](const std::string&, const Node& node) {
    return IsFile(node) && node.links == 1 && node.xattrs.contains("user.fscanary.a");
  });
  ASSERT_EQ(::setxattr(At(path).c_str(), "user.fscanary.a", "tampered", 8, 0), 0);
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(Pair(path, AllOf(HasSubstr("xattr user.fscanary.a: expected"),
                                                    HasSubstr("found \"tampered\"")))));
}

TEST_F(Tampering, RetargetedSymlinkIsReportedWithBothTargets) {
  OpenGrown(200);
  const std::string path = PathWhere(
      [](const std::string&, const Node& node) { return node.type == NodeType::kSymlink; });
  ASSERT_EQ(::unlink(At(path).c_str()), 0);
  ASSERT_EQ(::symlink("elsewhere", At(path).c_str()), 0);
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(Pair(path, AllOf(HasSubstr("symlink target: expected"),
                                                    HasSubstr("found \"elsewhere\"")))));
}

TEST_F(Tampering, ExtraFileIsReported) {
  OpenGrown(200);
  const std::string directory = PathWhere(
      [](const std::string&, const Node& node) { return node.type == NodeType::kDirectory; });
  std::ofstream(At(directory + "/intruder")) << "x";
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(Pair(directory + "/intruder", "extra entry")));
}

// The walk meets the two names in order; whichever it meets first, the one
// finding names the name that was removed.
class RemovedHardLink : public Tampering, public ::testing::WithParamInterface<size_t> {};

TEST_P(RemovedHardLink, IsOneFindingAtTheRemovedNameWithTheOtherNamesLinkCount) {
  OpenGrown(300);
  const std::vector<std::string> names = NamesOfAFileWithLinks(2);
  ASSERT_EQ(names.size(), 2u);
  const std::string& removed = names[GetParam()];
  const std::string& kept = names[1 - GetParam()];
  ASSERT_EQ(::unlink(At(removed).c_str()), 0);
  const std::vector<checker::Finding> findings = Verify();
  ASSERT_THAT(
      PathsAndDetails(findings),
      UnorderedElementsAre(Pair(removed, absl::StrCat("missing (a hard link: ", kept,
                                                      " has nlink 1 where 2 is expected)"))));
  EXPECT_EQ(findings[0].key.offset, checker_->model().paths.at(kept));
}

INSTANTIATE_TEST_SUITE_P(WhicheverNameTheWalkMeetsFirst, RemovedHardLink,
                         ::testing::Values(size_t{0}, size_t{1}),
                         [](const ::testing::TestParamInfo<size_t>& param_info) {
                           return param_info.param == 0 ? "TheRemovedOne" : "TheKeptOne";
                         });

TEST_F(Tampering, TwoRemovedNamesOfOneFileAreOneFinding) {
  OpenGrown(300);
  const std::string path = PathWhere(
      [](const std::string&, const Node& node) { return IsFile(node) && node.links >= 3; });
  ASSERT_FALSE(path.empty());
  const std::vector<std::string> names =
      checker_->model().PathsOf(checker_->model().paths.at(path));
  ASSERT_GE(names.size(), 3u);
  ASSERT_EQ(::unlink(At(names[1]).c_str()), 0);
  ASSERT_EQ(::unlink(At(names[2]).c_str()), 0);
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(
                  Pair(names[1], AllOf(HasSubstr(absl::StrCat("missing, as are ", names[2])),
                                       HasSubstr(" has nlink ")))));
}

TEST_F(Tampering, DirectoryReplacedByAFileIsReportedWithTypes) {
  OpenGrown(200);
  const std::string directory = PathWhere([&](const std::string& path, const Node& node) {
    return node.type == NodeType::kDirectory && checker_->model().ChildNames(path).empty();
  });
  ASSERT_EQ(::rmdir(At(directory).c_str()), 0);
  std::ofstream(At(directory)) << "x";
  EXPECT_THAT(PathsAndDetails(Verify()),
              UnorderedElementsAre(Pair(directory, "type: expected directory, found file")));
}

}  // namespace
}  // namespace fscanary::metadata
