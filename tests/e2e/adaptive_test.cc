// Adaptive verification end to end: a corruption found by a real agent makes
// the real collector raise the verification boost of the victim and of the
// agents that share the top suspect's attributes, each within its own
// ceiling, not of an unrelated agent; and lower it again once it fades.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"

namespace fscanary::e2e {
namespace {

// The collector's boost for every boosted agent; each agent's own ceiling
// clamps it.
constexpr double kMaxFactor = 8;
// How long a victim stays boosted, and a lead without a new corruption on its
// hosts lasts: long enough to see the boost, short enough for the test.
constexpr char kWindow[] = "8s";

// Bytes verified per interval report of the hosts on the other kernel, and of
// the raw host like ours: so that the suspect's hosts hold about 1 % of the
// fleet's exposure whatever the real agents verify (the suspect stands out,
// and stays above the analysis' minimum support of 0.1 %).
constexpr uint64_t kOtherBytes = 300'000'000'000;
constexpr uint64_t kTwinBytes = 10'000'000'000;

// A raw agent that keeps its stream open and records every Hint it gets.
class ListeningAgent {
 public:
  ListeningAgent(const Collector& collector, const std::string& agent_id,
                 const v1::HostFacts& facts)
      : channel_(grpc::CreateChannel(collector.address(), grpc::InsecureChannelCredentials())),
        stub_(v1::Ingest::NewStub(channel_)),
        stream_(stub_->Stream(&context_)) {
    stream_->Write(Hello(agent_id, facts));
    reader_ = std::thread([this] {
      v1::CollectorMessage reply;
      while (stream_->Read(&reply)) {
        std::lock_guard lock(mutex_);
        if (reply.has_hint()) hints_.push_back(reply.hint().boost_factor());
        for (const v1::SequenceRange& range : reply.ack().ranges()) {
          acknowledged_ = std::max<uint64_t>(acknowledged_, range.last());
        }
      }
    });
  }
  ~ListeningAgent() {
    context_.TryCancel();
    reader_.join();
  }

  // Sends a report and waits for its acknowledgement: every hint the
  // collector had for this agent by then was sent before it.
  bool Report(uint64_t bytes_verified) {
    const uint64_t sequence = ++sequence_;
    if (!stream_->Write(ReportRecord(sequence, bytes_verified))) return false;
    return WaitFor(
        [&] {
          std::lock_guard lock(mutex_);
          return acknowledged_ >= sequence;
        },
        kEventTimeout);
  }
  std::vector<double> hints() {
    std::lock_guard lock(mutex_);
    return hints_;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Ingest::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::AgentMessage, v1::CollectorMessage>> stream_;
  std::thread reader_;
  uint64_t sequence_ = 0;
  std::mutex mutex_;
  std::vector<double> hints_;
  uint64_t acknowledged_ = 0;
};

class AdaptiveTest : public E2eTest {
 protected:
  // A real agent under `dir_`/`agent_id` with its own ceiling and its
  // metrics on a port of its own; its port in `metrics_ports_`.
  void StartBoostableAgent(const std::string& agent_id, double max_boost) {
    absl::StatusOr<std::unique_ptr<Agent>> agent = Agent::Start(
        dir_.Join(agent_id),
        {.agent_id = agent_id,
         .collector_address = collector_->address(),
         .budget_yaml = absl::StrCat("  max_boost: ", max_boost, "\n", "  boost_lapse: 1h\n"),
         .extra_yaml = "metrics:\n  listen: 127.0.0.1:0\n"});
    ASSERT_TRUE(agent.ok()) << agent.status();
    const std::optional<std::string> port =
        (*agent)->daemon().WaitForLog(R"(metrics on \S+ \(port (\d+)\))", kEventTimeout);
    int number = 0;
    ASSERT_TRUE(port && absl::SimpleAtoi(*port, &number)) << "no metrics port logged";
    metrics_ports_[agent_id] = number;
    agents_[agent_id] = *std::move(agent);
  }

  // The boost the agent says is in force; nullopt when it cannot be read.
  std::optional<double> BoostOf(const std::string& agent_id) {
    absl::StatusOr<std::string> metrics = HttpGet(metrics_ports_.at(agent_id), "/metrics");
    if (!metrics.ok()) return std::nullopt;
    return SampleValue(*metrics, "fscanary_agent_verification_boost");
  }

  // Waits until each agent's boost is the one given; false at the timeout
  // (the boosts seen last are in `seen`).
  bool WaitForBoosts(const std::map<std::string, double>& expected,
                     std::map<std::string, std::optional<double>>& seen) {
    return WaitFor(
        [&] {
          bool all = true;
          for (const auto& [agent_id, factor] : expected) {
            seen[agent_id] = BoostOf(agent_id);
            all = all && seen[agent_id] == factor;
          }
          return all;
        },
        kEventTimeout);
  }

  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::map<std::string, int> metrics_ports_;
};

// The collector's correlation analysis as `fscanary analyze` prints it, with
// its notes: what a failure needs to say why no agent shared a lead.
std::string AnalysisOf(const Collector& collector) {
  const auto channel = grpc::CreateChannel(collector.address(), grpc::InsecureChannelCredentials());
  const auto stub = v1::Query::NewStub(channel);
  grpc::ClientContext context;
  context.AddMetadata("authorization", absl::StrCat("Bearer ", kOperatorToken));
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::AnalyzeResponse response;
  const grpc::Status status = stub->Analyze(&context, v1::AnalyzeRequest(), &response);
  if (!status.ok()) return "analysis failed: " + status.error_message();
  std::string text = absl::StrCat(response.hosts(), " hosts, ", response.epochs(), " epochs, ",
                                  response.events(), " events\n", response.report());
  for (const std::string& note : response.notes()) absl::StrAppend(&text, "note: ", note, "\n");
  return text;
}

std::string Describe(const std::map<std::string, std::optional<double>>& seen) {
  std::string text;
  for (const auto& [agent_id, factor] : seen) {
    absl::StrAppend(&text, agent_id, "=", factor ? absl::StrCat(*factor) : "?", " ");
  }
  return text;
}

TEST_F(AdaptiveTest, AFindingBoostsTheVictimAndItsSuspectsHostsWithinTheirCeilingsThenFades) {
  // confirmed_q far below any q this small fleet can reach: the suspect stays
  // a lead (not yet confirmed) however clearly it stands out.
  ASSERT_NO_FATAL_FAILURE(StartCollector(
      {.extra_yaml = absl::StrCat("adaptive:\n", "  enabled: true\n", "  poll_interval: 100ms\n",
                                  "  decide_interval: 500ms\n", "  renew_interval: 1s\n",
                                  "  max_factor: ", kMaxFactor, "\n", "  max_extra_io_share: 100\n",
                                  "  victim_window: ", kWindow, "\n", "  fade_after: ", kWindow,
                                  "\n", "  confirmed_q: 1e-100\n", "  lead_p: 0.05\n")}));
  // Three real agents on this machine: the same kernel, block stack and
  // filesystem. The victim keeps the default ceiling (4), one allows more
  // than the collector asks for, one allows only 2.
  ASSERT_NO_FATAL_FAILURE(StartBoostableAgent("victim", 4));
  ASSERT_NO_FATAL_FAILURE(StartBoostableAgent("sharer", 16));
  ASSERT_NO_FATAL_FAILURE(StartBoostableAgent("clamped", 2));
  for (const char* agent_id : {"victim", "sharer", "clamped"}) {
    ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying(agent_id));
  }
  const absl::StatusOr<v1::GetHostResponse> victim_host = collector_->GetHost("victim");
  ASSERT_TRUE(victim_host.ok()) << victim_host.status();
  ASSERT_FALSE(victim_host->epochs().empty());
  const v1::HostFacts here = victim_host->epochs().rbegin()->facts();

  // The fleet around them: hosts on another kernel and scheduler, verifying
  // much more; one of them stays connected and listens for hints. And an
  // earlier corruption on a host like ours (a second host with an event: one
  // host alone is never a fleet pattern).
  const v1::HostFacts elsewhere = VmFacts("5.10.0-e2e-other", "mq-deadline");
  for (const char* agent_id : {"other-1", "other-2"}) {
    const StreamOutcome outcome =
        Exchange(*collector_, "", {Hello(agent_id, elsewhere), ReportRecord(1, kOtherBytes)});
    ASSERT_TRUE(outcome.acknowledged.contains(1)) << agent_id;
  }
  ListeningAgent unrelated(*collector_, "unrelated", elsewhere);
  ASSERT_TRUE(unrelated.Report(kOtherBytes));
  const StreamOutcome twin = Exchange(
      *collector_, "", {Hello("twin", here), ReportRecord(1, kTwinBytes), FindingRecord(2, 8192)});
  ASSERT_TRUE(twin.acknowledged.contains(2));

  std::map<std::string, std::optional<double>> seen;
  ASSERT_TRUE(WaitForBoosts({{"victim", 1}, {"sharer", 1}, {"clamped", 1}}, seen))
      << "before the victim's corruption, nothing boosts the real agents: " << Describe(seen);

  // The victim's corruption.
  const absl::StatusOr<std::vector<uint64_t>> written =
      DurableBlocks(agents_.at("victim")->state_dir());
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_FALSE(written->empty());
  ASSERT_TRUE(CorruptPayload(agents_.at("victim")->target(), written->front()).ok());

  // Raised: the victim (a victim gets the collector's most, clamped to its
  // ceiling of 4), the host sharing the suspect (the collector's 8, within
  // its 16) and the host that allows 2.
  EXPECT_TRUE(WaitForBoosts({{"victim", 4}, {"sharer", kMaxFactor}, {"clamped", 2}}, seen))
      << Describe(seen) << "\n"
      << AnalysisOf(*collector_);
  const absl::StatusOr<std::string> collector_metrics = collector_->ScrapeMetrics();
  ASSERT_TRUE(collector_metrics.ok()) << collector_metrics.status();
  // victim, sharer, clamped and the raw twin.
  EXPECT_EQ(SampleValue(*collector_metrics, "fscanary_collector_adaptive_boosts"), 4);
  // The unrelated host was told it has no boost, and nothing else, by an
  // acknowledgement written after the others were boosted.
  ASSERT_TRUE(unrelated.Report(kOtherBytes));
  for (const double factor : unrelated.hints()) EXPECT_LE(factor, 1);

  // Lowered: no corruption for the window, the victims' and the lead's
  // boosts end (the agents' own lapse is an hour: the collector said so).
  EXPECT_TRUE(WaitForBoosts({{"victim", 1}, {"sharer", 1}, {"clamped", 1}}, seen))
      << Describe(seen);
}

}  // namespace
}  // namespace fscanary::e2e
