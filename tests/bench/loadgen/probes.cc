// The collector seen from outside: /proc, file sizes, /metrics.
#include "tests/bench/loadgen/probes.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "tests/e2e/e2e_support.h"

namespace fscanary::loadgen {

absl::StatusOr<ProcessSample> SampleProcess(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return absl::NotFoundError("no process " + std::to_string(pid));
  // The command name may hold spaces: the fields after it start past the last ')'.
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::vector<std::string> words{std::istream_iterator<std::string>(fields), {}};
  // Fields 3.. of proc(5) start at words[0]; utime is field 14, stime 15.
  if (words.size() < 13) return absl::DataLossError("short " + dir + "/stat");
  uint64_t utime = 0;
  uint64_t stime = 0;
  if (!absl::SimpleAtoi(words[11], &utime) || !absl::SimpleAtoi(words[12], &stime)) {
    return absl::DataLossError("unreadable times in " + dir + "/stat");
  }
  ProcessSample sample;
  sample.cpu_seconds =
      static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream status(dir + "/status");
  while (std::getline(status, line)) {
    std::istringstream words_of(line);
    std::string key;
    uint64_t value = 0;
    words_of >> key >> value;
    if (key == "VmRSS:") sample.rss_bytes = value * 1024;
    if (key == "VmHWM:") sample.peak_rss_bytes = value * 1024;
    if (key == "Threads:") sample.threads = value;
  }
  return sample;
}

uint64_t DatabaseBytes(const std::string& path) {
  uint64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code error;
    const uintmax_t size = std::filesystem::file_size(path + suffix, error);
    if (!error) total += size;
  }
  return total;
}

absl::StatusOr<Scrape> ScrapeMetrics(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("metrics address " + address + " has no port");
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::string> body = e2e::HttpGet(port, "/metrics");
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (!body.ok()) return body.status();
  Scrape scrape{.bytes = body->size(), .seconds = took.count()};
  std::istringstream lines(*body);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != '#') ++scrape.series;
  }
  return scrape;
}

double Quantile(std::vector<uint32_t>& values, double q) {
  if (values.empty()) return 0;
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

}  // namespace fscanary::loadgen
