// Opening a file target: once, never through a symbolic link, the label
// checked through the descriptor everything then goes through; refused when
// another owner's signature is there, even under an old fscanary label.

#include "checkers/block/target/scratch_target.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/aligned_buffer.h"
#include "tests/checkers/block/target/target_test_support.h"
#include "tests/status_assertions.h"
#include "tests/temp_dir.h"

namespace fscanary::target {
namespace {

namespace fs = std::filesystem;
using testing::AllZero;
using testing::GetBytes;
using ::testing::HasSubstr;
using testing::kGoldenLabel;
using testing::MakeVersion1Target;
using testing::PutBytes;

constexpr uint64_t kSize = 4096 + 256 * 4096;

class FileTarget : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return dir_.Join(name); }
  std::string StateDir() const { return dir_.Join("state"); }

  // A target labelled by the agent itself (created).
  void Create(const std::string& path) {
    ASSERT_OK_AND_ASSIGN(const WritableTarget created,
                         OpenForWrite({.path = path, .state_dir = StateDir(), .size = kSize}));
    ASSERT_TRUE(created.created);
  }

  fscanary::testing::TempDir dir_;
};

void ExpectSymlinkRefusal(const absl::Status& status) {
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("symbolic link"));
}

TEST_F(FileTarget, SymlinkToALabelledFileIsRefusedAtOpen) {
  Create(Path("real"));
  fs::create_symlink(Path("real"), Path("link"));
  ExpectSymlinkRefusal(OpenForWrite({.path = Path("link"), .state_dir = StateDir()}).status());
  ExpectSymlinkRefusal(OpenForVerify(Path("link"), StateDir()).status());
}

TEST_F(FileTarget, ADanglingSymlinkIsNotCreatedThrough) {
  fs::create_symlink(Path("victim"), Path("link"));
  ExpectSymlinkRefusal(
      OpenForWrite({.path = Path("link"), .state_dir = StateDir(), .size = kSize}).status());
  EXPECT_FALSE(fs::exists(Path("victim")));
}

// A power cut while the agent makes a new file target must not leave an
// unlabelled file at the target's path: every later start would refuse it as
// not the agent's. The path appears only once the label is durable.
TEST_F(FileTarget, ANewFileIsNamedOnlyOnceItIsLabelled) {
  bool named_before_its_label = true;
  uint64_t target_id = 0;
  {
    ASSERT_OK_AND_ASSIGN(
        const WritableTarget created,
        OpenForWrite(
            {.path = Path("new"), .state_dir = StateDir(), .size = kSize, .after_label_check = [&] {
               named_before_its_label = fs::exists(Path("new"));
             }}));
    EXPECT_TRUE(created.created);
    target_id = created.target.label.target_id;
  }  // its state's lock released
  EXPECT_FALSE(named_before_its_label);
  EXPECT_FALSE(fs::exists(Path(".new.fscanary-new")));
  ASSERT_OK_AND_ASSIGN(const WritableTarget opened,
                       OpenForWrite({.path = Path("new"), .state_dir = StateDir()}));
  EXPECT_EQ(opened.target.label.target_id, target_id);
}

TEST_F(FileTarget, WhatACutLeftUnderTheHiddenNameIsReplaced) {
  PutBytes(Path(".new.fscanary-new"), 0, std::string(4096, 'x'));  // no label
  {
    ASSERT_OK_AND_ASSIGN(
        const WritableTarget created,
        OpenForWrite({.path = Path("new"), .state_dir = StateDir(), .size = kSize}));
    EXPECT_TRUE(created.created);
  }  // its state's lock released
  EXPECT_FALSE(fs::exists(Path(".new.fscanary-new")));
  ASSERT_OK(OpenForVerify(Path("new"), StateDir()).status());
}

TEST_F(FileTarget, AFailedCreationLeavesNothingBehind) {
  // The state directory is a file: the state cannot be made.
  PutBytes(StateDir(), 0, "not a directory");
  EXPECT_FALSE(OpenForWrite({.path = Path("new"), .state_dir = StateDir(), .size = kSize}).ok());
  EXPECT_FALSE(fs::exists(Path("new")));
  EXPECT_FALSE(fs::exists(Path(".new.fscanary-new")));
}

TEST_F(FileTarget, AnotherUsersFileUnderTheHiddenNameIsNotRemoved) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  PutBytes(Path(".new.fscanary-new"), 0, std::string(4096, 'o'));
  ASSERT_EQ(::chown(Path(".new.fscanary-new").c_str(), 65534, 65534), 0);
  const absl::Status refused =
      OpenForWrite({.path = Path("new"), .state_dir = StateDir(), .size = kSize}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()), HasSubstr("not a regular file of this user"));
  EXPECT_EQ(fs::file_size(Path(".new.fscanary-new")), 4096u);
  EXPECT_FALSE(fs::exists(Path("new")));
}

TEST_F(FileTarget, ALinkUnderTheHiddenNameIsNeitherFollowedNorRemoved) {
  PutBytes(Path("victim"), 0, std::string(4096, 'v'));
  fs::create_symlink(Path("victim"), Path(".new.fscanary-new"));
  ExpectSymlinkRefusal(
      OpenForWrite({.path = Path("new"), .state_dir = StateDir(), .size = kSize}).status());
  EXPECT_TRUE(fs::is_symlink(Path(".new.fscanary-new")));
  EXPECT_EQ(fs::file_size(Path("victim")), 4096u);
  EXPECT_FALSE(fs::exists(Path("new")));
}

bool KernelHasOpenat2() {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  const long fd = ::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof(how));
  if (fd >= 0) ::close(static_cast<int>(fd));
  return fd >= 0;
}

TEST_F(FileTarget, ASymlinkedParentDirectoryIsRefused) {
  if (!KernelHasOpenat2()) GTEST_SKIP() << "no openat2 (Linux < 5.6): only O_NOFOLLOW applies";
  fs::create_directory(Path("real_dir"));
  Create(Path("real_dir/target"));
  fs::create_directory_symlink(Path("real_dir"), Path("link_dir"));
  ExpectSymlinkRefusal(
      OpenForWrite({.path = Path("link_dir/target"), .state_dir = StateDir()}).status());
}

// The path is swapped for a link to another file between the label check and
// the first use: everything still goes to the file that was checked.
TEST_F(FileTarget, APathSwappedAfterTheCheckIsNeverWritten) {
  Create(Path("target"));
  PutBytes(Path("victim"), 0, std::string(kSize, 'v'));
  ASSERT_OK_AND_ASSIGN(
      const WritableTarget opened,
      OpenForWrite({.path = Path("target"), .state_dir = StateDir(), .after_label_check = [&] {
                      fs::rename(Path("target"), Path("moved"));
                      fs::create_symlink(Path("victim"), Path("target"));
                    }}));

  io::AlignedBuffer block(4096);
  std::fill(block.data(), block.data() + 4096, std::byte{0x5a});
  ASSERT_OK(io::WriteAll(opened.target.fd.get(), block.span(), 4096, opened.target.path));

  const std::vector<std::byte> victim = GetBytes(Path("victim"), 4096, 4096);
  EXPECT_TRUE(
      std::all_of(victim.begin(), victim.end(), [](std::byte b) { return b == std::byte{'v'}; }));
  const std::vector<std::byte> moved = GetBytes(Path("moved"), 4096, 4096);
  EXPECT_TRUE(
      std::all_of(moved.begin(), moved.end(), [](std::byte b) { return b == std::byte{0x5a}; }));
  // And a second descriptor on the path is refused: it is not the file checked.
  const absl::Status reopened = Reopen(opened.target, O_RDWR).status();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kAborted) << reopened;
  EXPECT_THAT(std::string(reopened.message()), HasSubstr("no longer the target"));
}

TEST_F(FileTarget, ReopenOfAnUnchangedPathIsTheSameFile) {
  Create(Path("target"));
  ASSERT_OK_AND_ASSIGN(const WritableTarget opened,
                       OpenForWrite({.path = Path("target"), .state_dir = StateDir()}));
  ASSERT_OK_AND_ASSIGN(const io::UniqueFd again, Reopen(opened.target, O_RDONLY));
  ASSERT_OK_AND_ASSIGN(const bool same, io::SameFile(again.get(), opened.target.fd.get(), "t"));
  EXPECT_TRUE(same);
}

TEST_F(FileTarget, ReopenAfterTheFileWasReplacedIsRefused) {
  Create(Path("target"));
  ASSERT_OK_AND_ASSIGN(const WritableTarget opened,
                       OpenForWrite({.path = Path("target"), .state_dir = StateDir()}));
  PutBytes(Path("other"), 0, "someone else's");
  fs::rename(Path("other"), Path("target"));
  EXPECT_EQ(Reopen(opened.target, O_RDWR).status().code(), absl::StatusCode::kAborted);
}

TEST_F(FileTarget, AnOldLabelIsStillAccepted) {
  MakeVersion1Target(Path("old"), kSize, StateDir());
  ASSERT_OK_AND_ASSIGN(const WritableTarget opened,
                       OpenForWrite({.path = Path("old"), .state_dir = StateDir()}));
  EXPECT_EQ(opened.target.label, kGoldenLabel);
}

TEST_F(FileTarget, AnOldLabelUnderAnLvmLabelIsRefusedNamingIt) {
  MakeVersion1Target(Path("old"), kSize, StateDir());
  testing::PutLvmLabel(Path("old"));
  const absl::Status write = OpenForWrite({.path = Path("old"), .state_dir = StateDir()}).status();
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(write.message()),
              HasSubstr(Path("old") + " carries a LVM2_member signature (magic at byte 512)"));
  EXPECT_THAT(std::string(write.message()), HasSubstr("fscanary-agent take-over"));
  const absl::Status verify = OpenForVerify(Path("old"), StateDir()).status();
  EXPECT_EQ(verify.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(verify.message()), HasSubstr("LVM2_member"));
}

TEST_F(FileTarget, AnOldLabelUnderAnExtSuperblockIsRefusedNamingIt) {
  MakeVersion1Target(Path("old"), kSize, StateDir());
  testing::PutExtSuperblockMagic(Path("old"));
  const absl::Status write = OpenForWrite({.path = Path("old"), .state_dir = StateDir()}).status();
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(write.message()),
              HasSubstr("an ext2/3/4 filesystem (magic at byte 1080)"));
}

TEST_F(FileTarget, ASignatureInTheDataAreaIsRefusedUnderANewLabelToo) {
  Create(Path("target"));
  PutBytes(Path("target"), 65600, "_BHRfS_M");
  const absl::Status write =
      OpenForWrite({.path = Path("target"), .state_dir = StateDir()}).status();
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(write.message()), HasSubstr("a btrfs filesystem (magic at byte 65600)"));
}

TEST_F(FileTarget, AnExistingFileWithoutALabelIsRefusedNamingTheTakeOverCommand) {
  PutBytes(Path("data"), 0, "precious");
  const absl::Status write =
      OpenForWrite({.path = Path("data"), .state_dir = StateDir(), .size = kSize}).status();
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(write.message()), HasSubstr("carries no fscanary label"));
  EXPECT_THAT(std::string(write.message()),
              HasSubstr("fscanary-agent take-over --target " + Path("data")));
  EXPECT_EQ(fs::file_size(Path("data")), 8u);
}

TEST_F(FileTarget, AnEmptyExistingFileIsNotTheAgentsEither) {
  PutBytes(Path("empty"), 0, "");
  const absl::Status write =
      OpenForWrite({.path = Path("empty"), .state_dir = StateDir(), .size = kSize}).status();
  EXPECT_EQ(write.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(fs::file_size(Path("empty")), 0u);
}

TEST_F(FileTarget, ANewLabelIsVersion2AndCoversTheWholeLabelRegion) {
  Create(Path("target"));
  const std::vector<std::byte> first = GetBytes(Path("target"), 0, 4096);
  EXPECT_EQ(ParseLabel(first).version, kLabelVersion);
  EXPECT_TRUE(AllZero(Path("target"), 56, 4096 - 56));
}

}  // namespace
}  // namespace fscanary::target
