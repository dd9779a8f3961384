// The metadata checker on real filesystems made on loop devices (root only):
// ext4, ext4 with inline data (files of 60 bytes or less live in the inode),
// XFS and btrfs. Each grows a tree and verifies it clean (again after an
// unmount and mount, so what was checked is on the device), reports every
// kind of tampering with its path, and survives kill -9.

#include <fcntl.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "checkers/metadata/metadata_checker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/guard/scratch_filesystem.h"
#include "tests/checkers/block/guard/system_fixtures.h"
#include "tests/checkers/metadata/metadata_test_support.h"

namespace fscanary::metadata {
namespace {

namespace fs = std::filesystem;
using guard::testing::LoopDevice;
using guard::testing::RunTool;
using guard::testing::ScopedMount;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr uint64_t kImageBytes = 320ull << 20;

std::vector<std::string> MkfsArguments(const std::string& kind, const std::string& device) {
  if (kind == "ext4") return {"mkfs.ext4", "-q", "-F", device};
  if (kind == "ext4-inline") return {"mkfs.ext4", "-q", "-F", "-O", "inline_data", device};
  if (kind == "xfs") return {"mkfs.xfs", "-q", "-f", device};
  return {"mkfs.btrfs", "-q", "-f", device};
}

// Like guard::testing::ScratchFilesystem, but with mkfs options and a
// remount (to read back from the device rather than the page cache).
class Filesystem {
 public:
  static absl::StatusOr<std::unique_ptr<Filesystem>> Make(const std::string& kind) {
    std::unique_ptr<Filesystem> made(new Filesystem());
    const fs::path image = made->dir_.path() / "image";
    made->image_ = image;
    made->mount_point_ = made->dir_.path() / "mnt";
    fs::create_directories(made->mount_point_);
    fs::create_directories(made->dir_.path() / "state");
    { std::ofstream create(image); }
    fs::resize_file(image, kImageBytes);
    absl::StatusOr<LoopDevice> loop = LoopDevice::Attach(image, {});
    if (!loop.ok()) return loop.status();
    made->loop_ = std::make_unique<LoopDevice>(*std::move(loop));
    if (auto out = RunTool(MkfsArguments(kind, made->loop_->path())); !out.ok()) {
      return out.status();
    }
    if (absl::Status mounted = made->Mount(); !mounted.ok()) return mounted;
    return made;
  }
  ~Filesystem() {
    mount_.reset();
    loop_.reset();
  }

  absl::Status Remount() {
    mount_.reset();
    return Mount();
  }
  std::string root() const { return (mount_point_ / "tree").string(); }

  // Unmounted, overwrites 8 bytes in every 4 KiB unit of the image holding
  // `needle` (every copy: live block, journal or log, btrfs DUP mirror), as
  // a misdirected or lost write below the filesystem would; then mounts
  // again. Returns the units changed.
  absl::StatusOr<int> CorruptEveryCopyOf(const std::string& needle) {
    mount_.reset();
    std::fstream image(image_, std::ios::in | std::ios::out | std::ios::binary);
    std::string unit(4096, '\0');
    int changed = 0;
    for (uint64_t offset = 0; offset < kImageBytes; offset += unit.size()) {
      image.seekg(static_cast<std::streamoff>(offset));
      image.read(unit.data(), static_cast<std::streamsize>(unit.size()));
      const size_t at = unit.find(needle);
      if (at == std::string::npos) continue;
      image.seekp(static_cast<std::streamoff>(offset + at + 16));
      image.write("\xa5\xa5\xa5\xa5\xa5\xa5\xa5\xa5", 8);
      ++changed;
    }
    image.close();
    if (absl::Status mounted = Mount(); !mounted.ok()) return mounted;
    return changed;
  }
  // The manifest lives outside the filesystem under test.
  std::string state_dir() const { return (dir_.path() / "state").string(); }

 private:
  Filesystem() = default;
  absl::Status Mount() {
    absl::StatusOr<ScopedMount> mount = ScopedMount::Mount(loop_->path(), mount_point_);
    if (!mount.ok()) return mount.status();
    mount_.emplace(*std::move(mount));
    return absl::OkStatus();
  }

  guard::testing::TempDir dir_;
  fs::path image_;
  fs::path mount_point_;
  std::unique_ptr<LoopDevice> loop_;
  std::optional<ScopedMount> mount_;
};

class MetadataOnRealFilesystem : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string type = GetParam() == "ext4-inline" ? "ext4" : GetParam();
    if (const std::string reason = guard::testing::ScratchFilesystemUnavailableReason(type);
        !reason.empty()) {
      GTEST_SKIP() << reason;
    }
    auto made = Filesystem::Make(GetParam());
    ASSERT_TRUE(made.ok()) << made.status();
    fs_ = *std::move(made);
  }

  MetadataOptions Options(uint64_t entries) const {
    return testing::TestOptions(fs_->root(), fs_->state_dir(), entries);
  }
  std::string At(const std::string& path) const { return fs_->root() + "/" + path; }

  void OpenGrown(uint64_t entries) {
    auto opened = MetadataChecker::Open(Options(entries), nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    checker_ = *std::move(opened);
    ASSERT_TRUE(testing::Grow(*checker_, entries).ok());
  }

  std::vector<checker::Finding> Verify() {
    auto findings = checker_->VerifyAll();
    EXPECT_TRUE(findings.ok()) << findings.status();
    return findings.ok() ? *findings : std::vector<checker::Finding>{};
  }

  // Paths of distinct single-link files, `count` of them, that satisfy `predicate`.
  std::vector<std::string> SingleLinkFiles(size_t count,
                                           const std::function<bool(const Node&)>& predicate) {
    std::vector<std::string> paths;
    for (const auto& [path, id] : checker_->model().paths) {
      const Node& node = checker_->model().nodes.at(id);
      if (node.type == NodeType::kFile && node.links == 1 && predicate(node)) {
        paths.push_back(path);
      }
      if (paths.size() == count) break;
    }
    EXPECT_EQ(paths.size(), count);
    return paths;
  }

  std::unique_ptr<Filesystem> fs_;
  std::unique_ptr<MetadataChecker> checker_;
};

TEST_P(MetadataOnRealFilesystem, GrownTreeVerifiesCleanBeforeAndAfterARemount) {
  OpenGrown(700);
  const testing::EntryCounts counts = testing::CountEntries(checker_->model());
  EXPECT_GE(counts.largest_directory, 300u);
  EXPECT_GE(counts.max_depth, 3);
  EXPECT_GE(counts.hard_linked_files, 3u);
  EXPECT_GE(counts.symlinks, 10u);
  EXPECT_GE(counts.sparse_files, 1u);
  EXPECT_GE(counts.small_files, 20u);
  EXPECT_GE(counts.with_xattrs, 10u);
  ASSERT_TRUE(checker_->Mutate(300).ok());
  EXPECT_EQ(checker_->stats().ops_not_done, 0u) << checker_->stats().last_error;
  std::vector<checker::Finding> findings = Verify();
  EXPECT_TRUE(findings.empty()) << testing::Describe(findings);

  checker_.reset();
  ASSERT_TRUE(fs_->Remount().ok());
  auto reopened = MetadataChecker::Open(Options(700), nullptr);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  checker_ = *std::move(reopened);
  const uint64_t start = io::MonotonicNanos();
  findings = Verify();
  const double seconds = static_cast<double>(io::MonotonicNanos() - start) / 1e9;
  EXPECT_TRUE(findings.empty()) << testing::Describe(findings);
  const checker::Activity activity = checker_->TakeActivity();
  std::cout << GetParam() << ": cold verification of " << activity.entries_verified << " entries ("
            << activity.bytes_verified << " bytes) in " << seconds << " s, "
            << static_cast<double>(activity.entries_verified) / seconds << " entries/s\n";
}

TEST_P(MetadataOnRealFilesystem, EveryKindOfTamperingIsReportedWithItsPath) {
  OpenGrown(400);
  const TreeModel& model = checker_->model();
  const std::vector<std::string> files = SingleLinkFiles(
      5, [](const Node& node) { return node.layout.size > 100 && node.xattrs.empty(); });
  const std::vector<std::string> with_xattr =
      SingleLinkFiles(1, [](const Node& node) { return node.xattrs.contains("user.fscanary.a"); });
  const std::optional<std::string> symlink = testing::FindPath(
      model, [](const std::string&, const Node& node) { return node.type == NodeType::kSymlink; });
  const std::optional<std::string> linked =
      testing::FindPath(model, [](const std::string&, const Node& node) {
        return node.type == NodeType::kFile && node.links == 2;
      });
  const std::optional<std::string> directory =
      testing::FindPath(model, [](const std::string& path, const Node& node) {
        return node.type == NodeType::kDirectory && DepthOf(path) >= 1;
      });
  ASSERT_TRUE(files.size() == 5 && with_xattr.size() == 1 && symlink && linked && directory);
  const std::vector<std::string> names = model.PathsOf(model.paths.at(*linked));
  ASSERT_EQ(names.size(), 2u);
  const uint64_t truncated_size = model.Find(files[2])->layout.size;

  ASSERT_EQ(::unlink(At(files[0]).c_str()), 0);
  ASSERT_EQ(::rename(At(files[1]).c_str(), At(files[1] + "-moved").c_str()), 0);
  ASSERT_EQ(::truncate(At(files[2]).c_str(), 0), 0);
  {
    // Same size, one byte different, as a misdirected block would leave it.
    const int fd = ::open(At(files[3]).c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, 50), 1);
    byte = static_cast<char>(~byte);
    ASSERT_EQ(::pwrite(fd, &byte, 1, 50), 1);
    ASSERT_EQ(::fsync(fd), 0);
    ::close(fd);
  }
  ASSERT_EQ(::setxattr(At(with_xattr[0]).c_str(), "user.fscanary.a", "tampered", 8, 0), 0);
  ASSERT_EQ(::unlink(At(*symlink).c_str()), 0);
  ASSERT_EQ(::symlink("elsewhere", At(*symlink).c_str()), 0);
  std::ofstream(At(*directory + "/intruder")) << "x";
  ASSERT_EQ(::unlink(At(names[0]).c_str()), 0);
  ::sync();

  EXPECT_THAT(
      testing::PathsAndDetails(Verify()),
      UnorderedElementsAre(
          Pair(files[0], "missing"), Pair(files[1], "missing"),
          Pair(files[1] + "-moved", "extra entry"),
          Pair(files[2], absl::StrCat("size: expected ", truncated_size, ", found 0")),
          Pair(files[3], HasSubstr("first difference at byte 50")),
          Pair(with_xattr[0], AllOf(HasSubstr("xattr user.fscanary.a"), HasSubstr("tampered"))),
          Pair(*symlink, AllOf(HasSubstr("symlink target"), HasSubstr("elsewhere"))),
          Pair(*directory + "/intruder", "extra entry"),
          Pair(names[0], absl::StrCat("missing (a hard link: ", names[1],
                                      " has nlink 1 where 2 is expected)"))));
}

TEST_P(MetadataOnRealFilesystem, KillAtRandomMomentsNeverYieldsAFinding) {
  MetadataOptions options = Options(300);
  options.growth_changes_per_step = 16;
  options.changes_per_round = 8;
  const testing::CrashLoopResult growing = testing::RunCrashLoop(options, 4, io::RandomU64());
  {
    auto opened = MetadataChecker::Open(options, nullptr);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_TRUE(testing::Grow(**opened, 300).ok());
  }
  const testing::CrashLoopResult changing = testing::RunCrashLoop(options, 4, io::RandomU64());
  std::cout << GetParam() << " kill -9 while growing: " << testing::Summarize(growing) << "\n"
            << GetParam() << " kill -9 while changing: " << testing::Summarize(changing) << "\n";
  EXPECT_EQ(growing.kills + changing.kills, 8);
  EXPECT_EQ(growing.findings + changing.findings, 0u);
  EXPECT_GT(changing.last_seq, changing.first_seq);
  // What the crashes left is on the device, not only in the page cache.
  ASSERT_TRUE(fs_->Remount().ok());
  auto reopened = MetadataChecker::Open(options, nullptr);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  auto findings = (*reopened)->VerifyAll();
  ASSERT_TRUE(findings.ok());
  EXPECT_TRUE(findings->empty()) << testing::Describe(*findings);
}

// What the 2018 blk-mq bug did to ext4: a directory block overwritten below
// the filesystem. The checker reports, as persistent findings, the directory
// and entries the filesystem can no longer read (EBADMSG, EUCLEAN, EIO).
TEST_P(MetadataOnRealFilesystem, CorruptedDirectoryBlockIsReported) {
  OpenGrown(700);
  const TreeModel& model = checker_->model();
  const std::string big(kBigDirectoryName);
  // A long name in the big directory that no symlink target repeats.
  std::string victim;
  for (const std::string& name : model.ChildNames(big)) {
    if (name.size() < 60) continue;
    const bool in_a_target =
        std::any_of(model.nodes.begin(), model.nodes.end(),
                    [&](const auto& n) { return n.second.target.find(name) != std::string::npos; });
    if (!in_a_target) {
      victim = name;
      break;
    }
  }
  ASSERT_FALSE(victim.empty());
  checker_.reset();
  auto changed = fs_->CorruptEveryCopyOf(victim);
  ASSERT_TRUE(changed.ok()) << changed.status();
  ASSERT_GT(*changed, 0);
  auto reopened = MetadataChecker::Open(Options(700), nullptr);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  checker_ = *std::move(reopened);
  const std::vector<checker::Finding> findings = Verify();
  std::cout << GetParam() << ": " << *changed << " copies of \"" << victim.substr(0, 24)
            << "...\" overwritten, " << findings.size() << " findings, first:"
            << testing::Describe(std::vector<checker::Finding>(
                   findings.begin(), findings.begin() + std::min<size_t>(3, findings.size())))
            << "\n";
  ASSERT_FALSE(findings.empty());
  const auto in_big = [&](const checker::Finding& finding) {
    return finding.path == big || finding.path.starts_with(big + "/");
  };
  // A btrfs leaf holds the items of many inodes, all of which become
  // unreadable; ext4 and XFS directory blocks hold only the directory's.
  const bool confined = GetParam() != "btrfs";
  // Past kMaxFindingsPerWalk the walk sums up the rest in one finding (the
  // big directory may be among those withheld).
  const bool capped = findings.back().detail.starts_with("tree diverged: ");
  EXPECT_TRUE(std::any_of(findings.begin(), findings.end(), in_big) || (!confined && capped));
  int outside_big = 0;
  int transient = 0;
  for (const checker::Finding& finding : findings) {
    if (!in_big(finding) && !finding.detail.starts_with("tree diverged: ")) ++outside_big;
    if (!finding.persistent) ++transient;
  }
  EXPECT_TRUE(!confined || outside_big == 0) << outside_big << " findings outside " << big;
  EXPECT_EQ(transient, 0);
}

INSTANTIATE_TEST_SUITE_P(Filesystems, MetadataOnRealFilesystem,
                         ::testing::Values("ext4", "ext4-inline", "xfs", "btrfs"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace fscanary::metadata
