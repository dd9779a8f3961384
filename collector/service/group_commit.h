#pragma once
// Commits the records of every connected agent in shared transactions: while
// one commit runs, the next batch gathers, so a busy collector pays one
// durable commit for many records and an idle one commits at once. Streams
// opening and closing (their Hello and connected flag) are committed the same
// way, so a connect storm costs a commit per batch of Hellos, not per agent.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "collector/store/store.h"
#include "fscanary/v1/ingest.pb.h"
#include "metrics/registry.h"

namespace fscanary::collector {

// Thread-safe. Callbacks run on the committer's thread, after the record is
// durably stored (or the commit failed), in the order records were enqueued.
// `done` gets OK for a record stored now or held already (acknowledge it),
// AlreadyExists for a conflict: its sequence is held with other content, so
// it was not stored and must not be acknowledged (counted as
// records_total{outcome="conflict"} and logged with both digests); any other
// error: the commit failed, for every record of the batch when the
// transaction failed, or for one agent's records only when the store refused
// one of them (the other agents' records committed with them are stored).
class GroupCommitter {
 public:
  using Done = std::function<void(const absl::Status& status, uint64_t sequence)>;

  GroupCommitter(store::Store& store, size_t max_batch, metrics::Registry& registry);
  // Commits what is queued, then stops.
  ~GroupCommitter();

  void Enqueue(const std::string& agent_id, v1::AgentMessage message, Done done);

  // A stream opened with `hello` (nullopt: closed), applied as
  // Store::RecordSessions does. `done` gets OK once it is durable, or the
  // error; it runs on the committer's thread.
  using SessionDone = std::function<void(const absl::Status& status)>;
  void EnqueueSession(const std::string& agent_id, std::optional<v1::AgentMessage> hello,
                      SessionDone done);

 private:
  struct Item {
    std::string agent_id;
    v1::AgentMessage message;
    Done done;
    uint64_t enqueued_ns = 0;
  };
  struct SessionItem {
    std::string agent_id;
    std::optional<v1::AgentMessage> hello;
    SessionDone done;
  };
  void Loop();
  void Commit(std::deque<Item>& batch);
  void CommitSessions(std::deque<SessionItem>& batch);

  store::Store& store_;
  const size_t max_batch_;
  metrics::Histogram* commit_seconds_ = nullptr;
  metrics::Histogram* ingest_seconds_ = nullptr;
  metrics::Counter* records_stored_ = nullptr;
  metrics::Counter* records_duplicate_ = nullptr;
  metrics::Counter* records_conflict_ = nullptr;
  metrics::Counter* commit_failures_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  std::deque<SessionItem> sessions_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fscanary::collector
