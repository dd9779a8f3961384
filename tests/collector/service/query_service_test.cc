// The Query service: lists a page at a time, tokens that yield every entry
// once, and analyses served from one computation per interval.
#include "collector/service/query_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "metrics/registry.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::collector {
namespace {

using store::testing::FindingRecord;
using store::testing::OpenStore;

constexpr int64_t kSecond = 1'000'000'000;

double CounterValue(const metrics::Registry& registry, const std::string& name) {
  for (const metrics::MetricFamily& family : registry.Collect()) {
    if (family.name == name && !family.series.empty()) return family.series[0].value;
  }
  return -1;
}

class QueryServiceTest : public ::testing::Test {
 protected:
  QueryServiceTest()
      : store_(OpenStore(dir_)),
        service_(*store_, std::make_shared<AnalysisCache>(*store_, registry_),
                 {.default_page_size = 4, .max_page_size = 10}) {}

  // `hosts` agents, each with one heartbeat, in one group commit.
  void AddHosts(int hosts) {
    v1::AgentMessage heartbeat;
    heartbeat.mutable_heartbeat();
    const std::vector<v1::AgentMessage> messages = {heartbeat};
    std::vector<std::string> ids;
    for (int i = 0; i < hosts; ++i) ids.push_back(absl::StrCat("vm-", 100 + i));
    std::vector<store::AgentBatch> batches;
    for (const std::string& id : ids) batches.push_back({.agent_id = id, .messages = messages});
    ASSERT_TRUE(store_->IngestBatches(batches, kSecond).ok());
  }

  fscanary::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  metrics::Registry registry_;
  QueryService service_;
};

TEST_F(QueryServiceTest, HostsComeAPageAtATimeAndTheTokensYieldEachHostOnce) {
  AddHosts(25);
  v1::ListHostsRequest request;
  v1::ListHostsResponse page;
  ASSERT_TRUE(service_.ListHosts(nullptr, &request, &page).ok());
  EXPECT_EQ(page.hosts_size(), 4) << "the default page";
  EXPECT_FALSE(page.next_page_token().empty());

  request.set_page_size(1000);  // above the maximum: the maximum
  std::vector<std::string> seen;
  int pages = 0;
  do {
    page.Clear();
    ASSERT_TRUE(service_.ListHosts(nullptr, &request, &page).ok());
    EXPECT_LE(page.hosts_size(), 10);
    for (const v1::HostSummary& host : page.hosts()) seen.push_back(host.agent_id());
    request.set_page_token(page.next_page_token());
    ++pages;
  } while (!request.page_token().empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);
}

TEST_F(QueryServiceTest, FindingsComeAPageAtATimeNewestFirstEachOnce) {
  // Several findings per receipt time, so a page can end inside a tie.
  for (int batch = 0; batch < 7; ++batch) {
    std::vector<v1::AgentMessage> messages;
    for (int i = 0; i < 3; ++i) messages.push_back(FindingRecord(batch * 3 + i + 1, kSecond));
    store::testing::Ingest(*store_, "vm-1", messages, (batch + 1) * kSecond);
  }
  v1::ListFindingsRequest request;
  request.set_page_size(5);
  std::vector<uint64_t> seen;
  do {
    v1::ListFindingsResponse page;
    ASSERT_TRUE(service_.ListFindings(nullptr, &request, &page).ok());
    EXPECT_LE(page.findings_size(), 5);
    for (const v1::StoredFinding& finding : page.findings()) seen.push_back(finding.sequence());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  ASSERT_EQ(seen.size(), 21u);
  EXPECT_EQ(std::set<uint64_t>(seen.begin(), seen.end()).size(), 21u);
  EXPECT_EQ(seen.front(), 21u) << "newest received first";

  request.set_page_token("not-a-token");
  v1::ListFindingsResponse page;
  EXPECT_EQ(service_.ListFindings(nullptr, &request, &page).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(QueryServiceTest, AClientSendingOnlyALimitGetsAtMostTheMaximumPage) {
  std::vector<v1::AgentMessage> messages;
  for (int i = 0; i < 12; ++i) messages.push_back(FindingRecord(i + 1, kSecond));
  store::testing::Ingest(*store_, "vm-1", messages, kSecond);
  v1::ListFindingsRequest request;
  request.set_limit(100);
  v1::ListFindingsResponse page;
  ASSERT_TRUE(service_.ListFindings(nullptr, &request, &page).ok());
  EXPECT_EQ(page.findings_size(), 10);
  EXPECT_FALSE(page.next_page_token().empty());
}

TEST_F(QueryServiceTest, AnalysesWithinTheIntervalAreServedFromOneComputation) {
  AddHosts(3);
  v1::AnalyzeRequest request;
  v1::AnalyzeResponse first;
  v1::AnalyzeResponse second;
  ASSERT_TRUE(service_.Analyze(nullptr, &request, &first).ok());
  ASSERT_TRUE(service_.Analyze(nullptr, &request, &second).ok());
  EXPECT_EQ(CounterValue(registry_, "fscanary_collector_analyses_computed_total"), 1);
  EXPECT_EQ(second.computed_unix_nanos(), first.computed_unix_nanos());
  EXPECT_EQ(second.report(), first.report());
  // Another request is another analysis (of the same fleet read).
  request.set_json(true);
  ASSERT_TRUE(service_.Analyze(nullptr, &request, &second).ok());
  EXPECT_EQ(CounterValue(registry_, "fscanary_collector_analyses_computed_total"), 2);
  // A request the engine refuses is not an analysis.
  request.set_max_order(9);
  EXPECT_EQ(service_.Analyze(nullptr, &request, &second).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CounterValue(registry_, "fscanary_collector_analyses_computed_total"), 2);
}

TEST(AnalysisCache, AResultOlderThanTheIntervalIsComputedAgain) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  metrics::Registry registry;
  AnalysisCache cache(*store, registry, {.interval = std::chrono::nanoseconds(0)});
  ASSERT_TRUE(cache.Analyze({}).ok());
  ASSERT_TRUE(cache.Analyze({}).ok());
  EXPECT_EQ(CounterValue(registry, "fscanary_collector_analyses_computed_total"), 2);
}

}  // namespace
}  // namespace fscanary::collector
