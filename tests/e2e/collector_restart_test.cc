// Findings made while the collector is SIGKILLed arrive once it restarts, each exactly once.
#include <signal.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace fscanary::e2e {
namespace {

constexpr int kRestarts = 5;

using CollectorRestartTest = BackendE2eTest;

TEST_P(CollectorRestartTest, FindingsMadeWhileTheCollectorIsDownArriveExactlyOnce) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "restart-host"}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("restart-host"));
  const absl::StatusOr<std::vector<uint64_t>> written = DurableBlocks(agent_->state_dir());
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_GE(written->size(), size_t{kRestarts});
  const int port = collector_->port();

  std::set<uint64_t> corrupted;
  for (int round = 0; round < kRestarts; ++round) {
    SCOPED_TRACE(absl::StrCat("restart ", round + 1));
    collector_->daemon().Signal(SIGKILL);
    ASSERT_TRUE(collector_->daemon().WaitForExit(kEventTimeout).has_value());
    collector_.reset();

    const absl::StatusOr<uint64_t> offset =
        CorruptPayload(agent_->target(), (*written)[round * (written->size() / kRestarts)]);
    ASSERT_TRUE(offset.ok()) << offset.status();
    corrupted.insert(*offset);
    ASSERT_TRUE(
        agent_->daemon()
            .WaitForLog(absl::StrCat("target scratch: checksum_mismatch at offset ", *offset, " "),
                        kEventTimeout)
            .has_value())
        << "the agent did not find the corruption at " << *offset;

    ASSERT_NO_FATAL_FAILURE(StartCollector({.port = port}));
    std::vector<v1::StoredFinding> findings;
    ASSERT_TRUE(WaitFor(
        [&] {
          absl::StatusOr<std::vector<v1::StoredFinding>> listed =
              collector_->ListFindings("restart-host");
          if (!listed.ok()) return false;
          findings = *std::move(listed);
          return findings.size() >= corrupted.size();
        },
        kEventTimeout))
        << "stored " << findings.size() << " findings, expected " << corrupted.size();
    int of_this_round = 0;
    for (const v1::StoredFinding& stored : findings) {
      if (stored.finding().offset() == *offset) ++of_this_round;
    }
    EXPECT_EQ(of_this_round, 1) << "the finding at " << *offset << " is not stored exactly once";
  }
  ASSERT_TRUE(agent_->daemon().running()) << "the agent did not survive the collector's restarts";

  // The agent's spool drains (it says so in its heartbeats): everything it
  // sent, resent included, has been acknowledged.
  const std::map<std::string, std::string> host = {{"host", "restart-host"}};
  std::string scrape;
  EXPECT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::string> metrics = collector_->ScrapeMetrics();
        if (!metrics.ok()) return false;
        scrape = *metrics;
        return SampleValue(scrape, "fscanary_host_up", host) == 1.0 &&
               SampleValue(scrape, "fscanary_host_spool_records", host) == 0.0;
      },
      kEventTimeout))
      << scrape;

  // Nothing duplicated: one record per sequence, one finding per block and kind.
  const absl::StatusOr<std::vector<v1::StoredFinding>> findings =
      collector_->ListFindings("restart-host");
  ASSERT_TRUE(findings.ok()) << findings.status();
  std::set<std::pair<std::string, uint64_t>> sequences;
  std::set<std::pair<uint64_t, int>> blocks_and_kinds;
  std::set<uint64_t> offsets;
  for (const v1::StoredFinding& stored : *findings) {
    EXPECT_TRUE(sequences.emplace(stored.agent_id(), stored.sequence()).second)
        << "sequence stored twice: " << stored.ShortDebugString();
    EXPECT_TRUE(blocks_and_kinds.emplace(stored.finding().offset(), stored.finding().kind()).second)
        << "finding stored twice: " << stored.ShortDebugString();
    EXPECT_EQ(stored.finding().kind(), v1::CHECKSUM_MISMATCH);
    offsets.insert(stored.finding().offset());
  }
  EXPECT_EQ(offsets, corrupted);
  EXPECT_EQ(findings->size(), corrupted.size());

  EXPECT_EQ(SampleValue(scrape, "fscanary_host_findings_total", host), double(corrupted.size()));
}

INSTANTIATE_TEST_SUITE_P(Backends, CollectorRestartTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace fscanary::e2e
