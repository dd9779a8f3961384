#include "collector/service/ingest_stream.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "collector/service/query_service.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {
namespace {

// Committed sequences as an Ack of coalesced ranges.
v1::CollectorMessage AckOf(std::vector<uint64_t> sequences) {
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
  return reply;
}

}  // namespace

IngestStream::IngestStream(IngestService& service, grpc::CallbackServerContext* context)
    : service_(service), shared_(service.shared()), context_(context) {
  absl::StatusOr<std::unique_ptr<StreamLimits::Ticket>> ticket =
      shared_.stream_limits.Open(*context_);
  if (!ticket.ok()) {
    spdlog::warn("refused a stream from {}: {}", context_->peer(),
                 std::string(ticket.status().message()));
    FinishNow(ToGrpcStatus(ticket.status()));
    return;
  }
  ticket_ = *std::move(ticket);
  absl::StatusOr<std::optional<std::set<std::string>>> allowed =
      shared_.credentials.AgentIds(*context_);
  if (!allowed.ok()) {
    FinishNow(service_.Reject("unauthenticated", grpc::StatusCode::UNAUTHENTICATED,
                              std::string(allowed.status().message())));
    return;
  }
  allowed_ = *std::move(allowed);
  if (allowed_ && allowed_->size() == 1) {
    // A token names one agent: its stream counts against that agent before any Hello.
    if (absl::Status claimed = ticket_->Claim(*allowed_->begin()); !claimed.ok()) {
      spdlog::warn("refused a stream from {}: {}", context_->peer(),
                   std::string(claimed.message()));
      FinishNow(ToGrpcStatus(claimed));
      return;
    }
  }
  reading_ = true;
  StartRead(&in_);
}

void IngestStream::FinishNow(grpc::Status status) {
  // Before the Hello is stored, the limits are released at once; after it,
  // the ticket goes with the reactor (OnDone): a reaction still running on
  // another thread (OnMessage's Heard) may use it until then.
  if (!hello_stored_) ticket_.reset();
  Finish(std::move(status));
}

void IngestStream::OnReadDone(bool ok) {
  bool streaming;
  {
    std::lock_guard lock(mutex_);
    streaming = streaming_;
    // Once streaming, in_ stays this reaction's until OnMessage handed it on:
    // a commit finishing on the committer's thread runs Pump, which would
    // otherwise start the next read into in_ while it is still being read
    // (two messages in one buffer: records lost, duplicated, freed twice).
    // Before the Hello is stored no Pump starts a read.
    if (closing_ || !streaming) reading_ = false;
    if (closing_) return;  // a read outstanding when the stream closed: sent again later
    if (!ok) read_closed_ = true;
  }
  if (!streaming) {
    if (ok) return OnHello();
    if (const std::string expired = ticket_->expired(); !expired.empty()) {
      spdlog::warn("closed a stream from {} ({}): no Hello in time", context_->peer(), expired);
      return FinishNow(
          grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no Hello within hello_timeout"));
    }
    return FinishNow(grpc::Status::OK);  // the agent left before saying hello
  }
  if (ok) OnMessage();
  {
    std::lock_guard lock(mutex_);
    reading_ = false;
  }
  Pump();
}

void IngestStream::OnHello() {
  if (!in_.has_hello()) {
    return FinishNow(service_.Reject("no_hello", grpc::StatusCode::INVALID_ARGUMENT,
                                     "the first message of a stream must be a Hello"));
  }
  if (const Rejection rejection = ValidateAgentMessage(in_, shared_.limits);
      !rejection.reason.empty()) {
    return FinishNow(
        service_.Reject(rejection.reason, grpc::StatusCode::INVALID_ARGUMENT, rejection.detail));
  }
  agent_id_ = in_.hello().agent_id();
  {
    std::lock_guard lock(mutex_);
    hints_.emplace(shared_.hints, agent_id_);
  }
  if (allowed_ && !allowed_->contains(agent_id_)) {
    return FinishNow(service_.Reject("unauthenticated", grpc::StatusCode::UNAUTHENTICATED,
                                     "the credential does not name agent " + agent_id_));
  }
  if (absl::Status claimed = ticket_->Claim(agent_id_); !claimed.ok()) {
    spdlog::warn("refused a stream from {}: {}", context_->peer(), std::string(claimed.message()));
    return FinishNow(ToGrpcStatus(claimed));
  }
  ticket_->SaidHello();
  // Durable before any record of the stream is read: committed with the
  // Hellos and closings of other streams.
  const uint64_t spooled_records = in_.hello().spooled_records();
  const uint64_t spooled_bytes = in_.hello().spooled_bytes();
  shared_.committer.EnqueueSession(agent_id_, std::exchange(in_, {}),
                                   [this, spooled_records, spooled_bytes](const absl::Status& s) {
                                     HelloStored(s, spooled_records, spooled_bytes);
                                   });
}

void IngestStream::HelloStored(const absl::Status& status, uint64_t spooled_records,
                               uint64_t spooled_bytes) {
  if (!status.ok()) {
    spdlog::error("storing the hello of {} failed: {}", agent_id_, std::string(status.message()));
    return FinishNow(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "the collector cannot store right now"));
  }
  hello_stored_ = true;
  shared_.sessions.Open(agent_id_, spooled_records, spooled_bytes);
  spdlog::info("agent {} connected from {}", agent_id_, context_->peer());
  {
    std::lock_guard lock(mutex_);
    streaming_ = true;
  }
  Pump();
}

void IngestStream::OnMessage() {
  {
    // A record that failed to store ends the stream; what was read after it
    // is sent again by the agent.
    std::lock_guard lock(mutex_);
    if (commit_failed_) return;
  }
  ticket_->Heard();
  grpc::Status rejected;
  if (const Rejection rejection = ValidateAgentMessage(in_, shared_.limits);
      !rejection.reason.empty()) {
    rejected =
        service_.Reject(rejection.reason, grpc::StatusCode::INVALID_ARGUMENT,
                        "record " + std::to_string(in_.sequence()) + ": " + rejection.detail);
  } else if (in_.has_hello()) {
    rejected = service_.Reject("duplicate_hello", grpc::StatusCode::INVALID_ARGUMENT,
                               "a stream carries one Hello, first");
  }
  if (!rejected.ok()) {
    std::lock_guard lock(mutex_);
    result_ = std::move(rejected);
    return;
  }
  if (in_.has_heartbeat()) {
    shared_.sessions.UpdateBacklog(agent_id_, in_.heartbeat().spooled_records(),
                                   in_.heartbeat().spooled_bytes());
    // In memory; the server writes last_seen for every agent in one transaction.
    shared_.sessions.Heard(agent_id_, static_cast<int64_t>(io::WallClockNanos()));
    return;
  }
  {
    // Checked again with the count: a failed commit on the committer's
    // thread may have closed the stream since the check above, and a record
    // enqueued after its close could be committed after the reactor is gone.
    std::lock_guard lock(mutex_);
    if (commit_failed_ || closing_) return;
    ++outstanding_;
  }
  shared_.committer.Enqueue(
      agent_id_, std::exchange(in_, {}),
      [this](const absl::Status& status, uint64_t sequence) { Committed(status, sequence); });
}

void IngestStream::Committed(const absl::Status& status, uint64_t sequence) {
  {
    std::lock_guard lock(mutex_);
    --outstanding_;
    if (status.ok()) {
      ready_.push_back(sequence);
    } else if (absl::IsAlreadyExists(status)) {
      // A conflict (GroupCommitter): rejected, never acknowledged.
      rejected_.push_back({sequence, std::string(status.message())});
    } else {
      // Neither acknowledged nor rejected: the stream ends so that the agent
      // reconnects and sends it again, instead of holding it in its window
      // for as long as heartbeats keep the stream open.
      commit_failed_ = true;
    }
  }
  Pump();
}

bool IngestStream::NextMessage(v1::CollectorMessage& out) {
  if (!rejected_.empty()) {
    // One Rejection per record: each has its own digests.
    const Rejected record = std::move(rejected_.front());
    rejected_.pop_front();
    out.Clear();
    v1::Rejection* rejection = out.mutable_rejection();
    v1::SequenceRange* range = rejection->add_ranges();
    range->set_first(record.sequence);
    range->set_last(record.sequence);
    rejection->set_reason("conflict");
    rejection->set_detail(record.detail);
    return true;
  }
  // Adaptive verification: the agent's boost, when it changed, before the
  // acks (an agent that reads an ack has read the hint before it); the acks
  // go on the next turn. Asked at every turn, a read of a heartbeat included,
  // so that an agent sending only heartbeats hears of its boost too.
  if (hints_.has_value()) {
    if (std::optional<v1::CollectorMessage> hint = hints_->Pending()) {
      out = std::move(*hint);
      return true;
    }
  }
  if (ready_.empty()) return false;
  out = AckOf(std::vector<uint64_t>(ready_.begin(), ready_.end()));
  ready_.clear();
  return true;
}

void IngestStream::Pump() {
  bool write = false;
  bool read = false;
  bool close = false;
  grpc::Status status;
  {
    std::lock_guard lock(mutex_);
    if (closing_ || !streaming_) return;
    if (!writing_ && NextMessage(out_)) write = writing_ = true;
    const bool ended = read_closed_ || commit_failed_ || !result_.ok();
    if (!ended && !reading_ && outstanding_ < shared_.max_records_in_flight) {
      read = reading_ = true;
    }
    // Acknowledge what was committed before the stream ends: an agent that
    // half-closed still reads them.
    if (ended && outstanding_ == 0 && !writing_ && ready_.empty() && rejected_.empty()) {
      close = closing_ = true;
      status = result_;
      if (status.ok() && commit_failed_) {
        status =
            grpc::Status(grpc::StatusCode::UNAVAILABLE, "the collector could not store records");
      }
    }
  }
  if (write) StartWrite(&out_);  // a failed write: the agent resends what was not acknowledged
  if (read) StartRead(&in_);
  if (close) Close(std::move(status));
}

void IngestStream::OnWriteDone(bool /*ok*/) {
  {
    std::lock_guard lock(mutex_);
    writing_ = false;
  }
  Pump();
}

void IngestStream::Close(grpc::Status status) {
  if (const std::string expired = ticket_->expired(); !expired.empty()) {
    spdlog::warn("closed the stream of {} ({}): nothing received in time", agent_id_, expired);
    status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "idle beyond idle_timeout");
  }
  shared_.sessions.Close(agent_id_);
  shared_.committer.EnqueueSession(agent_id_, std::nullopt,
                                   [this, status = std::move(status)](const absl::Status&) {
                                     spdlog::info("agent {} disconnected", agent_id_);
                                     FinishNow(status);
                                   });
}

}  // namespace fscanary::collector
