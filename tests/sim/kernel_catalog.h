#pragma once
// The kernels a simulated fleet runs: distros with their release strings in
// upgrade order (as `uname -r` prints them), and how common each distro is.

#include <string>
#include <vector>

namespace fscanary::fleet_sim {

struct Distro {
  std::string name;
  double weight = 0;                  // share of VMs
  bool rhel_like = false;             // XFS by default
  std::vector<std::string> releases;  // oldest first
};

const std::vector<Distro>& Distros();

// Kernel series (x.y) at which config options appear, change or go away.
const std::vector<std::string>& ConfigSeries();

}  // namespace fscanary::fleet_sim
