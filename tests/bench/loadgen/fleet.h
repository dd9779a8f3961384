#pragma once
// Many simulated agents over real gRPC Ingest streams, multiplexed over a few
// channels per collector and driven by one scheduler thread; the callbacks
// run on gRPC's own small pool (the callback API), so 100,000 agents are not
// 100,000 threads. Each agent keeps its unacknowledged records and sends
// them again on its next stream, as the real agent's spool does, and counts
// every acknowledgement against what it sent.
//
// Thread-safe: Start, WaitConnected, StopLoad, Drain, Shutdown and Snapshot
// are called from one controlling thread; the rest runs inside.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "tests/bench/loadgen/load_options.h"

namespace fscanary::loadgen {

// Agent ids: <prefix>-000001, ...
std::string AgentId(const std::string& prefix, int index);
// A token per agent, drawn from `seed`: the collector's tokens file lines.
std::string TokensFileText(const std::string& prefix, int agents, uint64_t seed);

// Counts since Start; a copy.
struct FleetCounts {
  uint64_t records_sent = 0;          // distinct records generated and handed to a stream
  uint64_t records_written = 0;       // writes of records, resends included
  uint64_t records_acknowledged = 0;  // distinct records acknowledged
  uint64_t records_pending = 0;       // sent, not yet acknowledged
  uint64_t duplicate_acks = 0;        // a sequence acknowledged again on the same stream
  uint64_t unexpected_acks = 0;       // a sequence never sent
  uint64_t records_rejected = 0;      // a Rejection from the collector
  uint64_t reports = 0;
  uint64_t findings = 0;
  uint64_t heartbeats = 0;
  uint64_t backlog_bursts = 0;
  uint64_t hellos = 0;  // streams opened (Hello written)
  uint64_t planned_reconnects = 0;
  uint64_t stream_failures = 0;  // streams the collector or the network ended
  uint64_t open_streams = 0;
};

// Send-to-acknowledgement times, microseconds, in arrival order, of records
// made between StartWindow and EndWindow; the others are only counted.
struct LatencySamples {
  std::vector<uint32_t> micros;
  uint64_t before_window = 0;
  uint64_t after_window = 0;
};

class Fleet {
 public:
  // Reads the tokens file (every agent must be in it, if one is given),
  // opens the channels and starts connecting the agents at connect_rate.
  static absl::StatusOr<std::unique_ptr<Fleet>> Start(const LoadOptions& options);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Waits until every agent wrote its first Hello; false at `deadline`.
  bool WaitConnected(std::chrono::steady_clock::time_point deadline);
  // Stops new reports, findings, backlogs and planned reconnects; heartbeats
  // and reconnects after failures go on, so what is pending gets through.
  void StopLoad();
  // Waits until nothing is pending; false at `deadline`.
  bool Drain(std::chrono::steady_clock::time_point deadline);
  // Cancels every stream and waits (up to `deadline`) until they ended.
  void Shutdown(std::chrono::steady_clock::time_point deadline);

  FleetCounts Counts() const;
  // From now on, latencies are sampled only for records handed to a stream
  // from now (not those queued behind the connect storm).
  void StartWindow();
  // Records made from now on (while metrics are scraped, while draining) are
  // not the steady state either.
  void EndWindow();
  // The samples taken since the last call (moved out).
  LatencySamples TakeLatencies();

 private:
  struct Agent;
  class Stream;
  enum class EventKind { kConnect, kReport, kHeartbeat, kDropSomeone, kBacklogSomeone };
  struct Event {
    std::chrono::steady_clock::time_point at;
    EventKind kind;
    int agent;  // -1: the fleet-wide draws
  };
  struct EventLater {
    bool operator()(const Event& a, const Event& b) const { return a.at > b.at; }
  };

  using Clock = std::chrono::steady_clock;
  explicit Fleet(LoadOptions options);
  void Schedule(EventKind kind, int agent, std::chrono::steady_clock::time_point at);
  void Loop();
  void Handle(const Event& event);
  void Connect(Agent& agent);
  // Generates `count` reports (each with a chance of a finding) and sends them.
  // `made` is when the records were due, not when the one scheduler thread got
  // to them: a scheduler that falls behind shows as latency, not as less load.
  void SendReports(Agent& agent, int count, Clock::time_point made);
  void SendHeartbeat(Agent& agent);
  void Drop(Agent& agent);
  void StreamEnded(Agent& agent, bool cancelled_by_us);
  void Acknowledged(Agent& agent, const Stream* stream, uint64_t first, uint64_t last);
  void Rejected(Agent& agent, const Stream* stream, uint64_t first, uint64_t last);
  std::chrono::steady_clock::duration Exponential(double per_second);

  const LoadOptions options_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;  // address-major
  std::vector<std::unique_ptr<v1::Ingest::Stub>> stubs_;  // one per channel
  std::vector<std::unique_ptr<Agent>> agents_;

  mutable std::mutex events_mutex_;
  std::condition_variable events_wake_;
  std::priority_queue<Event, std::vector<Event>, EventLater> events_;
  bool stopping_ = false;
  std::atomic<bool> load_stopped_{false};
  std::atomic<bool> shutting_down_{false};
  std::mt19937_64 random_;  // scheduler thread only
  std::thread scheduler_;

  struct Atomics;
  std::unique_ptr<Atomics> counts_;
  std::atomic<Clock::rep> window_start_{std::numeric_limits<Clock::rep>::min()};
  std::atomic<Clock::rep> window_end_{std::numeric_limits<Clock::rep>::max()};
  std::mutex latency_mutex_;
  LatencySamples latencies_;
  mutable std::mutex state_mutex_;
  std::condition_variable state_changed_;
};

}  // namespace fscanary::loadgen
