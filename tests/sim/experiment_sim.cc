#include "tests/sim/experiment_sim.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace fscanary::fleet_sim {

ExperimentFleet::ExperimentFleet(std::vector<std::pair<std::string, Attributes>> hosts,
                                 ExperimentCause cause, uint64_t seed, double bytes_per_host_day,
                                 double origin_seconds)
    : cause_(std::move(cause)),
      rng_(seed),
      bytes_per_host_day_(bytes_per_host_day),
      origin_seconds_(origin_seconds) {
  for (auto& [name, attributes] : hosts) {
    current_.push_back(epochs_.size());
    epochs_.push_back(
        {.host = static_cast<uint32_t>(names_.size()), .attributes = std::move(attributes)});
    names_.push_back(std::move(name));
  }
}

bool ExperimentFleet::CauseHolds(const Attributes& attributes) const {
  return std::all_of(cause_.conditions.begin(), cause_.conditions.end(), [&](const auto& c) {
    const auto it = attributes.find(c.first);
    return it != attributes.end() && it->second == c.second;
  });
}

void ExperimentFleet::Advance(double days) {
  for (const size_t e : current_) {
    Epoch& epoch = epochs_[e];
    epoch.days += days;
    if (CauseHolds(epoch.attributes)) {
      const uint64_t fired = rng_.Poisson(cause_.events_per_host_day * days);
      epoch.events += fired;
      events_ += fired;
    }
  }
  day_ += days;
}

void ExperimentFleet::Change(const std::vector<std::string>& hosts, const std::string& attribute,
                             const std::string& value) {
  for (const std::string& name : hosts) {
    const auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) continue;
    const size_t host = static_cast<size_t>(it - names_.begin());
    Epoch next{.host = static_cast<uint32_t>(host),
               .attributes = epochs_[current_[host]].attributes,
               .start_day = day_};
    if (next.attributes[attribute] == value) continue;
    next.attributes[attribute] = value;
    current_[host] = epochs_.size();
    epochs_.push_back(std::move(next));
  }
}

std::vector<std::string> ExperimentFleet::HostsWith(const Attributes& values) const {
  std::vector<std::string> found;
  for (size_t host = 0; host < names_.size(); ++host) {
    const Attributes& current = epochs_[current_[host]].attributes;
    if (std::all_of(values.begin(), values.end(), [&](const auto& v) {
          const auto it = current.find(v.first);
          return it != current.end() && it->second == v.second;
        })) {
      found.push_back(names_[host]);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

absl::StatusOr<analysis::Fleet> ExperimentFleet::ToFleet() const {
  analysis::FleetBuilder builder;
  const analysis::KindId kind = builder.Kind("lost_write");
  std::vector<analysis::ValueId> values;
  for (const Epoch& epoch : epochs_) {
    if (epoch.days <= 0) continue;
    values.clear();
    for (const auto& [name, value] : epoch.attributes) {
      values.push_back(builder.Value(builder.Attribute(name), value));
    }
    const analysis::FleetBuilder::KindCount corruptions[] = {{kind, epoch.events}};
    if (absl::Status status =
            builder.AddEpoch({.host = names_[epoch.host],
                              .exposure_bytes = epoch.days * bytes_per_host_day_,
                              .exposure_seconds = epoch.days * 86400,
                              .start_seconds = origin_seconds_ + epoch.start_day * 86400,
                              .values = values,
                              .corruptions = corruptions});
        !status.ok()) {
      return status;
    }
  }
  return std::move(builder).Build();
}

std::string ExperimentFleet::Jsonl() const {
  std::string out;
  for (const Epoch& epoch : epochs_) {
    if (epoch.days <= 0) continue;
    nlohmann::ordered_json line = {{"host", names_[epoch.host]},
                                   {"attributes", epoch.attributes},
                                   {"exposure_bytes", epoch.days * bytes_per_host_day_},
                                   {"exposure_seconds", epoch.days * 86400},
                                   {"start_seconds", origin_seconds_ + epoch.start_day * 86400},
                                   {"corruptions", {{"lost_write", epoch.events}}}};
    out += line.dump() + "\n";
  }
  return out;
}

std::vector<std::pair<std::string, Attributes>> AliasedHosts(uint32_t hosts, uint32_t aliased,
                                                             uint64_t seed) {
  Rng rng(seed);
  static constexpr const char* kFs[] = {"ext4", "xfs"};
  static constexpr const char* kRegions[] = {"eu-west", "us-east", "ap-south"};
  std::vector<std::pair<std::string, Attributes>> fleet;
  for (uint32_t i = 0; i < hosts; ++i) {
    Attributes attributes{{"fs", kFs[rng.Below(2)]}, {"region", kRegions[rng.Below(3)]}};
    if (i < aliased) {
      attributes["kernel"] = "5.15.3";
      attributes["scheduler"] = "none";
      attributes["driver"] = "nvme";
    } else {
      attributes["kernel"] = rng.Chance(0.5) ? "5.15.8" : "6.1.20";
      attributes["scheduler"] = rng.Chance(0.6) ? "mq-deadline" : "kyber";
      attributes["driver"] = rng.Chance(0.5) ? "nvme" : "virtio_blk";
    }
    fleet.emplace_back(absl::StrFormat("vm-%04d", i), std::move(attributes));
  }
  return fleet;
}

}  // namespace fscanary::fleet_sim
