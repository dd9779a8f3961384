#include "collector/service/ingest_service.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "collector/service/query_service.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {
namespace {

// Acknowledgements of one stream: sequences committed by the group committer
// are written back by this stream's own writer thread, coalesced into ranges.
class AckWriter {
 public:
  AckWriter(grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream,
            adaptive::HintStream hints)
      : stream_(stream), hints_(std::move(hints)), thread_([this] { Loop(); }) {}

  ~AckWriter() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  void Expect() {
    std::lock_guard lock(mutex_);
    ++outstanding_;
  }

  // Back pressure: waits while `limit` records of the stream are queued and
  // not yet committed, so the stream is not read (and HTTP/2 flow control
  // holds the agent) until the group commit drains.
  void WaitForRoom(uint64_t limit) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return outstanding_ < limit; });
  }

  // A commit finished: acknowledge the record if it is stored, reject it if
  // it conflicts with the one held (GroupCommitter's AlreadyExists).
  void Committed(const absl::Status& status, uint64_t sequence) {
    {
      std::lock_guard lock(mutex_);
      --outstanding_;
      room_.notify_all();
      if (status.ok()) {
        ready_.push_back(sequence);
      } else if (absl::IsAlreadyExists(status)) {
        rejected_.push_back({sequence, std::string(status.message())});
      } else {
        failed_ = true;
      }
      // A failed record leaves nothing for the writer to do: Drain may be
      // waiting for exactly this commit.
      if (outstanding_ == 0 && ready_.empty() && rejected_.empty()) drained_.notify_all();
    }
    wake_.notify_all();
  }

  // Waits until every expected commit finished and its ack was written.
  void Drain() {
    std::unique_lock lock(mutex_);
    drained_.wait(lock,
                  [this] { return outstanding_ == 0 && ready_.empty() && rejected_.empty(); });
  }

  bool commit_failed() {
    std::lock_guard lock(mutex_);
    return failed_;
  }

 private:
  struct Rejected {
    uint64_t sequence;
    std::string detail;
  };

  void Loop() {
    std::vector<uint64_t> sequences;
    std::vector<Rejected> rejected;
    while (true) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !ready_.empty() || !rejected_.empty(); });
        if (ready_.empty() && rejected_.empty() && stopping_) return;
        sequences.assign(ready_.begin(), ready_.end());
        ready_.clear();
        rejected.assign(rejected_.begin(), rejected_.end());
        rejected_.clear();
      }
      // Adaptive verification: the agent's boost, when it changed, before the
      // acks (an agent that reads an ack has read the hint before it).
      if (std::optional<v1::CollectorMessage> hint = hints_.Pending()) stream_->Write(*hint);
      // One Rejection per record: each has its own digests.
      for (const Rejected& record : rejected) {
        v1::CollectorMessage reply;
        v1::Rejection* rejection = reply.mutable_rejection();
        v1::SequenceRange* range = rejection->add_ranges();
        range->set_first(record.sequence);
        range->set_last(record.sequence);
        rejection->set_reason("conflict");
        rejection->set_detail(record.detail);
        stream_->Write(reply);
      }
      if (sequences.empty()) {
        NotifyIfDrained();
        continue;
      }
      std::sort(sequences.begin(), sequences.end());
      v1::CollectorMessage reply;
      v1::Ack* ack = reply.mutable_ack();
      for (const uint64_t sequence : sequences) {
        if (ack->ranges_size() > 0 && ack->ranges().rbegin()->last() + 1 >= sequence) {
          auto* last = ack->mutable_ranges(ack->ranges_size() - 1);
          last->set_last(std::max(last->last(), sequence));
        } else {
          v1::SequenceRange* range = ack->add_ranges();
          range->set_first(sequence);
          range->set_last(sequence);
        }
      }
      // A failed write means the stream is gone; the agent resends unacknowledged records.
      stream_->Write(reply);
      NotifyIfDrained();
    }
  }

  void NotifyIfDrained() {
    std::lock_guard lock(mutex_);
    if (ready_.empty() && rejected_.empty() && outstanding_ == 0) drained_.notify_all();
  }

  grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream_;
  adaptive::HintStream hints_;  // the writer thread's
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable drained_;
  std::condition_variable room_;
  std::deque<uint64_t> ready_;
  std::deque<Rejected> rejected_;
  uint64_t outstanding_ = 0;
  bool stopping_ = false;
  bool failed_ = false;
  std::thread thread_;
};

}  // namespace

IngestService::IngestService(store::Store& store, GroupCommitter& committer, Sessions& sessions,
                             const Credentials& credentials, StreamLimits& stream_limits,
                             ValidationLimits limits, uint32_t max_records_in_flight,
                             metrics::Registry& registry, const adaptive::HintBoard* hints)
    : store_(store),
      committer_(committer),
      sessions_(sessions),
      credentials_(credentials),
      stream_limits_(stream_limits),
      limits_(limits),
      max_records_in_flight_(max_records_in_flight),
      hints_(hints) {
  auto rejected = registry.AddCounter("fscanary_collector_rejected_messages_total",
                                      "Messages from agents refused, by reason.");
  if (rejected.ok()) rejected_ = *rejected;
  // Every reason starts at zero, so rate() sees the first rejection.
  for (const char* reason : {"unauthenticated", "no_hello", "agent_id", "sequence", "missing_body",
                             "string", "range", "size", "duplicate_hello", "kernel_config"}) {
    if (rejected_ != nullptr) (void)rejected_->Add({{"reason", reason}});
  }
}

grpc::Status IngestService::Reject(std::string_view reason, grpc::StatusCode code,
                                   const std::string& detail) {
  if (rejected_ != nullptr) {
    if (auto counter = rejected_->Add({{"reason", std::string(reason)}}); counter.ok()) {
      (*counter)->Increment();
    }
  }
  spdlog::warn("rejected agent message ({}): {}", reason, detail);
  return grpc::Status(code, detail);
}

grpc::Status IngestService::Stream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream) {
  absl::StatusOr<std::unique_ptr<StreamLimits::Ticket>> ticket = stream_limits_.Open(*context);
  if (!ticket.ok()) {
    spdlog::warn("refused a stream from {}: {}", context->peer(),
                 std::string(ticket.status().message()));
    return ToGrpcStatus(ticket.status());
  }
  // The agent ids this stream's credential names; nullopt: no credential
  // is configured, any id.
  const absl::StatusOr<std::optional<std::set<std::string>>> allowed =
      credentials_.AgentIds(*context);
  if (!allowed.ok()) {
    return Reject("unauthenticated", grpc::StatusCode::UNAUTHENTICATED,
                  std::string(allowed.status().message()));
  }
  if (*allowed && (*allowed)->size() == 1) {
    // A token names one agent: its stream counts against that agent before any Hello.
    if (absl::Status claimed = (*ticket)->Claim(*(*allowed)->begin()); !claimed.ok()) {
      spdlog::warn("refused a stream from {}: {}", context->peer(), std::string(claimed.message()));
      return ToGrpcStatus(claimed);
    }
  }
  v1::AgentMessage message;
  if (!stream->Read(&message)) {
    if (const std::string expired = (*ticket)->expired(); !expired.empty()) {
      spdlog::warn("closed a stream from {} ({}): no Hello in time", context->peer(), expired);
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no Hello within hello_timeout");
    }
    return grpc::Status::OK;  // the agent left before saying hello
  }
  if (!message.has_hello()) {
    return Reject("no_hello", grpc::StatusCode::INVALID_ARGUMENT,
                  "the first message of a stream must be a Hello");
  }
  if (const Rejection rejection = ValidateAgentMessage(message, limits_);
      !rejection.reason.empty()) {
    return Reject(rejection.reason, grpc::StatusCode::INVALID_ARGUMENT, rejection.detail);
  }
  const std::string agent_id = message.hello().agent_id();
  if (*allowed && !(*allowed)->contains(agent_id)) {
    return Reject("unauthenticated", grpc::StatusCode::UNAUTHENTICATED,
                  "the credential does not name agent " + agent_id);
  }
  if (absl::Status claimed = (*ticket)->Claim(agent_id); !claimed.ok()) {
    spdlog::warn("refused a stream from {}: {}", context->peer(), std::string(claimed.message()));
    return ToGrpcStatus(claimed);
  }
  (*ticket)->SaidHello();

  const int64_t now = static_cast<int64_t>(io::WallClockNanos());
  if (absl::Status hello = store_.RecordHello(agent_id, message, now); !hello.ok()) {
    spdlog::error("storing the hello of {} failed: {}", agent_id, std::string(hello.message()));
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the collector cannot store right now");
  }
  sessions_.Open(agent_id, message.hello().spooled_records(), message.hello().spooled_bytes());
  spdlog::info("agent {} connected from {}", agent_id, context->peer());

  grpc::Status result = grpc::Status::OK;
  {
    AckWriter acks(stream, adaptive::HintStream(hints_, agent_id));
    while (true) {
      acks.WaitForRoom(max_records_in_flight_);
      // A record the store failed is neither acknowledged nor rejected: the
      // stream ends so that the agent reconnects and sends it again, instead
      // of holding it in its window for as long as heartbeats keep it open.
      if (acks.commit_failed()) break;
      if (!stream->Read(&message)) break;
      if (acks.commit_failed()) break;  // what was read is sent again
      (*ticket)->Heard();
      if (const Rejection rejection = ValidateAgentMessage(message, limits_);
          !rejection.reason.empty()) {
        result = Reject(rejection.reason, grpc::StatusCode::INVALID_ARGUMENT,
                        "record " + std::to_string(message.sequence()) + ": " + rejection.detail);
        break;
      }
      if (message.has_hello()) {
        result = Reject("duplicate_hello", grpc::StatusCode::INVALID_ARGUMENT,
                        "a stream carries one Hello, first");
        break;
      }
      if (message.has_heartbeat()) {
        sessions_.UpdateBacklog(agent_id, message.heartbeat().spooled_records(),
                                message.heartbeat().spooled_bytes());
        // In memory; the server writes last_seen for every agent in one transaction.
        sessions_.Heard(agent_id, static_cast<int64_t>(io::WallClockNanos()));
        continue;
      }
      acks.Expect();
      committer_.Enqueue(agent_id, std::move(message),
                         [&acks](const absl::Status& status, uint64_t sequence) {
                           acks.Committed(status, sequence);
                         });
      message.Clear();
    }
    // Acknowledge what was committed before the stream ends: an agent that
    // half-closed still reads them.
    acks.Drain();
    if (result.ok() && acks.commit_failed()) {
      result = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the collector could not store records");
    }
  }
  if (const std::string expired = (*ticket)->expired(); !expired.empty()) {
    spdlog::warn("closed the stream of {} ({}): nothing received in time", agent_id, expired);
    result = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "idle beyond idle_timeout");
  }
  sessions_.Close(agent_id);
  (void)store_.SetConnected(agent_id, false, static_cast<int64_t>(io::WallClockNanos()));
  spdlog::info("agent {} disconnected", agent_id);
  return result;
}

}  // namespace fscanary::collector
