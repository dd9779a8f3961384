// The evidence store: once per finding, a quota that gives up routine
// evidence oldest first and never a finding's first, private files.
#include "checkers/evidence/evidence_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "tests/temp_dir.h"

namespace fscanary::evidence {
namespace {

namespace fs = std::filesystem;
using ::fscanary::testing::TempDir;

constexpr uint64_t kTarget = 0x3f0c;

EvidenceKey Key(uint64_t offset) {
  return {.target_id = kTarget, .offset = offset, .generation = 7, .kind = "torn_write"};
}

// One file of `bytes` bytes.
struct Blob {
  explicit Blob(size_t bytes, char fill = 'x') : data(bytes, fill) {}
  std::vector<EvidenceFile> Files() const {
    return {{.name = "found.bin", .data = std::as_bytes(std::span(data))}};
  }
  std::string data;
};

std::unique_ptr<EvidenceStore> OpenOrDie(const std::string& root, uint64_t quota) {
  auto store = EvidenceStore::Open({.root = root, .quota_bytes = quota});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(store).value() : nullptr;
}

std::set<std::string> Directories(const std::string& root) {
  std::set<std::string> names;
  for (const auto& target : fs::directory_iterator(root)) {
    for (const auto& entry : fs::directory_iterator(target.path())) {
      names.insert(entry.path().string());
    }
  }
  return names;
}

std::string Save(EvidenceStore& store, uint64_t offset, bool persistent, const Blob& blob) {
  auto saved = store.Save(Key(offset), persistent, blob.Files());
  EXPECT_TRUE(saved.ok()) << saved.status();
  return saved.ok() ? saved->directory : "";
}

TEST(EvidenceStore, PersistentDamageReadAgainIsKeptOnce) {
  TempDir dir;
  auto store = OpenOrDie(dir.path(), 1 << 20);
  const Blob blob(100);
  auto first = store->Save(Key(4096), /*persistent=*/true, blob.Files());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->written);
  for (int scrub = 0; scrub < 3; ++scrub) {
    auto again = store->Save(Key(4096), /*persistent=*/true, blob.Files());
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(again->written);
    EXPECT_EQ(again->directory, first->directory);
  }
  EXPECT_EQ(Directories(dir.path()), std::set<std::string>{first->directory});
  EXPECT_EQ(store->Stats().directories, 1u);
  EXPECT_EQ(store->Stats().bytes, 100u);
  // Another generation at the same offset is another finding.
  EvidenceKey rewritten = Key(4096);
  rewritten.generation = 8;
  auto next = store->Save(rewritten, /*persistent=*/true, blob.Files());
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->written);
}

TEST(EvidenceStore, ATransientSightingOfAKeptFindingIsAnEventOfItsOwn) {
  TempDir dir;
  auto store = OpenOrDie(dir.path(), 1 << 20);
  const Blob blob(100);
  const std::string first = Save(*store, 4096, /*persistent=*/false, blob);
  const std::string second = Save(*store, 4096, /*persistent=*/false, blob);
  EXPECT_NE(first, second);
  EXPECT_EQ(Directories(dir.path()).size(), 2u);
}

TEST(EvidenceStore, TheQuotaGivesUpRoutineEvidenceOldestFirstAndNeverAFindingsFirst) {
  TempDir dir;
  auto store = OpenOrDie(dir.path(), 3000);
  const Blob blob(1000);
  const std::string a_first = Save(*store, 0, /*persistent=*/false, blob);
  const std::string a_routine = Save(*store, 0, /*persistent=*/false, blob);
  const std::string b_first = Save(*store, 4096, /*persistent=*/true, blob);
  // Full. A new routine sighting evicts the older routine one.
  const std::string a_routine_2 = Save(*store, 0, /*persistent=*/false, blob);
  EXPECT_EQ(Directories(dir.path()), (std::set<std::string>{a_first, b_first, a_routine_2}));
  EXPECT_FALSE(fs::exists(a_routine));
  // A new finding evicts the last routine evidence.
  const std::string c_first = Save(*store, 8192, /*persistent=*/true, blob);
  EXPECT_EQ(Directories(dir.path()), (std::set<std::string>{a_first, b_first, c_first}));
  // Only first evidence left: the next is refused, nothing kept is lost.
  auto refused = store->Save(Key(12288), /*persistent=*/true, blob.Files());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_EQ(Directories(dir.path()), (std::set<std::string>{a_first, b_first, c_first}));
  const EvidenceStats stats = store->Stats();
  EXPECT_EQ(stats.evicted, 2u);
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.bytes, 3000u);
}

TEST(EvidenceStore, AfterARestartTheFirstEvidenceIsStillKnownAndProtected) {
  TempDir dir;
  const Blob blob(1000);
  std::string a_first;
  std::string a_routine;
  {
    auto store = OpenOrDie(dir.path(), 3000);
    a_first = Save(*store, 0, /*persistent=*/false, blob);
    a_routine = Save(*store, 0, /*persistent=*/false, blob);
  }
  auto store = OpenOrDie(dir.path(), 2000);
  EXPECT_EQ(store->Stats().bytes, 2000u);
  EXPECT_EQ(store->Stats().directories, 2u);
  auto again = store->Save(Key(0), /*persistent=*/true, blob.Files());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->directory, a_first);
  const std::string b_first = Save(*store, 4096, /*persistent=*/true, blob);
  EXPECT_EQ(Directories(dir.path()), (std::set<std::string>{a_first, b_first}));
}

TEST(EvidenceStore, EvidenceCutShortByACrashIsRemovedAndOldLayoutDirectoriesAreKept) {
  TempDir dir;
  const std::string target = dir.Join("0000000000003f0c");
  fs::create_directories(target + "/.partial-0-torn_write-5-g7");
  fs::create_directories(target + "/4096-lost_write-123");  // before generations were named
  std::ofstream(target + "/4096-lost_write-123/found.bin") << std::string(10, 'y');
  fs::create_directories(dir.Join("not-a-target"));
  auto store = OpenOrDie(dir.path(), 1 << 20);
  EXPECT_FALSE(fs::exists(target + "/.partial-0-torn_write-5-g7"));
  EXPECT_TRUE(fs::exists(dir.Join("not-a-target")));
  EXPECT_EQ(store->Stats().directories, 1u);
  EXPECT_EQ(store->Stats().bytes, 10u);
}

TEST(EvidenceStore, FilesAndDirectoriesArePrivateWhateverTheUmask) {
  TempDir dir;
  const mode_t previous = ::umask(0);
  auto store = OpenOrDie(dir.Join("evidence"), 1 << 20);
  const std::string saved = Save(*store, 4096, /*persistent=*/true, Blob(10));
  ::umask(previous);
  const auto mode = [](const fs::path& path) {
    return fs::status(path).permissions() & fs::perms::all;
  };
  EXPECT_EQ(mode(dir.Join("evidence")), fs::perms::owner_all);
  EXPECT_EQ(mode(fs::path(saved).parent_path()), fs::perms::owner_all);
  EXPECT_EQ(mode(saved), fs::perms::owner_all);
  EXPECT_EQ(mode(saved + "/found.bin"), fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace
}  // namespace fscanary::evidence
