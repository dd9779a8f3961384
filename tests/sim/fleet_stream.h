#pragma once
// Streams a simulated fleet to a collector as its agents would: per VM one
// Ingest stream, a Hello, then facts at each epoch's start, an interval report
// with the epoch's exposure and a finding per corruption event, each record
// acknowledged before the next VM.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "fscanary/v1/facts.pb.h"
#include "tests/sim/fleet_sim.h"

namespace fscanary::fleet_sim {

// The facts an agent would send for an epoch: host attributes in their
// HostFacts fields (the first target's disk and filesystem), the kernel
// build's options, region and instance type as extra facts.
v1::HostFacts FactsOf(const SimulatedFleet& fleet, const SimEpoch& epoch);

struct StreamOptions {
  std::string address;  // host:port, plaintext
  // Day 0 of the simulation on the agents' clock.
  int64_t start_unix_nanos = 0;
};
absl::Status StreamFleet(const SimulatedFleet& fleet, const StreamOptions& options);

}  // namespace fscanary::fleet_sim
