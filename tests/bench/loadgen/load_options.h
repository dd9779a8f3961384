#pragma once
// What fscanary-loadgen simulates: how many agents, against which collectors,
// on which schedule. Plain data; the defaults are a real agent's.

#include <cstdint>
#include <string>
#include <vector>

namespace fscanary::loadgen {

struct LoadOptions {
  // Collector gRPC addresses (host:port). Agent i starts on address
  // i % size and moves to the next one whenever its stream ends.
  std::vector<std::string> addresses = {"127.0.0.1:7420"};
  int agents = 1000;
  // Ids are <prefix>-000001, ...
  std::string agent_prefix = "lg";
  // Seconds of steady load after every agent connected.
  double duration_seconds = 60;
  // An interval report per agent this often (the agent's report_interval).
  double report_interval_seconds = 60;
  // A heartbeat when the agent sent nothing for this long.
  double heartbeat_interval_seconds = 15;
  // Chance that a report comes with a finding.
  double finding_share = 0.001;
  // Share of the agents that drop their stream and reconnect, per minute.
  double reconnect_share_per_minute = 0.01;
  // Share of the agents that replay a spool backlog, per minute: a burst of
  // `backlog_records` reports sent at once.
  double backlog_share_per_minute = 0.001;
  int backlog_records = 100;
  // New streams per second while the fleet connects.
  double connect_rate = 1000;
  // After the load: how long to wait for the last acknowledgements.
  double drain_seconds = 30;
  // gRPC channels (one TCP connection each) per address; the streams of all
  // agents are multiplexed over them.
  int channels_per_address = 4;
  // `agent_id token` lines (the collector's tokens file); empty: no token.
  std::string tokens_file;
  // Draws the agents' facts, findings, reconnects and backlogs.
  uint64_t seed = 1;
};

}  // namespace fscanary::loadgen
