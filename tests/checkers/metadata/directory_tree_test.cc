#include "io/directory_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/status.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/guard/system_fixtures.h"
#include "tests/temp_dir.h"

namespace fscanary::io {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A root with a symlink "escape" to a directory outside it and "victim" to a
// file outside it, for both ways of resolving paths.
class DirectoryTreeConfinement : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    root_ = base_.Join("root");
    outside_ = base_.Join("outside");
    fs::create_directories(root_);
    fs::create_directories(outside_);
    std::ofstream(outside_ + "/file") << "outside";
    fs::create_directory_symlink(outside_, root_ + "/escape");
    fs::create_symlink(outside_ + "/file", root_ + "/victim");
    fs::create_directories(root_ + "/real");
    auto tree = DirectoryTree::Open(root_, {.use_openat2 = GetParam()});
    ASSERT_TRUE(tree.ok()) << tree.status();
    tree_.emplace(*std::move(tree));
  }

  void ExpectOutsideUntouched() {
    EXPECT_EQ(ReadFile(outside_ + "/file"), "outside");
    int entries = 0;
    for (const auto& entry : fs::directory_iterator(outside_)) {
      EXPECT_EQ(entry.path().filename(), "file");
      ++entries;
    }
    EXPECT_EQ(entries, 1);
  }

  testing::TempDir base_;
  std::string root_;
  std::string outside_;
  std::optional<DirectoryTree> tree_;
};

TEST_P(DirectoryTreeConfinement, SymlinkedDirectoryIsNeverEnteredToWrite) {
  EXPECT_FALSE(tree_->CreateFile("escape/new", 0644).ok());
  EXPECT_FALSE(tree_->MakeDirectory("escape/dir", 0755).ok());
  EXPECT_FALSE(tree_->MakeSymlink("x", "escape/link").ok());
  EXPECT_FALSE(tree_->Unlink("escape/file").ok());
  EXPECT_FALSE(tree_->Rename("escape/file", "real/stolen", false).ok());
  EXPECT_FALSE(tree_->Link("escape/file", "real/linked").ok());
  EXPECT_FALSE(tree_->OpenFile("escape/file", /*writable=*/true).ok());
  EXPECT_FALSE(tree_->OpenDirectory("escape").ok());
  ExpectOutsideUntouched();
}

TEST_P(DirectoryTreeConfinement, SymlinkToAFileIsNeverOpened) {
  auto opened = tree_->OpenFile("victim", /*writable=*/true);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition) << opened.status();
  ExpectOutsideUntouched();
}

TEST_P(DirectoryTreeConfinement, SymlinksAreStatedAndReadNotFollowed) {
  auto stat = tree_->Stat("victim");
  ASSERT_TRUE(stat.ok()) << stat.status();
  ASSERT_TRUE(stat->has_value());
  EXPECT_EQ((*stat)->type, EntryType::kSymlink);
  EXPECT_EQ(*tree_->ReadSymlink("victim"), outside_ + "/file");
  // Through a symlinked directory an entry is simply not there.
  auto through = tree_->Stat("escape/file");
  ASSERT_TRUE(through.ok()) << through.status();
  EXPECT_FALSE(through->has_value());
}

TEST_P(DirectoryTreeConfinement, RenamingAndRemovingASymlinkTouchesOnlyTheLink) {
  ASSERT_TRUE(tree_->Rename("victim", "real/moved", /*replace=*/false).ok());
  ASSERT_TRUE(tree_->Unlink("real/moved").ok());
  ASSERT_TRUE(tree_->RemoveTree("escape").ok());
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ + "/escape")));
  ExpectOutsideUntouched();
}

TEST_P(DirectoryTreeConfinement, RemoveTreeDoesNotDescendThroughSymlinks) {
  fs::create_directories(root_ + "/real/sub");
  fs::create_directory_symlink(outside_, root_ + "/real/sub/escape");
  std::ofstream(root_ + "/real/sub/f") << "x";
  ASSERT_TRUE(tree_->RemoveTree("real").ok());
  EXPECT_FALSE(fs::exists(root_ + "/real"));
  ExpectOutsideUntouched();
}

TEST_P(DirectoryTreeConfinement, PathsThatCouldLeaveTheRootAreRefusedBeforeAnySyscall) {
  for (const std::string path : {"../outside/file", "/etc/passwd", "real/../../outside", "a//b",
                                 "./real", "real/", "real/."}) {
    EXPECT_EQ(tree_->CreateFile(path, 0644).status().code(), absl::StatusCode::kInvalidArgument)
        << path;
    EXPECT_EQ(tree_->Stat(path).status().code(), absl::StatusCode::kInvalidArgument) << path;
  }
  ExpectOutsideUntouched();
}

TEST_P(DirectoryTreeConfinement, CreatedEntriesHaveExactlyTheModeAsked) {
  const mode_t old_umask = ::umask(077);
  auto file = tree_->CreateFile("real/f", 0664);
  ASSERT_TRUE(tree_->MakeDirectory("real/d", 0755).ok());
  ::umask(old_umask);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*tree_->Stat("real/f"))->mode, 0664u);
  EXPECT_EQ((*tree_->Stat("real/d"))->mode, 0755u);
}

// Bind mounts over entries of the tree (root only): the same filesystem, so
// only the mount tells them apart. What is mounted there is never opened,
// stated, written or removed through the tree.
class DirectoryTreeMounts : public DirectoryTreeConfinement {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "bind mounts need root";
    DirectoryTreeConfinement::SetUp();
    std::ofstream(root_ + "/real/f") << "tree's";
    fs::create_directories(root_ + "/real/d");
    std::ofstream(root_ + "/real/d/inner") << "tree's";
    mounts_.emplace(base_.path());
    if (!mounts_->Bind(outside_ + "/file", root_ + "/real/f")) {
      GTEST_SKIP() << "cannot bind mount here: " << std::strerror(errno);
    }
    ASSERT_TRUE(mounts_->Bind(outside_, root_ + "/real/d")) << std::strerror(errno);
  }

  std::optional<guard::testing::BindMountsUnder> mounts_;
};

TEST_P(DirectoryTreeMounts, AFileMountedOverAnEntryIsNeitherOpenedNorStated) {
  for (const bool writable : {true, false}) {
    const absl::StatusOr<UniqueFd> opened = tree_->OpenFile("real/f", writable);
    EXPECT_EQ(ErrnoOf(opened.status()), EXDEV) << opened.status();
    EXPECT_NE(opened.status().message().find("a mount inside the tree"), std::string::npos);
  }
  EXPECT_EQ(ErrnoOf(tree_->Stat("real/f").status()), EXDEV);
  EXPECT_FALSE(tree_->Unlink("real/f").ok());
  EXPECT_FALSE(tree_->Rename("real/f", "real/g", /*replace=*/false).ok());
  ExpectOutsideUntouched();
}

TEST_P(DirectoryTreeMounts, ADirectoryMountedOverAnEntryIsNotEntered) {
  EXPECT_EQ(ErrnoOf(tree_->List("real/d").status()), EXDEV);
  EXPECT_EQ(ErrnoOf(tree_->Stat("real/d").status()), EXDEV);
  EXPECT_EQ(ErrnoOf(tree_->OpenFile("real/d/file", /*writable=*/true).status()), EXDEV);
  EXPECT_EQ(ErrnoOf(tree_->CreateFile("real/d/new", 0644).status()), EXDEV);
  EXPECT_FALSE(tree_->RemoveTree("real/d").ok());
  ExpectOutsideUntouched();
}

TEST_P(DirectoryTreeMounts, ADeviceMountedOverAnEntryIsNotLookedAt) {
  std::ofstream(root_ + "/real/masked") << "tree's";
  ASSERT_TRUE(mounts_->Bind("/dev/null", root_ + "/real/masked")) << std::strerror(errno);
  EXPECT_EQ(ErrnoOf(tree_->Stat("real/masked").status()), EXDEV);
  EXPECT_EQ(ErrnoOf(tree_->OpenFile("real/masked", /*writable=*/true).status()), EXDEV);
}

INSTANTIATE_TEST_SUITE_P(Resolution, DirectoryTreeMounts, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Openat2" : "PerComponent";
                         });

// The mount id's sources agree where they answer; this kernel has at least
// one, or no tree could be opened.
TEST(DirectoryTree, MountIdSourcesAgree) {
  testing::TempDir base;
  const int fd = ::open(base.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const UniqueFd closer(fd);
  const MountIds ids = DirectoryTree::ReadMountIds(fd);
  ASSERT_TRUE(ids.fdinfo.has_value()) << "no /proc/self/fdinfo";
  EXPECT_EQ(ids.statx.value_or(*ids.fdinfo), *ids.fdinfo);
  EXPECT_EQ(ids.handle.value_or(*ids.fdinfo), *ids.fdinfo);
  EXPECT_EQ(DirectoryTree::MountIdOf(fd), ids.fdinfo);
}

INSTANTIATE_TEST_SUITE_P(Resolution, DirectoryTreeConfinement, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Openat2" : "PerComponent";
                         });

TEST(DirectoryTree, RootThatIsASymlinkIsRefused) {
  testing::TempDir base;
  fs::create_directories(base.Join("real"));
  fs::create_directory_symlink(base.Join("real"), base.Join("link"));
  auto tree = DirectoryTree::Open(base.Join("link"), {});
  EXPECT_EQ(tree.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(tree.status().message().find("is a symlink"), std::string::npos) << tree.status();
}

TEST(DirectoryTree, MissingRootIsCreatedOnlyUnderAnExistingParent) {
  testing::TempDir base;
  EXPECT_TRUE(DirectoryTree::Open(base.Join("new"), {}).ok());
  EXPECT_TRUE(fs::is_directory(base.Join("new")));
  auto orphan = DirectoryTree::Open(base.Join("no/such/parent"), {});
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kFailedPrecondition) << orphan.status();
}

TEST(DirectoryTree, XattrsAreReadBackSortedAndFilteredByPrefix) {
  testing::TempDir base;
  auto tree = DirectoryTree::Open(base.path(), {});
  ASSERT_TRUE(tree.ok());
  auto fd = tree->CreateFile("f", 0600);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(DirectoryTree::SetXattr(fd->get(), "user.fscanary.b", "2", "f").ok());
  ASSERT_TRUE(DirectoryTree::SetXattr(fd->get(), "user.fscanary.a", "1", "f").ok());
  ASSERT_TRUE(DirectoryTree::SetXattr(fd->get(), "user.other", "3", "f").ok());
  auto xattrs = DirectoryTree::ReadXattrs(fd->get(), "user.fscanary.", "f");
  ASSERT_TRUE(xattrs.ok()) << xattrs.status();
  EXPECT_EQ(*xattrs, (std::vector<Xattr>{{"user.fscanary.a", "1"}, {"user.fscanary.b", "2"}}));
}

}  // namespace
}  // namespace fscanary::io
