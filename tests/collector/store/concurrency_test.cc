// Queries run while batches commit: each sees a consistent snapshot, and
// writers on several threads each store their records exactly once.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;
using testing::ReportRecord;

constexpr int kWriters = 4;
constexpr uint64_t kBatches = 40;
constexpr uint64_t kBatchSize = 8;

// Batch b of an agent: sequences b*8+1 .. b*8+8, half findings, half reports.
std::vector<v1::AgentMessage> Batch(uint64_t batch) {
  std::vector<v1::AgentMessage> messages;
  for (uint64_t i = 1; i <= kBatchSize; ++i) {
    const uint64_t sequence = batch * kBatchSize + i;
    messages.push_back(i % 2 == 0 ? FindingRecord(sequence, 1) : ReportRecord(sequence, 1, 1));
  }
  return messages;
}

class Concurrency : public testing::BackendTest {};

TEST_P(Concurrency, ReadersSeeWholeBatchesWhileWritersCommit) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  std::atomic<int> writers_running = kWriters;
  std::atomic<bool> failed = false;

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string agent = "agent-" + std::to_string(w);
      for (uint64_t b = 0; b < kBatches; ++b) {
        // Every batch twice: the second time nothing is new.
        for (bool expect_new : {true, false}) {
          absl::StatusOr<std::vector<RecordResult>> stored = store->IngestBatch(agent, Batch(b), 1);
          if (!stored.ok() || stored->size() != kBatchSize) failed = true;
          for (const RecordResult& result : stored.ok() ? *stored : std::vector<RecordResult>{}) {
            const auto expected =
                expect_new ? RecordResult::Outcome::kStored : RecordResult::Outcome::kDuplicate;
            if (result.outcome != expected) failed = true;
          }
        }
      }
      --writers_running;
    });
  }
  std::atomic<uint64_t> snapshots = 0;
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&] {
      int previous = 0;
      // Read until the writers are done, then once more.
      for (bool last = false; !last;) {
        last = writers_running == 0;
        absl::StatusOr<v1::ListFindingsResponse> findings = store->ListFindings({});
        absl::StatusOr<v1::ListHostsResponse> hosts = store->ListHosts();
        if (!findings.ok() || !hosts.ok()) {
          failed = true;
          return;
        }
        const int count = findings->findings_size();
        if (count % (kBatchSize / 2) != 0 || count < previous) failed = true;
        previous = count;
        for (const v1::HostSummary& host : hosts->hosts()) {
          if (host.findings() % (kBatchSize / 2) != 0) failed = true;
        }
        ++snapshots;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  EXPECT_FALSE(failed);
  EXPECT_GT(snapshots, 3u);
  EXPECT_EQ(store->ListFindings({})->findings_size(),
            static_cast<int>(kWriters * kBatches * kBatchSize / 2));
  EXPECT_EQ(store->GetStats()->reports, kWriters * kBatches * kBatchSize / 2);
}

FSCANARY_ON_EVERY_BACKEND(Concurrency);

}  // namespace
}  // namespace fscanary::store
