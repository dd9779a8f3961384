// A batch the store called committed survives the process being killed with
// SIGKILL at any moment, and batches are all or nothing.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;

constexpr uint64_t kBatchSize = 16;
constexpr uint64_t kBatchesBeforeKill = 40;

// The child: ingests batch after batch and, after each IngestBatch returned
// OK, writes the batch's number to `report_fd`. Never returns.
[[noreturn]] void IngestUntilKilled(const std::string& path, int report_fd) {
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore({.path = path});
  if (!store.ok()) _exit(2);
  for (uint64_t batch = 1;; ++batch) {
    std::vector<v1::AgentMessage> messages;
    for (uint64_t i = 0; i < kBatchSize; ++i) {
      messages.push_back(FindingRecord((batch - 1) * kBatchSize + i + 1, 1));
    }
    if (!(*store)->IngestBatch("agent", messages, 1).ok()) _exit(3);
    if (write(report_fd, &batch, sizeof(batch)) != sizeof(batch)) _exit(4);
  }
}

TEST(Durability, EveryBatchReportedCommittedSurvivesSigkill) {
  fscanary::testing::TempDir dir;
  const std::string path = dir.Join("collector.db");
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    IngestUntilKilled(path, pipe_fds[1]);
  }
  close(pipe_fds[1]);
  uint64_t committed = 0;
  while (committed < kBatchesBeforeKill) {
    uint64_t batch = 0;
    ASSERT_EQ(read(pipe_fds[0], &batch, sizeof(batch)), static_cast<ssize_t>(sizeof(batch)))
        << "the child stopped before it was killed";
    committed = batch;
  }
  // The child is by now in the middle of its next batches.
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  close(pipe_fds[0]);

  auto store = testing::OpenStore(dir);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<v1::ListFindingsResponse> findings = store->ListFindings({});
  ASSERT_TRUE(findings.ok()) << findings.status();
  std::set<uint64_t> sequences;
  for (const v1::StoredFinding& finding : findings->findings()) {
    EXPECT_TRUE(sequences.insert(finding.sequence()).second) << finding.sequence();
  }
  // Every reported batch is there, and nothing but whole batches.
  ASSERT_GE(sequences.size(), committed * kBatchSize);
  EXPECT_EQ(sequences.size() % kBatchSize, 0u);
  EXPECT_EQ(*sequences.rbegin(), sequences.size());
  EXPECT_EQ(*store->MaxSequence("agent"), sequences.size());
}

}  // namespace
}  // namespace fscanary::store
