// Slow clients on the collector's /metrics port cannot hold it: scrapes keep
// succeeding and agents keep streaming (docs/SECURITY.md, the metrics limits).
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"
#include "tests/metrics/test_support.h"

namespace fscanary::e2e {
namespace {

using MetricsSlowClientsTest = E2eTest;

TEST_F(MetricsSlowClientsTest, ScrapesAndIngestGoOnWhileSlowClientsHoldTheMetricsPort) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  // Three times the server's 16 workers, each holding half a request: without
  // a request deadline they would hold every worker for good.
  std::vector<std::unique_ptr<metrics::testing::SlowClient>> slow;
  for (int i = 0; i < 48; ++i) {
    slow.push_back(std::make_unique<metrics::testing::SlowClient>(collector_->metrics_port()));
    ASSERT_TRUE(slow.back()->connected()) << "slow client " << i;
  }
  for (int scrape = 0; scrape < 3; ++scrape) {
    const absl::StatusOr<metrics::testing::HttpResponse> response =
        metrics::testing::HttpRequest(collector_->metrics_port(), "GET", "/metrics");
    ASSERT_TRUE(response.ok()) << "scrape " << scrape << ": " << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_NE(response->body.find("fscanary_collector_streams_open"), std::string::npos);
  }
  const StreamOutcome outcome =
      Exchange(*collector_, "", {Hello("steady-agent"), FindingRecord(1, 4096)});
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.acknowledged, std::set<uint64_t>{1});
  EXPECT_TRUE(collector_->daemon().running());
}

}  // namespace
}  // namespace fscanary::e2e
