#pragma once
// A simulated fleet of N agents in one process, for load and kill tests.
//
// Each agent has its own real spool::Spool (in its own directory) and real
// transport::Sender, appends interval reports (and ~1% findings) at a chosen
// rate, then waits until the collector acknowledged everything. Used by
// fscanary-fleet-ingest and by the kill test, which compares what the agents
// appended with what was stored.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/spool/spool.h"
#include "agent/transport/sender.h"

namespace fscanary::e2e {

struct FleetOptions {
  // The collector's gRPC address (host:port).
  std::string collector = "127.0.0.1:7420";
  int agents = 50;
  // Records each agent appends.
  uint64_t records = 2000;
  // Every agent's spool lives in <directory>/<agent id>; an existing spool is
  // reused (its sequences continue).
  std::string directory;
  // Records per second per agent; 0: as fast as the spool takes them.
  double rate = 0;
  // Share of the records that are findings (the rest are interval reports).
  double finding_fraction = 0.01;
  // Makes the records (not the timing) reproducible.
  uint64_t seed = 1;
  // Bound of each spool; large enough that a collector down for a while never
  // makes a spool summarise or drop (which the kill test counts as loss).
  uint64_t spool_max_bytes = uint64_t{256} << 20;
  // Short, so that agents are back quickly after the collector restarts.
  int backoff_initial_ms = 50;
  int backoff_max_ms = 500;
  // The senders' heartbeats (transport::SenderOptions' default: 15 s).
  int heartbeat_interval_ms = 15'000;
};

// Agent ids: fleet-0001, fleet-0002, ...
std::string AgentId(int index);

// What one agent appended and how it ended.
struct AgentResult {
  std::string agent_id;
  // Sequences the spool returned, by record class, in append order.
  std::vector<uint64_t> report_sequences;
  std::vector<uint64_t> finding_sequences;
  // Sum of bytes_verified over the appended reports.
  uint64_t bytes_verified = 0;
  // Acknowledgements the sender received (a record acknowledged on two
  // streams, because the first ack was lost with the collector, counts twice).
  uint64_t acknowledged = 0;
  // The spool at the end (records: still unacknowledged).
  spool::SpoolStats spool;

  uint64_t appended() const { return report_sequences.size() + finding_sequences.size(); }
  // Records the spool summarised, dropped or skipped as damaged.
  uint64_t losses() const {
    return spool.reports_summarised + spool.reports_dropped + spool.findings_dropped +
           spool.damaged_records_skipped;
  }
};

struct FleetResult {
  std::vector<AgentResult> agents;
  // From Start to the moment every spool was empty.
  std::chrono::duration<double> elapsed{};
  // From Start to the last append.
  std::chrono::duration<double> append_elapsed{};

  uint64_t appended() const;
  uint64_t acknowledged() const;
  uint64_t losses() const;
  // The summary fscanary-fleet-ingest --json prints.
  std::string ToJson() const;
};

class Fleet {
 public:
  // Opens every spool, starts every sender and every agent's append loop.
  static absl::StatusOr<std::unique_ptr<Fleet>> Start(const FleetOptions& options);
  // Stops whatever still runs (records stay spooled).
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  // Whether every agent appended all its records (or gave up on an error).
  bool appending_done() const;
  // Records held unacknowledged, over every spool.
  uint64_t Backlog() const;

  // Waits until every agent appended its records and every spool is empty,
  // then stops the senders. DeadlineExceeded (naming the agents still holding
  // records) past `deadline`; the first append error if an agent had one.
  absl::StatusOr<FleetResult> Finish(std::chrono::steady_clock::time_point deadline);

 private:
  struct Agent;
  explicit Fleet(FleetOptions options);
  void AppendLoop(Agent& agent);

  const FleetOptions options_;
  std::chrono::steady_clock::time_point start_;
  std::vector<std::unique_ptr<Agent>> agents_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> appenders_running_{0};
};

}  // namespace fscanary::e2e
