#pragma once
// One agent stream as a gRPC callback reactor: it costs memory, not a thread.
// The Hello and the stream's closing are committed through the group
// committer with other streams'; records go to it one read at a time, and
// reading pauses while max_records_in_flight of them are not yet committed
// (HTTP/2 flow control then holds the agent). Acknowledgements and
// Rejections are written as commits finish, one write outstanding at a time.
//
// Threads: reactions (OnReadDone, OnWriteDone) run on gRPC's threads, commit
// callbacks on the committer's; mutex_ guards the state they share, and
// gRPC is only called outside it. Once the stream said Hello, only the
// committer's thread calls Finish, so a commit callback never races the
// reactor's deletion (OnDone).

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "collector/adaptive/hint_board.h"
#include "collector/service/ingest_service.h"

namespace fscanary::collector {

class IngestStream final : public grpc::ServerBidiReactor<v1::AgentMessage, v1::CollectorMessage> {
 public:
  // Starts the stream: refuses it at once (Finish) when the limits or the
  // credential do not admit it, else reads its Hello. Deletes itself in OnDone.
  IngestStream(IngestService& service, grpc::CallbackServerContext* context);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone() override { delete this; }

 private:
  struct Rejected {
    uint64_t sequence;
    std::string detail;
  };

  // Before the Hello is stored: ends the stream, releasing its limits.
  void FinishNow(grpc::Status status);
  void OnHello();
  void HelloStored(const absl::Status& status, uint64_t spooled_records, uint64_t spooled_bytes);
  void OnMessage();
  void Committed(const absl::Status& status, uint64_t sequence);
  // Starts what the state allows: the next write, the next read, or, once the
  // stream ended and every commit and acknowledgement is through, its close.
  void Pump();
  // Under mutex_: the next message for the agent, false when nothing waits.
  // One Rejection per conflicting record, then every committed sequence in
  // one Ack. (A Hint for the agent belongs here as well.)
  bool NextMessage(v1::CollectorMessage& out);
  // Commits the stream's closing, then finishes it with `status`.
  void Close(grpc::Status status);

  IngestService& service_;
  const IngestService::Shared& shared_;
  grpc::CallbackServerContext* const context_;
  std::unique_ptr<StreamLimits::Ticket> ticket_;
  // The agent ids the stream's credential names; nullopt: any.
  std::optional<std::set<std::string>> allowed_;
  std::string agent_id_;
  // Set on the committer's thread before streaming_, read by FinishNow.
  std::atomic<bool> hello_stored_ = false;

  // Owned by the read in flight (one at a time), then by OnReadDone.
  v1::AgentMessage in_;
  // Owned by the write in flight.
  v1::CollectorMessage out_;

  std::mutex mutex_;
  bool streaming_ = false;  // the Hello is stored
  bool reading_ = false;
  bool writing_ = false;
  bool read_closed_ = false;    // the agent half-closed, or the stream broke
  bool commit_failed_ = false;  // a record was neither stored nor conflicting
  bool closing_ = false;
  grpc::Status result_;       // not OK: a message was rejected
  uint64_t outstanding_ = 0;  // records in the committer
  std::deque<uint64_t> ready_;
  std::deque<Rejected> rejected_;
  // What this stream told its agent of adaptive verification; set with the
  // agent's id at the Hello.
  std::optional<adaptive::HintStream> hints_;
};

}  // namespace fscanary::collector
