// The review's findings, one test each: stable finding keys and untouched
// evidence, errors that are not corruption, hard links out of the root, the
// root's owner and mode, the manifest's temp file, and the walk's cap.

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <span>

#include "checkers/metadata/file_layout.h"
#include "checkers/metadata/manifest_codec.h"
#include "checkers/metadata/manifest_store.h"
#include "checkers/metadata/tree_mutator.h"
#include "checkers/metadata/tree_observer.h"
#include "common/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "io/directory_tree.h"
#include "tests/checkers/metadata/checker_fixture.h"
#include "tests/checkers/metadata/metadata_test_support.h"
#include "tests/immutable_tree.h"

namespace fscanary::metadata {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::IsFile;
using testing::MetadataCheckerTest;
using testing::ReadFile;
using testing::TestOptions;

class ReviewFixes : public MetadataCheckerTest {};

struct Seen {
  ino_t inode = 0;
  struct timespec mtime {};
  struct timespec ctime {};
  off_t size = 0;
  bool operator==(const Seen& other) const {
    return inode == other.inode && size == other.size && mtime.tv_sec == other.mtime.tv_sec &&
           mtime.tv_nsec == other.mtime.tv_nsec && ctime.tv_sec == other.ctime.tv_sec &&
           ctime.tv_nsec == other.ctime.tv_nsec;
  }
};

Seen StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return {.inode = st.st_ino, .mtime = st.st_mtim, .ctime = st.st_ctim, .size = st.st_size};
}

const checker::Finding* FindingAt(const std::vector<checker::Finding>& findings,
                                  const std::string& path) {
  for (const checker::Finding& finding : findings) {
    if (finding.path == path) return &finding;
  }
  return nullptr;
}

// A tampered file keeps one key through many busy rounds, walks and a
// restart, and the checker never touches it (nor renames what is above it)
// again; the same for an extra entry's directory.
TEST_F(ReviewFixes, FlaggedEntriesKeepTheirKeyAndAreNeverTouchedAgain) {
  OpenGrown(200);
  const std::string path = PathWhere([](const std::string& name, const Node& node) {
    return IsFile(node) && node.links == 1 && node.layout.size > 100 && DepthOf(name) >= 1;
  });
  const uint64_t node = checker_->model().paths.at(path);
  const uint64_t generation = checker_->model().Find(path)->generation;
  ASSERT_EQ(::truncate(At(path).c_str(), 0), 0);
  const std::string directory = PathWhere([&](const std::string& name, const Node& n) {
    return n.type == NodeType::kDirectory && DepthOf(name) >= 1 && name != ParentOf(path) &&
           !path.starts_with(name + "/");
  });
  const std::string intruder = directory + "/intruder";
  std::ofstream(At(intruder)) << "x";

  std::vector<checker::Finding> findings = Verify();
  const checker::Finding* first = FindingAt(findings, path);
  const checker::Finding* extra = FindingAt(findings, intruder);
  ASSERT_NE(first, nullptr) << testing::Describe(findings);
  ASSERT_NE(extra, nullptr) << testing::Describe(findings);
  const checker::FindingKey key = first->key;
  const checker::FindingKey extra_key = extra->key;
  EXPECT_EQ(key.offset, node);
  EXPECT_EQ(key.expected_generation, 0u);
  EXPECT_TRUE(checker_->model().flagged.contains(node));
  const Seen before = StatOf(At(path));

  const auto busy_rounds = [&] {
    for (int round = 0; round < 4; ++round) {
      ASSERT_TRUE(checker_->Mutate(200).ok());
      findings = Verify();
      const checker::Finding* again = FindingAt(findings, path);
      ASSERT_NE(again, nullptr) << "round " << round << ": " << testing::Describe(findings);
      EXPECT_EQ(again->key, key);
      const checker::Finding* extra_again = FindingAt(findings, intruder);
      ASSERT_NE(extra_again, nullptr) << "round " << round << ": " << testing::Describe(findings);
      EXPECT_EQ(extra_again->key, extra_key);
      ASSERT_EQ(checker_->model().paths.count(path), 1u);
      EXPECT_EQ(checker_->model().paths.at(path), node);
      EXPECT_EQ(checker_->model().Find(path)->generation, generation);
      EXPECT_TRUE(StatOf(At(path)) == before) << "the checker touched " << path;
    }
  };
  busy_rounds();
  // A restart keeps the flags (journal), and then the snapshot keeps them.
  checker_.reset();
  for (int reopen = 0; reopen < 1; ++reopen) {
    auto reopened = MetadataChecker::Open(TestOptions(Root(), State(), 200), nullptr);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    checker_ = *std::move(reopened);
    EXPECT_TRUE(checker_->model().flagged.contains(node));
    busy_rounds();
    checker_.reset();
  }
}

TEST(ReviewFixesCodec, SnapshotVersionOneIsStillReadAndFlagsRoundTrip) {
  ::fscanary::testing::TempDir base;
  TreeModel model;
  Op op{.kind = OpKind::kCreateFile, .seq = 1, .path = "f1", .node = 1, .mode = 0644};
  ASSERT_TRUE(ApplyOp(model, op).ok());
  FlagNode(model, 1);
  auto journal = ManifestJournal::Rewrite(base.path(), 7, 9, model);
  ASSERT_TRUE(journal.ok()) << journal.status();
  auto loaded = LoadManifest(base.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model, model);
  // A FLAG record in the journal.
  TreeModel unflagged = model;
  unflagged.flagged.clear();
  journal = ManifestJournal::Rewrite(base.path(), 7, 9, unflagged);
  ASSERT_TRUE(journal.ok());
  ASSERT_TRUE((*journal)->AppendFlag(1).ok());
  loaded = LoadManifest(base.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->model.flagged.contains(1));
  // A version 1 snapshot: the model without the flags section.
  const std::string snapshot_path = base.Join("metadata.snapshot");
  std::string body = "FSCMSNAP";
  body.append("\x01\x00\x00\x00", 4);
  body.append("\x07\0\0\0\0\0\0\0", 8);
  body.append("\x09\0\0\0\0\0\0\0", 8);
  const std::string encoded = EncodeModel(unflagged);
  body.append(encoded.substr(0, encoded.size() - 9));  // No flagged count, no xattr byte.
  const std::string frame = EncodeFrame(body);
  journal = ManifestJournal::Rewrite(base.path(), 7, 9, unflagged);  // Journal header only.
  ASSERT_TRUE(io::ReplaceFileDurably(snapshot_path, std::as_bytes(std::span(frame))).ok());
  loaded = LoadManifest(base.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model, unflagged);
}

TEST(ReviewFixesErrors, OnlyCorruptionErrnosAreFindings) {
  for (const int error : {EIO, EUCLEAN, EBADMSG, ESTALE}) {
    EXPECT_TRUE(IsCorruptionError(ErrnoToStatus(error, "read /x"), false)) << error;
  }
  EXPECT_TRUE(IsCorruptionError(ErrnoToStatus(ENODATA, "read /x"), true));
  EXPECT_FALSE(IsCorruptionError(ErrnoToStatus(ENODATA, "getxattr /x"), false));
  for (const int error : {EMFILE, ENFILE, ENOMEM, EACCES, EXDEV, EINTR, EPERM, ENOSPC}) {
    EXPECT_FALSE(IsCorruptionError(ErrnoToStatus(error, "open /x"), false)) << error;
    EXPECT_EQ(fscanary::ErrnoOf(ErrnoToStatus(error, "open /x")), error);
  }
  EXPECT_FALSE(IsCorruptionError(absl::DataLossError("Input/output"), false));
}

// Out of file descriptors in the middle of a walk: an error naming the path
// and errno, never a finding.
TEST_F(ReviewFixes, RunningOutOfFileDescriptorsIsAnErrorNotAFinding) {
  OpenGrown(200);
  ASSERT_TRUE(Verify().empty());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int highest = 0;
    for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
      highest = std::max(highest, std::stoi(entry.path().filename().string()));
    }
    const rlimit limit{.rlim_cur = static_cast<rlim_t>(highest + 1),
                       .rlim_max = static_cast<rlim_t>(highest + 1)};
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(10);
    // Whatever slots are left, taken.
    while (::open("/dev/null", O_RDONLY) >= 0) {
    }
    if (errno != EMFILE) ::_exit(11);
    auto walked = checker_->VerifyAll();
    if (walked.ok()) ::_exit(walked->empty() ? 3 : 2);
    const std::string message(walked.status().message());
    if (message.find("errno 24") == std::string::npos) ::_exit(4);
    if (message.find(Root()) == std::string::npos) ::_exit(5);
    auto stepped = checker_->Step(~uint64_t{0});
    if (stepped.ok()) ::_exit(6);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "2: EMFILE became findings; 3: no error; 4/5: message lacks errno or path; 6: Step";
}

// A step whose walk found damage and whose changes then failed reports both:
// the findings, and the failure as an io_error beside them.
TEST_F(ReviewFixes, AStepThatFoundDamageAndThenFailedReportsTheFailureToo) {
  OpenGrown(200);
  const std::string path = PathWhere(
      [](const std::string&, const Node& node) { return IsFile(node) && node.links == 1; });
  ASSERT_EQ(::unlink(At(path).c_str()), 0);
  if (!::fscanary::testing::SetTreeImmutable(Root(), true)) {
    ::fscanary::testing::SetTreeImmutable(Root(), false);
    GTEST_SKIP() << "cannot make " << Root() << "'s entries immutable (needs root and a "
                 << "filesystem with FS_IMMUTABLE_FL)";
  }
  // One step walks the whole tree, then makes its changes, every one of which
  // the immutable entries refuse.
  auto stepped = checker_->Step(uint64_t{1} << 62);
  ASSERT_TRUE(::fscanary::testing::SetTreeImmutable(Root(), false));
  ASSERT_TRUE(stepped.ok()) << stepped.status();
  int damage = 0;
  int step_errors = 0;
  for (const checker::Finding& finding : *stepped) {
    damage += finding.kind == checker::FindingKind::kMetadataMismatch;
    step_errors += finding.io_failure.has_value() &&
                   finding.io_failure->operation == verify::IoOperation::kStep;
  }
  EXPECT_GE(damage, 1);
  EXPECT_EQ(step_errors, 1);
}

TEST(ReviewFixesRoot, RootWritableByOthersOrOwnedByAnotherUserIsRefused) {
  ::fscanary::testing::TempDir base;
  const std::string root = base.Join("tree");
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  ASSERT_TRUE(io::DirectoryTree::Open(root, {}).ok());
  ASSERT_EQ(::chmod(root.c_str(), 0777), 0);
  auto opened = io::DirectoryTree::Open(root, {});
  ASSERT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(opened.status().message(), HasSubstr("mode 0777"));
  EXPECT_THAT(opened.status().message(), HasSubstr(root));
  ASSERT_EQ(::chmod(root.c_str(), 0720), 0);
  EXPECT_EQ(io::DirectoryTree::Open(root, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_EQ(::chmod(root.c_str(), 0755), 0);
  ASSERT_TRUE(io::DirectoryTree::Open(root, {}).ok());
  if (::geteuid() == 0) {
    ASSERT_EQ(::chown(root.c_str(), 12345, 12345), 0);
    opened = io::DirectoryTree::Open(root, {});
    ASSERT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(opened.status().message(), HasSubstr("uid 12345"));
    auto checker = MetadataChecker::Open(TestOptions(root, base.Join("state"), 50), nullptr);
    EXPECT_EQ(checker.status().code(), absl::StatusCode::kFailedPrecondition);
  }
}

// One name of a hard-linked file swapped for a hard link to a file outside
// the root with the same link count: nothing is written through it.
TEST_F(ReviewFixes, HardLinkToAFileOutsideTheRootIsNotWrittenThrough) {
  OpenGrown(300);
  const std::vector<std::string> names = NamesOfAFileWithLinks(2);
  ASSERT_EQ(names.size(), 2u);
  const std::string victim = base_.Join("victim");
  std::ofstream(victim) << "do not touch";
  ASSERT_EQ(::unlink(At(names[1]).c_str()), 0);
  ASSERT_EQ(::link(victim.c_str(), At(names[1]).c_str()), 0);
  const Seen before = StatOf(victim);

  auto tree = io::DirectoryTree::Open(Root(), {});
  ASSERT_TRUE(tree.ok()) << tree.status();
  const TreeModel& model = checker_->model();
  const uint64_t seq = model.seq + 1;
  const std::vector<Op> ops = {
      {.kind = OpKind::kWrite, .seq = seq, .path = names[1], .length = 5, .pattern = 3},
      {.kind = OpKind::kTruncate, .seq = seq, .path = names[1], .length = 1},
      {.kind = OpKind::kPunchHole, .seq = seq, .path = names[1], .length = 4096},
      {.kind = OpKind::kSetXattr,
       .seq = seq,
       .path = names[1],
       .xattr_name = "user.fscanary.a",
       .xattr_value = "v"},
      {.kind = OpKind::kLink, .seq = seq, .path = names[1], .to = "new-hard-link"},
  };
  for (const Op& op : ops) {
    const MutationResult result = Perform(*tree, model, op, IoBudget{});
    EXPECT_FALSE(result.done) << OpKindName(op.kind);
    EXPECT_EQ(result.status.code(), absl::StatusCode::kFailedPrecondition)
        << OpKindName(op.kind) << ": " << result.status;
  }
  EXPECT_EQ(ReadFile(victim), "do not touch");
  EXPECT_TRUE(StatOf(victim) == before);
  char value[16];
  EXPECT_LT(::getxattr(victim.c_str(), "user.fscanary.a", value, sizeof(value)), 0);
}

TEST(ReviewFixesManifest, ReplaceFileDurablyNeverWritesThroughAPlantedTemp) {
  ::fscanary::testing::TempDir base;
  const std::string victim = base.Join("victim");
  std::ofstream(victim) << "keep";
  const std::string path = base.Join("file");
  ASSERT_EQ(::symlink(victim.c_str(), (path + ".tmp").c_str()), 0);
  const std::string data = "new contents";
  ASSERT_TRUE(io::ReplaceFileDurably(path, std::as_bytes(std::span(data))).ok());
  EXPECT_EQ(ReadFile(victim), "keep");
  EXPECT_EQ(ReadFile(path), data);
  struct stat st {};
  EXPECT_NE(::lstat((path + ".tmp").c_str(), &st), 0);
  // A stale regular temp is replaced too.
  std::ofstream(path + ".tmp") << "stale and longer than the new contents";
  ASSERT_TRUE(io::ReplaceFileDurably(path, std::as_bytes(std::span(data))).ok());
  EXPECT_EQ(ReadFile(path), data);
}

// A tree rolled back wholesale: 64 findings, then one for the rest.
TEST_F(ReviewFixes, ManyDifferencesAreCappedWithOneTreeDivergedFinding) {
  OpenGrown(300);
  uint64_t changed = 0;
  for (const auto& [path, id] : checker_->model().paths) {
    const Node& node = checker_->model().nodes.at(id);
    if (node.type != NodeType::kFile || node.links != 1) continue;
    ASSERT_EQ(::chmod(At(path).c_str(), (node.mode & 0777) ^ 0100), 0);
    ++changed;
  }
  ASSERT_GT(changed, kMaxFindingsPerWalk + 5);
  const std::vector<checker::Finding> findings = Verify();
  ASSERT_EQ(findings.size(), kMaxFindingsPerWalk + 1);
  const checker::Finding& last = findings.back();
  EXPECT_EQ(last.path, "");
  EXPECT_EQ(last.detail, absl::StrCat("tree diverged: ", changed - kMaxFindingsPerWalk,
                                      " more differences not listed"));
  EXPECT_TRUE(last.persistent);
  EXPECT_EQ(last.key.target_id, checker_->tree_id());
  EXPECT_EQ(last.key.offset, 0u);
  // Every changed file is evidence now, listed or not.
  EXPECT_EQ(checker_->model().flagged.size(), changed);
}

// Power loss in the middle of a 4 KiB write: some 512-byte sectors new,
// some old. Recovery takes it as done, expects what is there, and the walk
// finds nothing.
TEST_F(ReviewFixes, TornWriteIsRecoveredSectorBySector) {
  OpenGrown(200);
  const std::string path = PathWhere([](const std::string&, const Node& node) {
    return IsFile(node) && node.links == 1 && node.layout.size >= 3 * 4096;
  });
  const TreeModel model = checker_->model();
  const uint64_t node = model.paths.at(path);
  const uint64_t seed = checker_->seed();
  const uint64_t tree_id = checker_->tree_id();
  checker_.reset();
  const Op op{.kind = OpKind::kWrite,
              .seq = model.seq + 1,
              .path = path,
              .offset = 4096,
              .length = 4096,
              .pattern = PatternFor(seed, node, model.seq + 1)};
  auto journal = ManifestJournal::Rewrite(State(), tree_id, seed, model);
  ASSERT_TRUE(journal.ok()) << journal.status();
  ASSERT_TRUE((*journal)->AppendIntent(op).ok());
  journal->reset();
  FileLayout after = model.nodes.at(node).layout;
  after.Write(op.offset, op.length, op.pattern);
  const int fd = ::open(At(path).c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  for (const uint64_t sector : {0, 2, 3, 6}) {
    std::vector<std::byte> bytes(512);
    const uint64_t offset = op.offset + sector * 512;
    FillContent(after, offset, bytes);
    ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), 512);
  }
  ::close(fd);

  auto opened = MetadataChecker::Open(TestOptions(Root(), State(), 200), nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  checker_ = *std::move(opened);
  EXPECT_TRUE(checker_->stats().recovered_pending);
  EXPECT_TRUE(checker_->stats().recovered_done);
  EXPECT_TRUE(checker_->stats().recovered_torn);
  EXPECT_TRUE(checker_->stats().recovery_unexplained.empty());
  const uint64_t hash = checker_->model().nodes.at(node).content_hash;
  EXPECT_NE(hash, ContentHash(model.nodes.at(node).layout));
  EXPECT_NE(hash, ContentHash(after));
  const std::vector<checker::Finding> findings = Verify();
  EXPECT_TRUE(findings.empty()) << testing::Describe(findings);
  // And it stays expected across another restart (the snapshot has it).
  checker_.reset();
  opened = MetadataChecker::Open(TestOptions(Root(), State(), 200), nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  checker_ = *std::move(opened);
  EXPECT_TRUE(Verify().empty());
}

TEST(ReviewFixesFilesystem, UnsupportedFilesystemIsRefusedWithItsType) {
  ::fscanary::testing::TempDir base;
  MetadataOptions options = TestOptions("/proc/sys", base.Join("state"), 50);
  auto opened = MetadataChecker::Open(options, nullptr);
  ASSERT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition) << opened.status();
  EXPECT_THAT(opened.status().message(), HasSubstr("/proc/sys"));
  EXPECT_THAT(opened.status().message(), HasSubstr("type 0x9fa0"));
}

// A filesystem refusing user xattrs: the tree grows without them, verifies
// clean, and the manifest remembers it.
TEST_F(ReviewFixes, WithoutUserXattrsNoXattrOperationsAreMade) {
  MetadataOptions options = TestOptions(Root(), State(), 200);
  options.test_no_user_xattrs = true;
  auto opened = MetadataChecker::Open(options, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  checker_ = *std::move(opened);
  EXPECT_TRUE(checker_->model().xattrs_unsupported);
  ASSERT_TRUE(testing::Grow(*checker_, 200).ok());
  ASSERT_TRUE(checker_->Mutate(300).ok());
  EXPECT_EQ(testing::CountEntries(checker_->model()).with_xattrs, 0u);
  EXPECT_EQ(checker_->stats().ops_not_done, 0u);
  EXPECT_TRUE(Verify().empty());
  checker_.reset();
  opened = MetadataChecker::Open(TestOptions(Root(), State(), 200), nullptr);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_TRUE((*opened)->model().xattrs_unsupported);
}

}  // namespace
}  // namespace fscanary::metadata
