// Two collectors on one PostgreSQL: the agent streams to the first, which is
// killed -9; its findings arrive through the second, each stored once, the
// host stays connected in the fleet's view, and one collector at a time
// leads (the second takes over when the first dies leading).
#include <signal.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/lib/postgres_server.h"

namespace fscanary::e2e {
namespace {

constexpr char kHost[] = "multi-host";

class SeveralCollectorsTest : public E2eTest {
 protected:
  void SetUp() override {
    absl::StatusOr<fscanary::testing::PostgresServer*> server =
        fscanary::testing::SharedPostgresServer();
    if (!server.ok() && fscanary::testing::PostgresMaySkip(server.status())) {
      GTEST_SKIP() << server.status().message();
    }
    ASSERT_TRUE(server.ok()) << server.status();
    absl::StatusOr<std::string> dsn = (*server)->CreateDatabase();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    dsn_ = *dsn;
    backend_ = Backend::kPostgres;  // what TearDown checks
  }

  std::unique_ptr<Collector> StartOnPostgres(const std::string& name) {
    const std::string dir = dir_.Join(name);
    EXPECT_EQ(::mkdir(dir.c_str(), 0700), 0) << dir;
    absl::StatusOr<std::unique_ptr<Collector>> collector = Collector::Start(
        dir, {.extra_yaml = absl::StrCat("store:\n  backend: postgres\n  postgres:\n    dsn: \"",
                                         dsn_, "\"\n")});
    EXPECT_TRUE(collector.ok()) << collector.status();
    return collector.ok() ? *std::move(collector) : nullptr;
  }

  std::string dsn_;
};

std::optional<double> Scraped(const Collector& collector, const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) {
  absl::StatusOr<std::string> scrape = collector.ScrapeMetrics();
  if (!scrape.ok()) return std::nullopt;
  return SampleValue(*scrape, name, labels);
}

// Each offset's findings, as stored.
std::map<uint64_t, int> FindingsByOffset(const Collector& collector) {
  std::map<uint64_t, int> by_offset;
  absl::StatusOr<std::vector<v1::StoredFinding>> findings = collector.ListFindings(kHost);
  if (!findings.ok()) return by_offset;
  for (const v1::StoredFinding& stored : *findings) ++by_offset[stored.finding().offset()];
  return by_offset;
}

TEST_F(SeveralCollectorsTest, FindingsReachTheOtherCollectorWhenTheOneStreamedToIsKilled) {
  std::unique_ptr<Collector> first = StartOnPostgres("first");
  ASSERT_NE(first, nullptr);
  std::unique_ptr<Collector> second = StartOnPostgres("second");
  ASSERT_NE(second, nullptr);
  // The first took the leader lock at its start; the second waits for it.
  ASSERT_EQ(Scraped(*first, "fscanary_collector_leader"), 1.0);
  ASSERT_EQ(Scraped(*second, "fscanary_collector_leader"), 0.0);
  EXPECT_EQ(Scraped(*second, "fscanary_hosts"), std::nullopt)
      << "a collector that does not lead exported a fleet-level series";

  collector_ = std::move(first);  // E2eTest's agent and logs
  ASSERT_NO_FATAL_FAILURE(StartAgent(
      {.agent_id = kHost, .collector_addresses = {collector_->address(), second->address()}}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying(kHost));
  ASSERT_EQ(Scraped(*collector_, "fscanary_collector_streams_open"), 1.0);
  ASSERT_EQ(Scraped(*second, "fscanary_collector_streams_open"), 0.0);
  // Connected in the fleet's view: the second collector sees the first's stream.
  EXPECT_TRUE(second->FindHost(kHost).value_or(v1::HostSummary()).connected());

  const absl::StatusOr<std::vector<uint64_t>> written = DurableBlocks(agent_->state_dir());
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_GE(written->size(), 2u);
  const absl::StatusOr<uint64_t> before_kill = CorruptPayload(agent_->target(), written->front());
  ASSERT_TRUE(before_kill.ok()) << before_kill.status();
  ASSERT_TRUE(
      WaitFor([&] { return FindingsByOffset(*second).contains(*before_kill); }, kEventTimeout))
      << "the finding stored through the first collector is not in the shared store";

  collector_->daemon().Signal(SIGKILL);
  ASSERT_TRUE(collector_->daemon().WaitForExit(kEventTimeout).has_value());
  const absl::StatusOr<uint64_t> after_kill = CorruptPayload(agent_->target(), written->back());
  ASSERT_TRUE(after_kill.ok()) << after_kill.status();

  std::map<uint64_t, int> by_offset;
  ASSERT_TRUE(WaitFor(
      [&] {
        by_offset = FindingsByOffset(*second);
        return by_offset.contains(*after_kill);
      },
      kEventTimeout))
      << "the finding made after the kill never reached the second collector";
  EXPECT_EQ(by_offset[*before_kill], 1) << "stored more than once";
  EXPECT_EQ(by_offset[*after_kill], 1) << "stored more than once";
  EXPECT_EQ(Scraped(*second, "fscanary_collector_streams_open"), 1.0);

  // The first died leading: its session, and with it the lock, ended; the
  // second leads and exports the fleet's series, findings counted once.
  const std::map<std::string, std::string> host = {{"host", kHost}};
  EXPECT_TRUE(WaitFor(
      [&] {
        return Scraped(*second, "fscanary_collector_leader") == 1.0 &&
               Scraped(*second, "fscanary_host_findings_total", host) == 2.0 &&
               Scraped(*second, "fscanary_host_up", host) == 1.0;
      },
      kEventTimeout))
      << "the second collector did not take over the fleet's series";
  EXPECT_TRUE(agent_->daemon().running());
}

}  // namespace
}  // namespace fscanary::e2e
