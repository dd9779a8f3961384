// Injected corruption reaches the collector within 1 s of detection, and is reported once.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace fscanary::e2e {
namespace {

constexpr int kCorruptedBlocks = 8;
constexpr int64_t kMaxDetectToCommitNanos = 1'000'000'000;

class CorruptionTest : public BackendE2eTest {
 protected:
  // Starts both daemons, waits until the agent verifies, then corrupts
  // kCorruptedBlocks of the blocks it wrote (spread over them).
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartCollector());
    ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "corrupt-host"}));
    ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("corrupt-host"));
    const absl::StatusOr<std::vector<uint64_t>> written = DurableBlocks(agent_->state_dir());
    ASSERT_TRUE(written.ok()) << written.status();
    ASSERT_GE(written->size(), size_t{kCorruptedBlocks});
    written_blocks_ = written->size();
    const size_t stride = written->size() / kCorruptedBlocks;
    for (int i = 0; i < kCorruptedBlocks; ++i) {
      const absl::StatusOr<uint64_t> offset =
          CorruptPayload(agent_->target(), (*written)[i * stride]);
      ASSERT_TRUE(offset.ok()) << offset.status();
      corrupted_.insert(*offset);
    }
  }

  // The stored findings of the host, once one has arrived for every
  // corrupted block.
  std::vector<v1::StoredFinding> WaitForEveryCorruptedBlock() {
    std::vector<v1::StoredFinding> findings;
    const bool arrived = WaitFor(
        [&] {
          absl::StatusOr<std::vector<v1::StoredFinding>> listed =
              collector_->ListFindings("corrupt-host");
          if (!listed.ok()) return false;
          findings = *std::move(listed);
          std::set<uint64_t> reported;
          for (const v1::StoredFinding& stored : findings) {
            reported.insert(stored.finding().offset());
          }
          return std::includes(reported.begin(), reported.end(), corrupted_.begin(),
                               corrupted_.end());
        },
        kEventTimeout);
    EXPECT_TRUE(arrived) << "findings stored: " << findings.size() << " of " << corrupted_.size();
    return findings;
  }

  std::set<uint64_t> corrupted_;
  uint64_t written_blocks_ = 0;
};

TEST_P(CorruptionTest, InjectedChecksumMismatchesArriveWithinASecondOfDetection) {
  const std::vector<v1::StoredFinding> findings = WaitForEveryCorruptedBlock();
  ASSERT_FALSE(HasFailure());

  int64_t max_latency = 0;
  for (const v1::StoredFinding& stored : findings) {
    const v1::Finding& finding = stored.finding();
    SCOPED_TRACE(stored.ShortDebugString());
    EXPECT_EQ(stored.agent_id(), "corrupt-host");
    EXPECT_EQ(finding.kind(), v1::CHECKSUM_MISMATCH);
    EXPECT_TRUE(corrupted_.contains(finding.offset())) << "a finding for a block left alone";
    EXPECT_TRUE(finding.persistent());
    EXPECT_EQ(finding.target(), kTargetName);
    EXPECT_EQ(finding.target_path(), agent_->target());
    EXPECT_EQ(finding.block_size(), kBlockSize);
    EXPECT_TRUE(std::filesystem::is_directory(finding.evidence_path()))
        << "the finding names evidence that is not there";
    const int64_t latency = stored.received_unix_nanos() - finding.detected_unix_nanos();
    EXPECT_GE(latency, 0) << "received before it was detected";
    EXPECT_LE(latency, kMaxDetectToCommitNanos)
        << "detected -> committed took " << latency << " ns";
    max_latency = std::max(max_latency, latency);
  }
  RecordProperty("max_detect_to_commit_us", std::to_string(max_latency / 1000));
  std::cout << "max detected -> committed latency: " << max_latency / 1000 << " us over "
            << findings.size() << " findings\n";

  const std::map<std::string, std::string> host = {{"host", "corrupt-host"}};
  std::string scrape;
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::string> metrics = collector_->ScrapeMetrics();
        if (!metrics.ok()) return false;
        scrape = *metrics;
        return SampleValue(scrape, "fscanary_host_findings_total", host).value_or(0) > 0;
      },
      kEventTimeout))
      << scrape;
  EXPECT_EQ(SampleValue(scrape, "fscanary_host_findings_total", host), double(findings.size()));
  EXPECT_GT(SampleValue(scrape, "fscanary_host_last_finding_timestamp_seconds", host).value_or(0),
            0);
}

TEST_P(CorruptionTest, PersistentCorruptionIsReportedOnceAcrossLaterScrubs) {
  const std::vector<v1::StoredFinding> first = WaitForEveryCorruptedBlock();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(first.size(), corrupted_.size());

  // Two whole scrub cycles later every corrupted block was found bad again
  // at least once, and the reports of that reached the collector.
  const std::optional<v1::HostSummary> before = collector_->FindHost("corrupt-host");
  ASSERT_TRUE(before.has_value());
  const uint64_t scrub_bytes = written_blocks_ * kBlockSize;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::optional<v1::HostSummary> now = collector_->FindHost("corrupt-host");
        return now && now->bytes_verified() > before->bytes_verified() + 2 * scrub_bytes;
      },
      kEventTimeout));
  // The same damage read again keeps the evidence it was first found with.
  for (const uint64_t offset : corrupted_) {
    EXPECT_EQ(EvidenceCount(agent_->state_dir(), offset), 1) << "offset " << offset;
  }

  const absl::StatusOr<std::vector<v1::StoredFinding>> later =
      collector_->ListFindings("corrupt-host");
  ASSERT_TRUE(later.ok()) << later.status();
  std::map<uint64_t, int> per_offset;
  for (const v1::StoredFinding& stored : *later) ++per_offset[stored.finding().offset()];
  for (const uint64_t offset : corrupted_) {
    EXPECT_EQ(per_offset[offset], 1) << "offset " << offset << " reported more than once";
  }
  EXPECT_EQ(later->size(), first.size());
  const std::optional<v1::HostSummary> host = collector_->FindHost("corrupt-host");
  ASSERT_TRUE(host.has_value());
  EXPECT_EQ(host->findings(), corrupted_.size());
}

INSTANTIATE_TEST_SUITE_P(Backends, CorruptionTest, kBothBackends, BackendTestName);

}  // namespace
}  // namespace fscanary::e2e
