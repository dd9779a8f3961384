// The page-cache and metadata checkers through the whole pipeline: what each
// finds behind the agent's back reaches the collector as its own finding.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/immutable_tree.h"

namespace fscanary::e2e {
namespace {

namespace fs = std::filesystem;

// A metadata target named "tree" at `path`, as a targets list item.
std::string MetadataTarget(const std::string& path, int entries, const std::string& write_interval,
                           const std::string& scrub_interval) {
  return absl::StrCat("  - name: tree\n    path: ", path,
                      "\n    checkers: [metadata]\n    metadata:\n      entries: ", entries,
                      "\n    schedule:\n      write_interval: ", write_interval,
                      "\n      scrub_interval: ", scrub_interval, "\n");
}

// The label and 64 blocks: one write round makes every block durable and
// every cold read visits them all.
constexpr uint64_t kSmallTargetSize = kBlockSize + 64 * kBlockSize;

// Findings of `agent_id` from `checker`, once `done` holds for them.
std::vector<v1::StoredFinding> WaitForFindings(
    Collector& collector, const std::string& agent_id, const std::string& checker,
    const std::function<bool(const std::vector<v1::StoredFinding>&)>& done) {
  std::vector<v1::StoredFinding> matching;
  const bool arrived = WaitFor(
      [&] {
        absl::StatusOr<std::vector<v1::StoredFinding>> listed = collector.ListFindings(agent_id);
        if (!listed.ok()) return false;
        matching.clear();
        for (const v1::StoredFinding& stored : *listed) {
          if (stored.finding().checker() == checker) matching.push_back(stored);
        }
        return done(matching);
      },
      kEventTimeout);
  EXPECT_TRUE(arrived) << matching.size() << " findings of the " << checker << " checker";
  return matching;
}

class CheckersTest : public E2eTest {};

TEST_F(CheckersTest, ThePageCacheCheckerReportsABlockCorruptOnBothPaths) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "page-cache-host",
                                      .checkers = "[page_cache]",
                                      .target_size = kSmallTargetSize}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("page-cache-host"));
  const absl::StatusOr<std::vector<uint64_t>> durable = DurableBlocks(agent_->state_dir());
  ASSERT_TRUE(durable.ok()) << durable.status();
  ASSERT_FALSE(durable->empty());
  // O_DIRECT, so the cached page goes too: both reads see the damage.
  const absl::StatusOr<uint64_t> offset = CorruptPayload(agent_->target(), durable->front());
  ASSERT_TRUE(offset.ok()) << offset.status();

  const std::vector<v1::StoredFinding> findings =
      WaitForFindings(*collector_, "page-cache-host", "page_cache",
                      [&](const std::vector<v1::StoredFinding>& found) { return !found.empty(); });
  ASSERT_EQ(findings.size(), 1u);
  const v1::Finding& finding = findings.front().finding();
  EXPECT_EQ(finding.kind(), v1::CHECKSUM_MISMATCH);
  EXPECT_EQ(finding.offset(), *offset);
  EXPECT_EQ(finding.target_path(), agent_->target());
  ASSERT_TRUE(finding.has_buffered_kind());
  EXPECT_EQ(finding.buffered_kind(), v1::CHECKSUM_MISMATCH);
  EXPECT_TRUE(finding.persistent());
}

TEST_F(CheckersTest, TheMetadataCheckerReportsAFileDeletedBehindItsBackByPath) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  const std::string tree = dir_.path() + "/agent/tree";
  // No change after the tree is grown (write_interval 1h): the test's deletion
  // is the only change the walk can see.
  ASSERT_NO_FATAL_FAILURE(StartAgent(
      {.agent_id = "metadata-host", .extra_targets_yaml = MetadataTarget(tree, 200, "1h", "2s")}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("metadata-host"));

  // A regular file of the tree, once there is one (not in the checker's own
  // staging directory).
  std::string victim;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::error_code error;
        for (auto it = fs::recursive_directory_iterator(tree, error);
             !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
          const std::string name = it->path().filename().string();
          if (name.starts_with(".")) {
            it.disable_recursion_pending();
            continue;
          }
          if (it->is_regular_file(error)) {
            victim = it->path().string();
            return true;
          }
        }
        return false;
      },
      kEventTimeout))
      << "the metadata checker made no file under " << tree;
  ASSERT_TRUE(fs::remove(victim));
  // Names are never reused, but the tree may still be growing: a directory
  // above the victim renamed since changes the path, not the name.
  const std::string name = fs::path(victim).filename().string();
  const auto names_victim = [&](const v1::Finding& finding) {
    return finding.path() == name || finding.path().ends_with("/" + name);
  };

  const std::vector<v1::StoredFinding> findings = WaitForFindings(
      *collector_, "metadata-host", "metadata", [&](const std::vector<v1::StoredFinding>& found) {
        for (const v1::StoredFinding& stored : found) {
          if (names_victim(stored.finding())) return true;
        }
        return false;
      });
  bool reported = false;
  for (const v1::StoredFinding& stored : findings) {
    const v1::Finding& finding = stored.finding();
    if (!names_victim(finding)) continue;
    reported = true;
    EXPECT_EQ(finding.kind(), v1::METADATA_MISMATCH);
    EXPECT_EQ(finding.target(), "tree");
    EXPECT_EQ(finding.target_path(), tree);
    EXPECT_NE(finding.message().find("missing"), std::string::npos) << finding.message();
  }
  EXPECT_TRUE(reported) << victim << " was not reported";
}

// A checker whose every change fails keeps failing its steps: the agent says
// so in its interval reports, and the collector shows the checker failing
// (its query and its metrics) until it recovers, so that silent is told apart
// from clean.
TEST_F(CheckersTest, ACheckerThatKeepsFailingShowsAtTheCollectorUntilItRecovers) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  const std::string tree = dir_.path() + "/agent/tree";
  ASSERT_NO_FATAL_FAILURE(StartAgent(
      {.agent_id = "failing-host", .extra_targets_yaml = MetadataTarget(tree, 100, "1s", "1h")}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("failing-host"));
  const auto metadata_health = [&]() -> std::optional<v1::CheckerHealth> {
    const absl::StatusOr<v1::GetHostResponse> host = collector_->GetHost("failing-host");
    if (!host.ok()) return std::nullopt;
    for (const v1::CheckerHealth& health : host->checkers()) {
      if (health.checker() == "metadata") return health;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(WaitFor([&] { return metadata_health().has_value(); }, kEventTimeout));
  EXPECT_EQ(metadata_health()->consecutive_failures(), 0u);

  // Every change the checker makes to its tree now fails (EPERM).
  struct Mutable {
    std::string root;
    ~Mutable() { fscanary::testing::SetTreeImmutable(root, false); }
  } restore{tree};
  // Twice: an entry made while the first pass walked is caught by the second
  // (its directory is immutable by then, nothing new appears).
  if (!fscanary::testing::SetTreeImmutable(tree, true) ||
      !fscanary::testing::SetTreeImmutable(tree, true)) {
    GTEST_SKIP() << "cannot make " << tree << " immutable (" << std::strerror(errno)
                 << "; needs root and a filesystem with FS_IMMUTABLE_FL)";
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::optional<v1::CheckerHealth> health = metadata_health();
        return health && health->consecutive_failures() >= 2;
      },
      kEventTimeout))
      << "the collector never showed the metadata checker failing";
  const v1::CheckerHealth failing = *metadata_health();
  EXPECT_GE(failing.failed_steps(), 2u);
  EXPECT_FALSE(failing.last_error().empty());
  EXPECT_EQ(failing.target(), "tree");
  ASSERT_TRUE(WaitFor(
      [&] {
        const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
        return scrape.ok() && SampleValue(*scrape, "fscanary_host_checker_failing",
                                          {{"checker", "metadata"}, {"target", "tree"}}) == 1;
      },
      kEventTimeout));

  // Changes succeed again: the next report says healthy.
  ASSERT_TRUE(fscanary::testing::SetTreeImmutable(tree, false));
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::optional<v1::CheckerHealth> health = metadata_health();
        return health && health->consecutive_failures() == 0;
      },
      kEventTimeout));
}

}  // namespace
}  // namespace fscanary::e2e
