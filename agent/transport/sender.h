#pragma once
// Delivers the agent's spooled records to the collector over one gRPC stream:
// a Hello first, then every unacknowledged record (findings before routine
// reports), each removed from the spool only when the collector acknowledges
// it. Reconnects with exponential backoff and jitter; resends whatever was not
// acknowledged. At-least-once: the collector de-duplicates by sequence.
// Only records in flight on the stream are acted on (InFlight): an
// acknowledgement or rejection of anything else is logged, counted and
// ignored. A rejected record is moved to the spool's quarantine (never sent
// again), counted by reason and logged.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "agent/spool/spool.h"
#include "agent/transport/in_flight.h"
#include "fscanary/v1/ingest.pb.h"

namespace fscanary::transport {

struct SenderOptions {
  std::string address = "127.0.0.1:7420";
  // Several collectors, tried in this order (failover.h); when not empty,
  // `address` is not used.
  std::vector<std::string> addresses;
  // TLS: ca set -> TLS; cert and key set too -> mutual TLS.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_server_name;
  // Sent as `authorization: Bearer <token>`; empty: none.
  std::string token;
  // Must not be shorter than the collector's keepalive min_time (10 s by
  // default), or it hangs up with too_many_pings.
  int keepalive_time_ms = 30'000;
  int keepalive_timeout_ms = 10'000;
  int backoff_initial_ms = 1'000;
  int backoff_max_ms = 60'000;
  int heartbeat_interval_ms = 15'000;
  // Records sent and not yet acknowledged, at most.
  size_t window = 256;
  // A stream that holds records this long without any acknowledgement or
  // rejection is ended and the next collector tried: a collector wedged on
  // its store keeps the stream alive with keepalives and would otherwise
  // hold the agent for good. 0: four heartbeat intervals, at least 30 s.
  int ack_timeout_ms = 0;
  // Called on the reply thread with each Hint the collector sends; empty:
  // hints are ignored.
  std::function<void(const v1::Hint&)> on_hint;
};

// Rejection reasons as counted (a metric label): the collector's word when
// known, else "other"; a record this agent cannot parse is "unparseable".
inline constexpr std::string_view kConflict = "conflict";
inline constexpr std::string_view kOtherReason = "other";
inline constexpr std::string_view kUnparseable = "unparseable";
std::string_view RejectionReason(std::string_view reason);

// Builds the Hello for a new stream (current facts and spool state).
using HelloBuilder = std::function<v1::Hello()>;

// Thread-safe: Notify() may be called from any thread.
class Sender {
 public:
  Sender(SenderOptions options, spool::Spool& spool, HelloBuilder hello);
  ~Sender();

  void Start();
  // Stops the stream (records stay spooled) and joins the thread.
  void Stop();
  // Wakes the sender (an acknowledgement opened its window).
  void Notify();

  bool connected() const { return connected_.load(); }
  // Grows whenever the sender makes progress (a record sent or acknowledged,
  // a heartbeat, a connection attempt): the watchdog reads it.
  uint64_t progress() const { return progress_.load(); }
  uint64_t acknowledged() const { return acknowledged_.load(); }
  // Ranges in acknowledgements and rejections that named records not in
  // flight (ignored).
  uint64_t answers_ignored() const { return ignored_.load(); }
  // Records quarantined, by reason (RejectionReason).
  std::map<std::string, uint64_t> rejected() const;

 private:
  void Run();
  // One connection: returns when the stream ends or Stop() is called.
  absl::Status RunStream(const std::string& address);
  bool stopping();
  void HandleAck(const v1::Ack& ack, InFlight& in_flight);
  void HandleRejection(const v1::Rejection& rejection, InFlight& in_flight);
  // Moves records to the spool's quarantine and counts them under `reason`.
  void Quarantine(std::span<const spool::SequenceRange> ranges, std::string_view reason,
                  const std::string& why);
  // A warning whenever the spool met another read error.
  void LogReadErrors();

  const SenderOptions options_;
  spool::Spool& spool_;
  HelloBuilder hello_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool notified_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> progress_{0};
  std::atomic<uint64_t> acknowledged_{0};
  std::atomic<uint64_t> ignored_{0};
  std::map<std::string, uint64_t> rejected_;  // guarded by mutex_
  uint64_t read_errors_logged_ = 0;           // the sending thread's
  std::thread thread_;
};

}  // namespace fscanary::transport
