#pragma once
// Delivers the agent's spooled records to the collector over one gRPC stream:
// a Hello first, then every unacknowledged record (findings before routine
// reports), each removed from the spool only when the collector acknowledges
// it. Reconnects with exponential backoff and jitter; resends whatever was not
// acknowledged. At-least-once: the collector de-duplicates by sequence.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "agent/spool/spool.h"
#include "fscanary/v1/ingest.pb.h"

namespace fscanary::transport {

struct SenderOptions {
  std::string address = "127.0.0.1:7420";
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
};

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

 private:
  void Run();
  // One connection: returns when the stream ends or Stop() is called.
  absl::Status RunStream();
  bool stopping();

  const SenderOptions options_;
  spool::Spool& spool_;
  HelloBuilder hello_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool notified_ = false;
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> progress_{0};
  std::atomic<uint64_t> acknowledged_{0};
  std::thread thread_;
};

}  // namespace fscanary::transport
