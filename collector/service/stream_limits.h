#pragma once
// What an ingest stream may hold of the collector: a slot among
// `max_streams`, one of its agent's `max_streams_per_agent`, and time: a
// watchdog cancels a stream whose Hello is later than `hello_timeout` or
// that carried nothing for `idle_timeout`. Each refusal and each stream the
// watchdog ends is counted
// (fscanary_collector_streams_refused_total{reason}).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metrics/registry.h"

namespace grpc {
class ServerContextBase;
}

namespace fscanary::collector {

struct StreamLimitOptions {
  uint32_t max_streams = 4096;
  uint32_t max_streams_per_agent = 4;
  std::chrono::milliseconds hello_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(5);
};

// Thread-safe. Outlives every Ticket it hands out.
class StreamLimits {
 public:
  class Ticket;

  StreamLimits(StreamLimitOptions options, metrics::Registry& registry);
  // Stops the watchdog.
  ~StreamLimits();

  // A slot for a new stream on `context`, whose Hello is due within
  // hello_timeout; RESOURCE_EXHAUSTED when max_streams are open. The
  // watchdog may call context->TryCancel() until the Ticket is destroyed.
  absl::StatusOr<std::unique_ptr<Ticket>> Open(grpc::ServerContextBase& context);

 private:
  struct Entry {
    grpc::ServerContextBase* context = nullptr;
    std::atomic<int64_t> deadline_ns{0};
    std::atomic<bool> said_hello{false};
    // Set by the watchdog, under mutex_, when it cancels the stream.
    std::string expired;
  };

  void Watch();
  void Release(Entry* entry, const std::string& agent_id);
  void Count(metrics::Family<metrics::Counter>* family, const std::string& reason);
  int64_t NowNs() const;

  const StreamLimitOptions options_;
  metrics::Family<metrics::Counter>* refused_ = nullptr;
  metrics::Gauge* open_ = nullptr;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::set<Entry*> entries_;
  std::map<std::string, uint32_t> per_agent_;
  bool stopping_ = false;
  std::thread watchdog_;
};

// One stream's hold on the limits; releases its slots when destroyed.
class StreamLimits::Ticket {
 public:
  ~Ticket();
  Ticket(const Ticket&) = delete;
  Ticket& operator=(const Ticket&) = delete;

  // Takes one of `agent_id`'s slots (the first call only; later calls with
  // the same id are OK, with another id an error). RESOURCE_EXHAUSTED when
  // the agent holds max_streams_per_agent streams already.
  absl::Status Claim(const std::string& agent_id);
  // The Hello arrived: from now on the idle timeout applies.
  void SaidHello();
  // A message arrived: the idle timeout starts again.
  void Heard();
  // "hello_timeout" or "idle_timeout" when the watchdog cancelled the
  // stream; empty otherwise.
  std::string expired() const;

 private:
  friend class StreamLimits;
  Ticket(StreamLimits& limits, std::unique_ptr<Entry> entry)
      : limits_(limits), entry_(std::move(entry)) {}

  StreamLimits& limits_;
  std::unique_ptr<Entry> entry_;
  std::string agent_id_;
};

}  // namespace fscanary::collector
