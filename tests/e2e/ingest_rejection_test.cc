// Raw Ingest streams: bad input is refused and counted, replays stored once, collector lives.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "gtest/gtest.h"
#include "io/posix.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"

namespace fscanary::e2e {
namespace {

constexpr char kAgent[] = "raw-agent";
constexpr char kToken[] = "0123456789abcdef-raw-agent-token";
constexpr char kGoodAgent[] = "good-agent";
constexpr char kGoodToken[] = "0123456789abcdef-good-agent-token";

class IngestRejectionTest : public E2eTest {
 protected:
  void SetUp() override {
    const std::string tokens = dir_.Join("tokens");
    {
      std::ofstream file(tokens);
      file << "# agent_id token\n"
           << kAgent << " " << kToken << "\n"
           << kGoodAgent << " " << kGoodToken << "\n";
    }
    ASSERT_NO_FATAL_FAILURE(StartCollector(
        {.extra_yaml = absl::StrCat("tokens_file: ", tokens,
                                    "\nrequire_auth: true\nlimits:\n  max_message_bytes: 64K\n")}));
  }

  double Rejected(const std::string& scrape, const std::string& reason) {
    return SampleValue(scrape, "fscanary_collector_rejected_messages_total", {{"reason", reason}})
        .value_or(-1);
  }
};

// What the store decides (stored once, a conflict, a batch that must not
// fail for one agent's bad record), on each backend.
using IngestStoreTest = OnBackend<IngestRejectionTest>;

TEST_F(IngestRejectionTest, BadStreamsAreRefusedCountedAndSurvived) {
  // A stream must open with a Hello.
  StreamOutcome outcome = Exchange(*collector_, kToken, {Heartbeat(), Hello(kAgent)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << outcome.status.error_message();

  // An agent id must be 1-128 characters.
  outcome = Exchange(*collector_, kToken, {Hello("")});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << outcome.status.error_message();
  outcome = Exchange(*collector_, kToken, {Hello(std::string(10 * 1024, 'a'))});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << outcome.status.error_message();

  // A record carries a sequence number above 0.
  outcome = Exchange(*collector_, kToken, {Hello(kAgent), FindingRecord(0, 8192)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << outcome.status.error_message();
  EXPECT_TRUE(outcome.acknowledged.empty());

  // A message over limits.max_message_bytes (64K) is refused by gRPC itself.
  v1::AgentMessage huge = Hello(kAgent);
  huge.mutable_hello()->mutable_facts()->set_kernel_cmdline(std::string(100 * 1024, 'x'));
  outcome = Exchange(*collector_, kToken, {huge});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << outcome.status.error_message();

  // require_auth: no token, or a wrong one, is refused.
  outcome = Exchange(*collector_, "", {Hello(kAgent), FindingRecord(1, 4096)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << outcome.status.error_message();
  outcome = Exchange(*collector_, "0123456789abcdef-not-the-token", {Hello(kAgent)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << outcome.status.error_message();
  // The token of another agent id does not do either.
  outcome = Exchange(*collector_, kToken, {Hello("other-agent")});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << outcome.status.error_message();

  // With the right token the stream is accepted and its record acknowledged.
  outcome = Exchange(*collector_, kToken, {Hello(kAgent), FindingRecord(1, 4096)});
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.acknowledged, std::set<uint64_t>({1}));

  // Nothing refused was stored.
  absl::StatusOr<std::vector<v1::StoredFinding>> findings = collector_->ListFindings(kAgent);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ(findings->front().sequence(), 1u);
  EXPECT_EQ(findings->front().finding().offset(), 4096u);
  const absl::StatusOr<v1::ListHostsResponse> hosts = collector_->ListHosts();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->hosts_size(), 1) << hosts->ShortDebugString();
  EXPECT_EQ(hosts->hosts(0).agent_id(), kAgent);

  // The collector still runs and counted every refusal by its reason.
  ASSERT_TRUE(collector_->daemon().running());
  const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(Rejected(*scrape, "no_hello"), 1) << *scrape;
  EXPECT_EQ(Rejected(*scrape, "agent_id"), 2) << *scrape;
  EXPECT_EQ(Rejected(*scrape, "sequence"), 1) << *scrape;
  EXPECT_EQ(Rejected(*scrape, "unauthenticated"), 3) << *scrape;
  EXPECT_EQ(Rejected(*scrape, "duplicate_hello"), 0) << *scrape;
}

TEST_P(IngestStoreTest, ReplayedRecordIsAcknowledgedEveryTimeAndStoredOnce) {
  // Twice on one stream, then again on a second stream: the same bytes, as
  // an agent resends them from its spool.
  const v1::AgentMessage record = FindingRecord(5, 4096);
  StreamOutcome outcome = Exchange(*collector_, kToken, {Hello(kAgent), record, record});
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.acknowledged, std::set<uint64_t>({5}));
  outcome = Exchange(*collector_, kToken, {Hello(kAgent), record});
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.acknowledged, std::set<uint64_t>({5}));

  const absl::StatusOr<std::vector<v1::StoredFinding>> findings = collector_->ListFindings(kAgent);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_EQ(findings->size(), 1u);
  EXPECT_EQ(findings->front().sequence(), 5u);
  const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(SampleValue(*scrape, "fscanary_collector_records_total", {{"outcome", "stored"}}), 1)
      << *scrape;
  EXPECT_EQ(SampleValue(*scrape, "fscanary_collector_records_total", {{"outcome", "duplicate"}}), 2)
      << *scrape;
}

TEST_P(IngestStoreTest, ReplayedSequenceWithOtherContentIsRejectedNeverAcknowledged) {
  StreamOutcome outcome = Exchange(*collector_, kToken, {Hello(kAgent), FindingRecord(7, 4096)});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  ASSERT_EQ(outcome.acknowledged, std::set<uint64_t>({7}));

  // Sequence 7 again with another finding, then a new record on the same
  // stream: 7 is rejected as a conflict (not acknowledged as a duplicate, so
  // a real agent would keep it), 8 is stored and acknowledged.
  outcome = Exchange(*collector_, kToken,
                     {Hello(kAgent), FindingRecord(7, 8192), FindingRecord(8, 12288)});
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.acknowledged, std::set<uint64_t>({8}));
  EXPECT_EQ(outcome.rejected, (std::map<uint64_t, std::string>{{7, "conflict"}}));

  // The record held under 7 is the first one.
  const absl::StatusOr<std::vector<v1::StoredFinding>> findings = collector_->ListFindings(kAgent);
  ASSERT_TRUE(findings.ok()) << findings.status();
  std::map<uint64_t, uint64_t> offset_of;
  for (const v1::StoredFinding& stored : *findings) {
    offset_of[stored.sequence()] = stored.finding().offset();
  }
  EXPECT_EQ(offset_of, (std::map<uint64_t, uint64_t>{{7, 4096}, {8, 12288}}));

  // Counted, and logged with both digests.
  const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(SampleValue(*scrape, "fscanary_collector_records_total", {{"outcome", "conflict"}}), 1)
      << *scrape;
  EXPECT_EQ(SampleValue(*scrape, "fscanary_collector_records_total", {{"outcome", "duplicate"}}), 0)
      << *scrape;
  EXPECT_TRUE(collector_->daemon()
                  .WaitForLog("record 7: .*held sha256 [0-9a-f]{64}, received sha256 [0-9a-f]{64}",
                              kEventTimeout)
                  .has_value())
      << collector_->daemon().Log();
  ASSERT_TRUE(collector_->daemon().running());
}

TEST_P(IngestStoreTest, ASequenceBeyondTheStoresRangeIsRefusedWhileAnotherAgentLosesNothing) {
  constexpr uint64_t kGoodRecords = 300;
  std::vector<v1::AgentMessage> good = {Hello(kGoodAgent)};
  for (uint64_t sequence = 1; sequence <= kGoodRecords; ++sequence) {
    good.push_back(FindingRecord(sequence, sequence * kBlockSize));
  }
  StreamOutcome good_outcome;
  std::thread good_stream([&] { good_outcome = Exchange(*collector_, kGoodToken, good); });
  // Meanwhile, the other agent sends 2^63 (SQLite's integers end at 2^63-1)
  // again and again: were it to reach a group commit, the store would refuse
  // the whole commit, the good agent's records in it included.
  std::vector<StreamOutcome> bad;
  for (int i = 0; i < 5; ++i) {
    bad.push_back(
        Exchange(*collector_, kToken, {Hello(kAgent), FindingRecord(uint64_t{1} << 63, 4096)}));
  }
  good_stream.join();

  for (const StreamOutcome& outcome : bad) {
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << outcome.status.error_message();
    EXPECT_NE(outcome.status.error_message().find("9223372036854775808"), std::string::npos)
        << outcome.status.error_message();
    EXPECT_TRUE(outcome.acknowledged.empty());
  }
  EXPECT_TRUE(good_outcome.status.ok()) << good_outcome.status.error_message();
  EXPECT_EQ(good_outcome.acknowledged.size(), kGoodRecords);
  const absl::StatusOr<std::vector<v1::StoredFinding>> stored =
      collector_->ListFindings(kGoodAgent);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->size(), kGoodRecords);
  const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(Rejected(*scrape, "sequence"), 5) << *scrape;
  EXPECT_EQ(
      SampleValue(*scrape, "fscanary_collector_records_total", {{"outcome", "commit_failed"}}), 0)
      << *scrape;
  ASSERT_TRUE(collector_->daemon().running());
}

TEST_F(IngestRejectionTest, KernelConfigKeysOutsideTheConfigNamespaceAreRefusedByName) {
  v1::AgentMessage hello = Hello(kAgent);
  auto& config = *hello.mutable_hello()->mutable_facts()->mutable_kernel_config();
  config["CONFIG_BLK_DEV"] = "y";
  config["scheduler"] = "forged";
  StreamOutcome outcome = Exchange(*collector_, kToken, {hello});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << outcome.status.error_message();
  EXPECT_NE(outcome.status.error_message().find("\"scheduler\""), std::string::npos)
      << outcome.status.error_message();

  // Real option names, mixed case included (Debian's configs hold some), pass.
  config.erase("scheduler");
  config["CONFIG_MTD_NETtel"] = "m";
  outcome = Exchange(*collector_, kToken, {hello, FindingRecord(1, 4096)});
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.acknowledged, std::set<uint64_t>({1}));

  const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(Rejected(*scrape, "kernel_config"), 1) << *scrape;
  EXPECT_EQ(SampleValue(*scrape, "fscanary_analysis_skipped_epochs"), 0) << *scrape;
  ASSERT_TRUE(collector_->daemon().running());
}

INSTANTIATE_TEST_SUITE_P(Backends, IngestStoreTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace fscanary::e2e
