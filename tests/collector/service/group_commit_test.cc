// The group committer: one agent's record the store refuses fails only that
// agent's records; the others committed with it are stored and acknowledged.
#include "collector/service/group_commit.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "metrics/registry.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::collector {
namespace {

using store::testing::FindingRecord;
using store::testing::HelloMessage;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;

// The store, with a gate on its first group commit: records enqueued while
// that commit is held all go into the next one, together.
class GatedStore final : public store::Store {
 public:
  explicit GatedStore(store::Store& store) : store_(store) {}

  void WaitUntilHeld() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return held_; });
  }
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }

  absl::StatusOr<std::vector<std::vector<store::RecordResult>>> IngestBatches(
      std::span<const store::AgentBatch> batches, int64_t received) override {
    {
      std::unique_lock lock(mutex_);
      held_ = true;
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
    }
    return store_.IngestBatches(batches, received);
  }
  absl::Status RecordHello(const std::string& agent_id, const v1::AgentMessage& message,
                           int64_t now) override {
    return store_.RecordHello(agent_id, message, now);
  }
  absl::StatusOr<std::vector<absl::Status>> RecordSessions(
      std::span<const store::SessionChange> changes, int64_t now) override {
    {
      std::lock_guard lock(mutex_);
      session_commits_.push_back(changes.size());
    }
    return store_.RecordSessions(changes, now);
  }
  // The size of each RecordSessions call, in order.
  std::vector<size_t> session_commits() {
    std::lock_guard lock(mutex_);
    return session_commits_;
  }
  absl::Status Touch(const std::string& agent_id, int64_t now) override {
    return store_.Touch(agent_id, now);
  }
  absl::Status TouchHosts(const std::map<std::string, int64_t>& last_heard) override {
    return store_.TouchHosts(last_heard);
  }
  absl::Status SetConnected(const std::string& agent_id, bool connected, int64_t now) override {
    return store_.SetConnected(agent_id, connected, now);
  }
  absl::StatusOr<v1::ListHostsResponse> ListHosts(const v1::ListHostsRequest& page) override {
    return store_.ListHosts(page);
  }
  absl::StatusOr<v1::ListFindingsResponse> ListFindings(
      const v1::ListFindingsRequest& request) override {
    return store_.ListFindings(request);
  }
  absl::StatusOr<v1::GetHostResponse> GetHost(const std::string& agent_id) override {
    return store_.GetHost(agent_id);
  }
  absl::StatusOr<std::vector<store::EpochRecord>> ListEpochs() override {
    return store_.ListEpochs();
  }
  absl::StatusOr<store::StoreStats> GetStats() override { return store_.GetStats(); }
  absl::StatusOr<std::vector<store::HostActivity>> ListHostActivity() override {
    return store_.ListHostActivity();
  }
  absl::StatusOr<uint64_t> MaxSequence(const std::string& agent_id) override {
    return store_.MaxSequence(agent_id);
  }
  absl::StatusOr<store::RetentionResult> ApplyRetention(const store::RetentionPolicy& policy,
                                                        int64_t now) override {
    return store_.ApplyRetention(policy, now);
  }

 private:
  store::Store& store_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool held_ = false;
  bool open_ = false;
  std::vector<size_t> session_commits_;
};

double Records(const metrics::Registry& registry, const std::string& outcome) {
  for (const metrics::MetricFamily& family : registry.Collect()) {
    if (family.name != "fscanary_collector_records_total") continue;
    for (const metrics::Series& series : family.series) {
      if (series.labels.at("outcome") == outcome) return series.value;
    }
  }
  return -1;
}

TEST(GroupCommit, OneAgentsRefusedRecordFailsOnlyThatAgentsRecords) {
  fscanary::testing::TempDir dir;
  std::unique_ptr<store::Store> sqlite = store::testing::OpenStore(dir);
  // What the store refuses of the poisoned agent: SQLite's own refusal.
  ASSERT_NO_FATAL_FAILURE(store::testing::RefuseFindingSequence(dir, 13));
  GatedStore store(*sqlite);
  metrics::Registry registry;
  std::mutex mutex;
  std::map<std::pair<std::string, uint64_t>, absl::Status> done;
  auto record = [&](const std::string& agent) {
    return [&, agent](const absl::Status& status, uint64_t sequence) {
      std::lock_guard lock(mutex);
      done[{agent, sequence}] = status;
    };
  };
  {
    GroupCommitter committer(store, 64, registry);
    committer.Enqueue("first", FindingRecord(1, kSecond), record("first"));
    store.WaitUntilHeld();
    // These gather while the first commit is held: one group.
    committer.Enqueue("good", FindingRecord(1, kSecond), record("good"));
    committer.Enqueue("poisoned", FindingRecord(12, kSecond), record("poisoned"));
    committer.Enqueue("poisoned", FindingRecord(13, kSecond), record("poisoned"));
    committer.Enqueue("good", FindingRecord(2, kSecond), record("good"));
    committer.Enqueue("other", FindingRecord(1, kSecond), record("other"));
    store.Open();
  }  // commits what is queued, then stops
  ASSERT_EQ(done.size(), 6u);
  const std::vector<std::pair<std::string, uint64_t>> stored = {
      {"first", 1}, {"good", 1}, {"good", 2}, {"other", 1}};
  for (const auto& key : stored) {
    EXPECT_TRUE(done.at(key).ok()) << key.first << " " << key.second << ": " << done.at(key);
  }
  for (const uint64_t sequence : {12u, 13u}) {
    const absl::Status& status = done.at({"poisoned", sequence});
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("poison record refused"), absl::string_view::npos) << status;
  }
  EXPECT_EQ(sqlite->ListFindings({})->findings_size(), 4);
  EXPECT_EQ(Records(registry, "stored"), 4);
  EXPECT_EQ(Records(registry, "commit_failed"), 2);
}

TEST(GroupCommit, HellosThatArriveDuringACommitAreStoredTogether) {
  fscanary::testing::TempDir dir;
  std::unique_ptr<store::Store> sqlite = store::testing::OpenStore(dir);
  GatedStore store(*sqlite);
  metrics::Registry registry;
  constexpr int kAgents = 40;
  std::mutex mutex;
  std::map<std::string, absl::Status> opened;
  std::map<std::string, absl::Status> closed;
  auto agent = [](int i) { return "agent-" + std::to_string(i); };
  {
    GroupCommitter committer(store, 64, registry);
    committer.Enqueue("first", FindingRecord(1, kSecond), [](const absl::Status&, uint64_t) {});
    store.WaitUntilHeld();
    // A connect storm while the first commit is held.
    for (int i = 0; i < kAgents; ++i) {
      committer.EnqueueSession(agent(i), HelloMessage(VmFacts(), kSecond),
                               [&, i](const absl::Status& status) {
                                 std::lock_guard lock(mutex);
                                 opened[agent(i)] = status;
                               });
    }
    store.Open();
  }
  ASSERT_EQ(opened.size(), static_cast<size_t>(kAgents));
  for (const auto& [agent_id, status] : opened) EXPECT_TRUE(status.ok()) << agent_id << status;
  EXPECT_EQ(store.session_commits(), std::vector<size_t>{kAgents});
  for (int i = 0; i < kAgents; ++i) EXPECT_TRUE(sqlite->GetHost(agent(i))->host().connected());

  {
    metrics::Registry second_registry;
    GroupCommitter committer(store, 64, second_registry);
    for (int i = 0; i < kAgents; ++i) {
      committer.EnqueueSession(agent(i), std::nullopt, [&, i](const absl::Status& status) {
        std::lock_guard lock(mutex);
        closed[agent(i)] = status;
      });
    }
  }
  ASSERT_EQ(closed.size(), static_cast<size_t>(kAgents));
  for (const auto& [agent_id, status] : closed) EXPECT_TRUE(status.ok()) << agent_id << status;
  for (int i = 0; i < kAgents; ++i) EXPECT_FALSE(sqlite->GetHost(agent(i))->host().connected());
}

}  // namespace
}  // namespace fscanary::collector
