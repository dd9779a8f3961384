#pragma once
// A small fleet run forward day by day on which experiments can be made: hosts
// with a few attributes, a planted cause (a conjunction of attribute values)
// that fires at a rate per host-day while it holds, and changes made to
// chosen hosts at chosen times (a scheduler switched, a kernel moved), each
// starting a new host epoch. For testing the planner and fix confirmation:
// apply what `fscanary plan` proposes, run on, and look at what the engine
// and fix confirmation then say. Deterministic for a given seed.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/fleet.h"
#include "tests/sim/rng.h"

namespace fscanary::fleet_sim {

using Attributes = std::map<std::string, std::string>;

struct ExperimentCause {
  std::vector<std::pair<std::string, std::string>> conditions;  // all must hold
  double events_per_host_day = 0.01;
};

class ExperimentFleet {
 public:
  // Each host verifies `bytes_per_host_day`; time starts at day 0, which is
  // `origin_seconds` on the epochs' clock.
  ExperimentFleet(std::vector<std::pair<std::string, Attributes>> hosts, ExperimentCause cause,
                  uint64_t seed, double bytes_per_host_day = 1e11, double origin_seconds = 1.7e9);

  // Runs every host forward: exposure grows, the cause fires where it holds.
  void Advance(double days);
  // Sets `attribute` to `value` on `hosts` now: each starts a new epoch.
  void Change(const std::vector<std::string>& hosts, const std::string& attribute,
              const std::string& value);

  double day() const { return day_; }
  uint64_t events() const { return events_; }
  // Hosts whose current attributes hold every one of `values`, in name order.
  std::vector<std::string> HostsWith(const Attributes& values) const;

  // The epochs so far (start times included), as the analysis sees them.
  absl::StatusOr<analysis::Fleet> ToFleet() const;
  // The same as JSON lines, in the format `fscanary analyze --input` reads.
  std::string Jsonl() const;

 private:
  struct Epoch {
    uint32_t host = 0;
    Attributes attributes;
    double start_day = 0;
    double days = 0;
    uint64_t events = 0;
  };
  bool CauseHolds(const Attributes& attributes) const;

  std::vector<std::string> names_;
  std::vector<Epoch> epochs_;
  std::vector<size_t> current_;  // per host: its open epoch
  ExperimentCause cause_;
  Rng rng_;
  double bytes_per_host_day_;
  double origin_seconds_;
  double day_ = 0;
  uint64_t events_ = 0;
};

// A fleet where two attribute values are carried by exactly the same hosts:
// `aliased` hosts run kernel 5.15.3 with scheduler none on nvme, and no other
// host has either (the others run 5.15.8 or 6.1.20, with mq-deadline or kyber,
// on nvme or virtio_blk); filesystems and regions are mixed over all. The
// engine cannot tell kernel=5.15.3 from scheduler=none.
std::vector<std::pair<std::string, Attributes>> AliasedHosts(uint32_t hosts, uint32_t aliased,
                                                             uint64_t seed);

}  // namespace fscanary::fleet_sim
