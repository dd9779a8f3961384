// Hostile agents against the real collector over raw Ingest streams: a flood
// of hosts with oversized label values, and huge numbers sent again and
// again. Neither may grow the metrics without bound nor break them for the
// rest of the fleet (docs/SECURITY.md).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "gtest/gtest.h"
#include "io/posix.h"
#include "metrics/exposition_check.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"

namespace fscanary::e2e {
namespace {

int64_t Now() { return static_cast<int64_t>(io::WallClockNanos()); }

v1::AgentMessage Finding(uint64_t sequence) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(Now());
  v1::Finding& finding = *message.mutable_finding();
  finding.set_checker("block");
  finding.set_target("t0");
  finding.set_kind(v1::CHECKSUM_MISMATCH);
  finding.set_persistent(true);
  finding.set_block_size(4096);
  finding.set_detected_unix_nanos(Now());
  return message;
}

struct Streamed {
  grpc::Status status;
  std::set<uint64_t> acknowledged;
};

// One Ingest stream: sends `messages`, half-closes, reads every
// acknowledgement, and returns how the collector ended it.
Streamed Stream(const std::shared_ptr<grpc::Channel>& channel,
                const std::vector<v1::AgentMessage>& messages) {
  const auto stub = v1::Ingest::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 60s);
  const auto stream = stub->Stream(&context);
  for (const v1::AgentMessage& message : messages) {
    if (!stream->Write(message)) break;
  }
  stream->WritesDone();
  Streamed streamed;
  v1::CollectorMessage reply;
  while (stream->Read(&reply)) {
    for (const v1::SequenceRange& range : reply.ack().ranges()) {
      for (uint64_t sequence = range.first(); sequence <= range.last(); ++sequence) {
        streamed.acknowledged.insert(sequence);
      }
    }
  }
  streamed.status = stream->Finish();
  return streamed;
}

class HostileBoundsTest : public E2eTest {
 protected:
  // Scrapes until `done` holds for the exposition; the last one scraped.
  std::optional<std::string> ScrapeUntil(const std::function<bool(const std::string&)>& done,
                                         std::chrono::milliseconds timeout) {
    std::string exposition;
    const bool held = WaitFor(
        [&] {
          absl::StatusOr<std::string> scraped = collector_->ScrapeMetrics();
          if (!scraped.ok()) return false;
          exposition = *std::move(scraped);
          return done(exposition);
        },
        timeout, 1s);
    if (!held) return std::nullopt;
    return exposition;
  }
};

// --- Labels: a flood of hosts, label values of 4 KiB -----------------------

constexpr int kFloodHosts = 10000;
constexpr size_t kMaxHosts = 1000;
constexpr size_t kMaxLabelValues = 100;
// LabelLimits::max_value_bytes, the default.
constexpr size_t kMaxValueBytes = 128;

std::string FourKib(int host) {
  std::string value = absl::StrCat("huge-", host, "-");
  value.resize(4096, 'z');
  return value;
}

// What the exposition can hold at most once every label is bounded: per kept
// host (and "other") 11 series (up, last seen, last verified, findings, last
// finding, spool, 4 spool-loss kinds, info); the aggregates by attribute, 3
// families, vary here only in kernel (kMaxLabelValues + "other") and
// scheduler ("none" or "other"); and 200 lines of the collector's own
// metrics. A line is at most its name (64), 10 labels of a name (16) and a
// bounded value (kMaxValueBytes) with quotes and separators, and a number (32).
constexpr size_t kMaxLineBytes = 64 + 10 * (16 + kMaxValueBytes + 4) + 32;
constexpr size_t kMaxLines = (kMaxHosts + 1) * 11 + 3 * (kMaxLabelValues + 1) * 2 + 200;
constexpr size_t kMaxExpositionBytes = kMaxLines * kMaxLineBytes;

TEST_F(HostileBoundsTest, TenThousandHostsWithFourKibLabelValuesLeaveTheExpositionBounded) {
  ASSERT_NO_FATAL_FAILURE(StartCollector(
      {.extra_yaml = absl::StrCat("  max_label_values: ", kMaxLabelValues, "\n  max_hosts: ",
                                  kMaxHosts, "\nstore:\n  synchronous: normal\n")}));
  // Half the hosts send 4 KiB values (each its own), half a kernel of their
  // own that is well formed: either way 10,000 values of `kernel`.
  constexpr int kThreads = 8;
  std::atomic<int> refused = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto channel =
          grpc::CreateChannel(collector_->address(), grpc::InsecureChannelCredentials());
      for (int host = t; host < kFloodHosts; host += kThreads) {
        const bool huge = host % 2 == 0;
        const v1::AgentMessage hello =
            Hello(absl::StrCat("flood-", host),
                  VmFacts(huge ? FourKib(host) : absl::StrCat("6.1.", host, "-flood"),
                          huge ? FourKib(host) : "none"),
                  huge ? FourKib(host) : "0.1.0");
        if (!Stream(channel, {hello}).status.ok()) ++refused;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(refused, 0);
  // The newest host of all, so beyond the host limit: its corruption must
  // still reach the paging series.
  const auto channel =
      grpc::CreateChannel(collector_->address(), grpc::InsecureChannelCredentials());
  const Streamed late =
      Stream(channel, {Hello("late-host", VmFacts("6.1.0-late", "none"), "0.1.0"), Finding(1)});
  ASSERT_TRUE(late.status.ok()) << late.status.error_message();
  ASSERT_EQ(late.acknowledged, std::set<uint64_t>{1});

  const std::optional<std::string> scraped = ScrapeUntil(
      [](const std::string& exposition) {
        return SampleValue(exposition, "fscanary_hosts") == kFloodHosts + 1 &&
               SampleSum(exposition, "fscanary_findings_total", {{"kind", "checksum_mismatch"}}) ==
                   1;
      },
      120s);
  ASSERT_TRUE(scraped.has_value()) << "the flood never showed in the metrics";
  const std::string& exposition = *scraped;

  EXPECT_TRUE(metrics::CheckTextExposition(exposition).ok());
  EXPECT_LE(exposition.size(), kMaxExpositionBytes);
  // Each label within its character set, length and number of values.
  std::map<std::string, std::set<std::string>> values;
  for (const Sample& sample : ParseExposition(exposition)) {
    for (const auto& [label, value] : sample.labels) {
      EXPECT_LE(value.size(), kMaxValueBytes) << sample.name << " " << label;
      values[label].insert(value);
    }
  }
  // A fleet this large has per-host series only for the hosts an operator
  // must see (docs/METRICS.md, "Per-host series at fleet scale"): the flood's
  // clean hosts are counted by attributes, not named; the late victim is.
  EXPECT_EQ(values["host"], std::set<std::string>{"late-host"});
  for (const char* label : {"kernel", "scheduler", "agent_version"}) {
    EXPECT_LE(values[label].size(), kMaxLabelValues + 1) << label;
    EXPECT_TRUE(values[label].contains("other")) << label;
  }
  // The excess, counted: every kernel but the kept ones; the 4 KiB
  // schedulers and versions.
  const auto folded = [&](const std::string& label) {
    return SampleValue(exposition, "fscanary_collector_label_values_folded", {{"label", label}});
  };
  EXPECT_EQ(folded("kernel"), kFloodHosts + 1 - kMaxLabelValues);
  EXPECT_EQ(folded("scheduler"), kFloodHosts / 2);
  EXPECT_EQ(folded("agent_version"), kFloodHosts / 2);
  // The late host's corruption pages, under its name.
  EXPECT_EQ(SampleValue(exposition, "fscanary_host_findings_total", {{"host", "late-host"}}), 1);
  EXPECT_GT(SampleValue(exposition, "fscanary_host_last_finding_timestamp_seconds",
                        {{"host", "late-host"}})
                .value_or(0),
            0);
}

// --- Sums: huge numbers, again and again -----------------------------------

TEST_F(HostileBoundsTest, HugeCountsSentAgainAndAgainSaturateWhileThePagingSeriesStay) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  const auto channel =
      grpc::CreateChannel(collector_->address(), grpc::InsecureChannelCredentials());
  const Streamed victim =
      Stream(channel, {Hello("victim", VmFacts("6.1.0-victim", "none"), "0.1.0"), Finding(1)});
  ASSERT_TRUE(victim.status.ok()) << victim.status.error_message();

  // A report counts at most 2^53 once clamped: 1024 of them reach 2^63.
  constexpr int kRounds = 12;
  constexpr int kPerRound = 100;
  constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();
  const double saturated = static_cast<double>(std::numeric_limits<int64_t>::max());
  uint64_t sequence = 0;
  double verified_before = 0;
  double lost_before = 0;
  for (int round = 1; round <= kRounds; ++round) {
    std::vector<v1::AgentMessage> messages = {
        Hello("greedy", VmFacts("6.1.0-greedy", "none"), "0.1.0")};
    for (int i = 0; i < kPerRound; ++i) {
      v1::AgentMessage& report = messages.emplace_back();
      report.set_sequence(++sequence);
      report.set_created_unix_nanos(Now());
      report.mutable_report()->set_start_unix_nanos(Now() - 1'000'000'000);
      report.mutable_report()->set_end_unix_nanos(Now());
      for (int checker = 0; checker < 3; ++checker) {
        v1::CheckerInterval& interval = *report.mutable_report()->add_checkers();
        interval.set_checker("block");
        interval.set_bytes_verified(kHuge);
        interval.set_bytes_written(kHuge);
      }
      v1::AgentMessage& loss = messages.emplace_back();
      loss.set_sequence(++sequence);
      loss.set_created_unix_nanos(Now());
      loss.mutable_spool_loss()->set_findings_dropped(kHuge);
    }
    // A corruption each round refreshes the aggregates at once.
    messages.push_back(Finding(++sequence));
    const Streamed greedy = Stream(channel, messages);
    ASSERT_TRUE(greedy.status.ok()) << "round " << round << ": " << greedy.status.error_message();
    ASSERT_EQ(greedy.acknowledged.size(), size_t{2 * kPerRound + 1}) << "round " << round;

    const std::optional<std::string> scraped = ScrapeUntil(
        [&](const std::string& exposition) {
          return SampleSum(exposition, "fscanary_findings_total",
                           {{"kind", "checksum_mismatch"}}) == round + 1;
        },
        kEventTimeout);
    ASSERT_TRUE(scraped.has_value()) << "round " << round;
    const std::string& exposition = *scraped;
    // The paging series of both hosts are there, and what the greedy one
    // sent never made a sum go back or disappear.
    EXPECT_EQ(SampleValue(exposition, "fscanary_host_findings_total", {{"host", "victim"}}), 1);
    EXPECT_EQ(SampleValue(exposition, "fscanary_host_findings_total", {{"host", "greedy"}}), round);
    EXPECT_GT(SampleValue(exposition, "fscanary_host_last_finding_timestamp_seconds",
                          {{"host", "victim"}})
                  .value_or(0),
              0);
    const std::optional<double> verified =
        SampleValue(exposition, "fscanary_verified_bytes_total", {{"kernel", "6.1.0-greedy"}});
    const std::optional<double> lost =
        SampleValue(exposition, "fscanary_host_spool_lost_records_total",
                    {{"host", "greedy"}, {"what", "findings_dropped"}});
    ASSERT_TRUE(verified.has_value() && lost.has_value()) << "round " << round;
    EXPECT_GE(*verified, verified_before) << "round " << round;
    EXPECT_GE(*lost, lost_before) << "round " << round;
    EXPECT_LE(*verified, saturated);
    verified_before = *verified;
    lost_before = *lost;
  }
  EXPECT_EQ(verified_before, saturated);
  EXPECT_EQ(lost_before, saturated);
}

}  // namespace
}  // namespace fscanary::e2e
