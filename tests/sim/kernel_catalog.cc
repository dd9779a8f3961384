#include "tests/sim/kernel_catalog.h"

#include <string>

namespace fscanary::fleet_sim {
namespace {

std::vector<std::string> Numbered(const std::string& prefix, std::initializer_list<int> numbers,
                                  const std::string& suffix) {
  std::vector<std::string> releases;
  for (const int n : numbers) releases.push_back(prefix + std::to_string(n) + suffix);
  return releases;
}

std::vector<Distro> MakeDistros() {
  std::vector<Distro> distros;
  distros.push_back(
      {"centos7",
       0.11,
       true,
       {"3.10.0-693.el7.x86_64", "3.10.0-862.el7.x86_64", "3.10.0-957.el7.x86_64",
        "3.10.0-957.10.1.el7.x86_64", "3.10.0-1062.el7.x86_64", "3.10.0-1127.el7.x86_64",
        "3.10.0-1160.el7.x86_64", "3.10.0-1160.90.1.el7.x86_64"}});
  distros.push_back(
      {"rhel8",
       0.09,
       true,
       {"4.18.0-80.el8.x86_64", "4.18.0-147.el8.x86_64", "4.18.0-193.el8.x86_64",
        "4.18.0-240.el8.x86_64", "4.18.0-305.el8.x86_64", "4.18.0-348.el8.x86_64",
        "4.18.0-372.9.1.el8.x86_64", "4.18.0-425.3.1.el8.x86_64", "4.18.0-477.10.1.el8.x86_64"}});
  distros.push_back({"ubuntu18.04", 0.08, false,
                     Numbered("4.15.0-", {20, 29, 45, 76, 112, 147, 176, 213}, "-generic")});
  distros.push_back(
      {"debian10", 0.10, false,
       Numbered("4.19.0-", {5, 6, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 20, 21, 22, 23, 24, 25},
                "-cloud-amd64")});
  std::vector<std::string> fedora;
  for (const char* r : {"4.18.16-300", "4.18.18-300", "4.19.2-300", "4.19.3-300", "4.19.5-300",
                        "4.19.6-300", "4.19.8-300", "4.19.10-300", "4.19.13-300", "4.19.15-300",
                        "4.20.3-200", "4.20.6-200", "4.20.8-200", "5.0.3-200"}) {
    fedora.push_back(std::string(r) + ".fc29.x86_64");
  }
  distros.push_back({"fedora29", 0.05, false, fedora});
  std::vector<std::string> upstream = {"4.14.78",    "4.14.84",    "4.18.16",   "4.18.20",
                                       "4.19.0-rc1", "4.19.0-rc4", "4.19.0-rc8"};
  for (int patch = 0; patch <= 25; ++patch) {
    if (patch > 12 && patch % 3 != 0) continue;
    upstream.push_back(patch == 0 ? "4.19.0" : "4.19." + std::to_string(patch));
  }
  for (const char* r : {"4.20.0", "4.20.5", "4.20.13", "5.4.50", "5.10.100", "6.1.50", "6.6.10"}) {
    upstream.push_back(r);
  }
  distros.push_back({"upstream", 0.07, false, upstream});
  distros.push_back({"ubuntu20.04", 0.14, false,
                     Numbered("5.4.0-", {26, 42, 65, 91, 107, 126, 150, 170, 190}, "-generic")});
  distros.push_back(
      {"debian11", 0.12, false,
       Numbered("5.10.0-", {8, 9, 10, 13, 16, 18, 20, 21, 23, 25, 26, 28}, "-cloud-amd64")});
  distros.push_back({"ubuntu22.04", 0.13, false,
                     Numbered("5.15.0-", {25, 43, 56, 69, 78, 88, 97, 105, 113, 119}, "-generic")});
  distros.push_back({"debian12", 0.11, false,
                     Numbered("6.1.0-", {9, 10, 11, 12, 13, 15, 17, 18, 20, 21}, "-cloud-amd64")});
  return distros;
}

}  // namespace

const std::vector<Distro>& Distros() {
  static const std::vector<Distro> distros = MakeDistros();
  return distros;
}

const std::vector<std::string>& ConfigSeries() {
  static const std::vector<std::string> series = {"3.10", "3.17", "4.0",  "4.4",  "4.9",  "4.12",
                                                  "4.14", "4.15", "4.17", "4.18", "4.19", "4.20",
                                                  "5.0",  "5.4",  "5.10", "5.15", "6.1",  "6.6"};
  return series;
}

}  // namespace fscanary::fleet_sim
