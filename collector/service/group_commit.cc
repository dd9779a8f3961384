#include "collector/service/group_commit.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {
namespace {

const std::vector<double> kLatencyBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                            0.05,   0.1,   0.25,   0.5,   1,    2.5};

template <typename T>
T* MustAdd(absl::StatusOr<metrics::Family<T>*> family, const metrics::Labels& labels = {}) {
  // Metric names are constants of this file: a failure is a programming error.
  if (!family.ok()) {
    spdlog::critical("metric registration failed: {}", std::string(family.status().message()));
    std::abort();
  }
  absl::StatusOr<T*> series = (*family)->Add(labels);
  if (!series.ok()) std::abort();
  return *series;
}

}  // namespace

GroupCommitter::GroupCommitter(store::Store& store, size_t max_batch, metrics::Registry& registry)
    : store_(store), max_batch_(std::max<size_t>(max_batch, 1)) {
  commit_seconds_ = MustAdd(registry.AddHistogram("fscanary_collector_storage_commit_seconds",
                                                  "Time to durably commit one batch of records.",
                                                  kLatencyBounds));
  ingest_seconds_ = MustAdd(
      registry.AddHistogram("fscanary_collector_ingest_latency_seconds",
                            "Time from receiving a record to its durable commit.", kLatencyBounds));
  auto records = registry.AddCounter("fscanary_collector_records_total",
                                     "Records received from agents, by outcome.");
  records_stored_ = MustAdd(records, {{"outcome", "stored"}});
  records_duplicate_ = MustAdd(records, {{"outcome", "duplicate"}});
  records_conflict_ = MustAdd(records, {{"outcome", "conflict"}});
  commit_failures_ = MustAdd(records, {{"outcome", "commit_failed"}});
  thread_ = std::thread([this] { Loop(); });
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void GroupCommitter::Enqueue(const std::string& agent_id, v1::AgentMessage message, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({.agent_id = agent_id,
                      .message = std::move(message),
                      .done = std::move(done),
                      .enqueued_ns = io::MonotonicNanos()});
  }
  wake_.notify_one();
}

void GroupCommitter::EnqueueSession(const std::string& agent_id,
                                    std::optional<v1::AgentMessage> hello, SessionDone done) {
  {
    std::lock_guard lock(mutex_);
    sessions_.push_back({.agent_id = agent_id, .hello = std::move(hello), .done = std::move(done)});
  }
  wake_.notify_one();
}

void GroupCommitter::Loop() {
  std::deque<Item> batch;
  std::deque<SessionItem> sessions;
  while (true) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || !sessions_.empty(); });
      if (queue_.empty() && sessions_.empty()) return;  // stopping, and nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      while (!sessions_.empty() && sessions.size() < max_batch_) {
        sessions.push_back(std::move(sessions_.front()));
        sessions_.pop_front();
      }
    }
    // Records first: a stream's records were enqueued after its Hello was
    // stored, and a stream's closing after its last record committed.
    if (!batch.empty()) Commit(batch);
    if (!sessions.empty()) CommitSessions(sessions);
    batch.clear();
    sessions.clear();
  }
}

void GroupCommitter::CommitSessions(std::deque<SessionItem>& batch) {
  std::vector<store::SessionChange> changes;
  changes.reserve(batch.size());
  for (const SessionItem& item : batch) {
    changes.push_back(
        {.agent_id = item.agent_id, .hello = item.hello.has_value() ? &*item.hello : nullptr});
  }
  const absl::StatusOr<std::vector<absl::Status>> applied =
      store_.RecordSessions(changes, static_cast<int64_t>(io::WallClockNanos()));
  if (!applied.ok()) {
    spdlog::error("storing {} stream openings and closings failed: {}", batch.size(),
                  std::string(applied.status().message()));
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].done(applied.ok() ? (*applied)[i] : applied.status());
  }
}

void GroupCommitter::Commit(std::deque<Item>& batch) {
  // One transaction for every agent's records, in arrival order within each agent.
  std::map<std::string, std::vector<Item*>> by_agent;
  for (Item& item : batch) by_agent[item.agent_id].push_back(&item);
  std::vector<std::vector<v1::AgentMessage>> messages;
  std::vector<store::AgentBatch> batches;
  messages.reserve(by_agent.size());
  batches.reserve(by_agent.size());
  for (const auto& [agent_id, items] : by_agent) {
    std::vector<v1::AgentMessage>& agent_messages = messages.emplace_back();
    agent_messages.reserve(items.size());
    for (const Item* item : items) agent_messages.push_back(item->message);
    batches.push_back({.agent_id = agent_id, .messages = agent_messages});
  }
  const uint64_t start = io::MonotonicNanos();
  const absl::StatusOr<std::vector<std::vector<store::RecordResult>>> stored =
      store_.IngestBatches(batches, static_cast<int64_t>(io::WallClockNanos()));
  const uint64_t now = io::MonotonicNanos();
  commit_seconds_->Observe(static_cast<double>(now - start) / 1e9);
  if (!stored.ok()) {
    spdlog::error("storing {} records failed: {}", batch.size(),
                  std::string(stored.status().message()));
    commit_failures_->Increment(static_cast<double>(batch.size()));
  }
  size_t agent_index = 0;
  for (auto& [agent_id, items] : by_agent) {
    for (size_t i = 0; i < items.size(); ++i) {
      Item& item = *items[i];
      const uint64_t sequence = item.message.sequence();
      if (!stored.ok()) {
        item.done(stored.status(), sequence);
        continue;
      }
      ingest_seconds_->Observe(static_cast<double>(now - item.enqueued_ns) / 1e9);
      const store::RecordResult& result = (*stored)[agent_index][i];
      switch (result.outcome) {
        case store::RecordResult::Outcome::kStored:
          records_stored_->Increment();
          break;
        case store::RecordResult::Outcome::kDuplicate:
          records_duplicate_->Increment();
          break;
        case store::RecordResult::Outcome::kFailed:
          // Only this agent's records: the others of the commit are stored.
          commit_failures_->Increment();
          spdlog::error("agent {} record {}: not stored: {}", agent_id, sequence,
                        result.error.ToString());
          // Unavailable whatever the store said: only a conflict may be
          // AlreadyExists (the stream rejects those for good).
          item.done(absl::UnavailableError(result.error.ToString()), sequence);
          continue;
        case store::RecordResult::Outcome::kConflict:
          records_conflict_->Increment();
          spdlog::warn(
              "agent {} record {}: the collector holds another record under this sequence "
              "(held sha256 {}, received sha256 {}); not stored, not acknowledged",
              agent_id, sequence, result.held_sha256, result.received_sha256);
          item.done(absl::AlreadyExistsError(absl::StrCat(
                        "sequence ", sequence, " is held with other content (held sha256 ",
                        result.held_sha256, ", received sha256 ", result.received_sha256, ")")),
                    sequence);
          continue;
      }
      item.done(absl::OkStatus(), sequence);
    }
    ++agent_index;
  }
}

}  // namespace fscanary::collector
