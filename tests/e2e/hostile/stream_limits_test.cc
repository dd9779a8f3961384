// What one client may hold of the collector: streams that never say Hello
// are closed by the limit or the deadline while a real agent goes on, an
// agent id gets a bounded number of streams, a silent stream is closed, and a
// stream's records in flight are bounded.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"

namespace fscanary::e2e {
namespace {

constexpr char kAgent[] = "limited-agent";
constexpr char kToken[] = "0123456789abcdef-limited-agent-token";

double Refused(const Collector& collector, const std::string& reason) {
  const absl::StatusOr<std::string> scrape = collector.ScrapeMetrics();
  if (!scrape.ok()) return -1;
  return SampleValue(*scrape, "fscanary_collector_streams_refused_total", {{"reason", reason}})
      .value_or(-1);
}

double OpenStreams(const Collector& collector) {
  const absl::StatusOr<std::string> scrape = collector.ScrapeMetrics();
  if (!scrape.ok()) return -1;
  return SampleValue(*scrape, "fscanary_collector_streams_open").value_or(-1);
}

// `count` streams opened over `connections` connections that send nothing,
// not even a half-close; returns the status each ended with.
std::vector<grpc::Status> SilentStreams(const std::string& address, int count, int connections) {
  std::vector<std::unique_ptr<v1::Ingest::Stub>> stubs;
  for (int i = 0; i < connections; ++i) {
    grpc::ChannelArguments arguments;
    // Distinct arguments and a private subchannel pool: one TCP connection each.
    arguments.SetInt("fscanary.test.connection", i);
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stubs.push_back(v1::Ingest::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments)));
  }
  struct Silent {
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReaderWriter<v1::AgentMessage, v1::CollectorMessage>> stream;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Silent>> streams;
  for (int i = 0; i < count; ++i) streams.push_back(std::make_unique<Silent>());
  grpc::CompletionQueue queue;
  // Tag 2i+1: stream i started; 2i+2: it ended.
  const auto tag = [](size_t i, int step) { return reinterpret_cast<void*>(2 * i + step); };
  for (size_t i = 0; i < streams.size(); ++i) {
    Silent& silent = *streams[i];
    silent.context.set_deadline(std::chrono::system_clock::now() + 120s);
    silent.stream = stubs[i % stubs.size()]->AsyncStream(&silent.context, &queue, tag(i, 1));
  }
  size_t ended = 0;
  void* got = nullptr;
  bool ok = false;
  while (ended < streams.size() && queue.Next(&got, &ok)) {
    const auto value = reinterpret_cast<uintptr_t>(got);
    const size_t i = (value - 1) / 2;
    if (value % 2 == 1) {
      streams[i]->stream->Finish(&streams[i]->status, tag(i, 2));
    } else {
      ++ended;
    }
  }
  queue.Shutdown();
  while (queue.Next(&got, &ok)) {
  }
  std::vector<grpc::Status> statuses;
  for (const auto& silent : streams) statuses.push_back(silent->status);
  return statuses;
}

using StreamLimitsTest = E2eTest;

TEST_F(StreamLimitsTest, TenThousandSilentStreamsAreClosedWhileARealAgentStreamsOn) {
  // 10,000 streams (issue 12's number) over 100 connections against
  // max_streams 200 and a 5 s Hello deadline: the collector holds a thread
  // per admitted stream, and refuses the rest at once.
  constexpr int kSilent = 10000;
  ASSERT_NO_FATAL_FAILURE(
      StartCollector({.extra_yaml = "limits:\n  max_streams: 200\n  hello_timeout: 5s\n"}));
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "real-agent"}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("real-agent"));

  const std::vector<grpc::Status> statuses = SilentStreams(collector_->address(), kSilent, 100);
  std::map<grpc::StatusCode, int> by_code;
  for (const grpc::Status& status : statuses) ++by_code[status.error_code()];
  // Refused at once beyond the limit; the rest cancelled at the deadline.
  EXPECT_GE(by_code[grpc::StatusCode::RESOURCE_EXHAUSTED], kSilent - 200);
  EXPECT_EQ(by_code[grpc::StatusCode::RESOURCE_EXHAUSTED] + by_code[grpc::StatusCode::CANCELLED],
            kSilent);
  EXPECT_EQ(Refused(*collector_, "max_streams"), by_code[grpc::StatusCode::RESOURCE_EXHAUSTED]);
  EXPECT_EQ(Refused(*collector_, "hello_timeout"), by_code[grpc::StatusCode::CANCELLED]);
  // Only the real agent's stream is left.
  EXPECT_TRUE(WaitFor([&] { return OpenStreams(*collector_) == 1; }, kEventTimeout));

  // The real agent kept its stream throughout and still delivers.
  const std::optional<v1::HostSummary> before = collector_->FindHost("real-agent");
  ASSERT_TRUE(before.has_value());
  EXPECT_TRUE(before->connected());
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::optional<v1::HostSummary> now = collector_->FindHost("real-agent");
        return now && now->bytes_verified() > before->bytes_verified();
      },
      kEventTimeout))
      << "the real agent's reports stopped arriving";
  EXPECT_TRUE(collector_->daemon().running());
}

TEST_F(StreamLimitsTest, AnAgentsStreamsBeyondItsLimitAreRefusedAndCounted) {
  const std::string tokens = dir_.Join("tokens");
  std::ofstream(tokens) << kAgent << " " << kToken << "\n";
  ASSERT_NO_FATAL_FAILURE(
      StartCollector({.extra_yaml = absl::StrCat("tokens_file: ", tokens,
                                                 "\nlimits:\n  max_streams_per_agent: 2\n")}));
  auto first = std::make_unique<HeldStream>(*collector_, kToken);
  ASSERT_TRUE(first->Send(Hello(kAgent)));
  HeldStream second(*collector_, kToken);
  ASSERT_TRUE(second.Send(Hello(kAgent)));
  ASSERT_TRUE(WaitFor([&] { return OpenStreams(*collector_) == 2; }, kEventTimeout));

  StreamOutcome third = Exchange(*collector_, kToken, {Hello(kAgent), FindingRecord(1, 4096)});
  EXPECT_EQ(third.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << third.status.error_message();
  EXPECT_TRUE(third.acknowledged.empty());
  EXPECT_EQ(Refused(*collector_, "max_streams_per_agent"), 1);

  // A slot freed is a slot the agent gets back.
  first.reset();
  ASSERT_TRUE(WaitFor([&] { return OpenStreams(*collector_) == 1; }, kEventTimeout));
  third = Exchange(*collector_, kToken, {Hello(kAgent), FindingRecord(1, 4096)});
  EXPECT_TRUE(third.status.ok()) << third.status.error_message();
  EXPECT_EQ(third.acknowledged, std::set<uint64_t>{1});
}

TEST_F(StreamLimitsTest, AStreamThatFallsSilentAfterItsHelloIsClosedAtTheIdleTimeout) {
  ASSERT_NO_FATAL_FAILURE(StartCollector({.extra_yaml = "limits:\n  idle_timeout: 2s\n"}));
  HeldStream silent(*collector_, "");
  ASSERT_TRUE(silent.Send(Hello(kAgent)));
  ASSERT_TRUE(silent.Send(Heartbeat()));
  // Finish returns once the collector ends the stream (the client deadline is 60 s).
  const auto started = std::chrono::steady_clock::now();
  const grpc::Status status = silent.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  EXPECT_EQ(Refused(*collector_, "idle_timeout"), 1);
  EXPECT_EQ(Refused(*collector_, "hello_timeout"), 0);
  // The client sees the cancellation before the collector's stream handler
  // has returned and marked the host disconnected.
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::optional<v1::HostSummary> host = collector_->FindHost(kAgent);
        return host.has_value() && !host->connected();
      },
      kEventTimeout));
}

TEST_F(StreamLimitsTest, WithOneRecordInFlightEachRecordIsCommittedAlone) {
  // The stream is not read past its records in flight: with one allowed,
  // every group commit holds exactly one record (unbounded, the records sent
  // in a burst gather into a few commits).
  ASSERT_NO_FATAL_FAILURE(StartCollector({.extra_yaml = "limits:\n  max_records_in_flight: 1\n"}));
  constexpr uint64_t kRecords = 100;
  std::vector<v1::AgentMessage> messages = {Hello(kAgent)};
  for (uint64_t sequence = 1; sequence <= kRecords; ++sequence) {
    messages.push_back(FindingRecord(sequence, sequence * 4096));
  }
  const StreamOutcome outcome = Exchange(*collector_, "", messages);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.acknowledged.size(), kRecords);
  const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(SampleValue(*scrape, "fscanary_collector_storage_commit_seconds_count"),
            static_cast<double>(kRecords))
      << *scrape;
}

}  // namespace
}  // namespace fscanary::e2e
