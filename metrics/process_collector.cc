#include "metrics/process_collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace fscanary::metrics {
namespace {

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  uint64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The boot time in Unix seconds: the "btime" line of /proc/stat.
std::optional<uint64_t> BootTimeSeconds() {
  const std::optional<std::string> stat = ReadFile("/proc/stat");
  if (!stat) return std::nullopt;
  const size_t at = stat->find("\nbtime ");
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + 7;
  return ParseUnsigned(std::string_view(*stat).substr(begin, stat->find('\n', begin) - begin));
}

std::optional<uint64_t> OpenFileDescriptors() {
  std::error_code error;
  uint64_t count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++count;
  }
  if (error) return std::nullopt;
  return count > 0 ? count - 1 : 0;  // The iterator's own descriptor is listed too.
}

MetricFamily Single(const char* name, const char* help, MetricType type, double value) {
  return {.name = name, .help = help, .type = type, .series = {Series{.value = value}}};
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const size_t command_end = text.rfind(')');
  if (command_end == std::string_view::npos) return std::nullopt;
  // Fields from 3 (state) on, split on spaces.
  std::vector<std::string_view> fields;
  size_t begin = command_end + 1;
  while (begin < text.size()) {
    while (begin < text.size() && (text[begin] == ' ' || text[begin] == '\n')) ++begin;
    size_t end = begin;
    while (end < text.size() && text[end] != ' ' && text[end] != '\n') ++end;
    if (end > begin) fields.push_back(text.substr(begin, end - begin));
    begin = end;
  }
  // proc(5) numbers fields from 1; fields[0] is field 3.
  const auto field = [&](size_t number) -> std::optional<uint64_t> {
    if (number - 3 >= fields.size()) return std::nullopt;
    return ParseUnsigned(fields[number - 3]);
  };
  const auto utime = field(14), stime = field(15), starttime = field(22), vsize = field(23),
             rss = field(24);
  if (!utime || !stime || !starttime || !vsize || !rss) return std::nullopt;
  return ProcStat{.user_ticks = *utime,
                  .system_ticks = *stime,
                  .start_ticks_after_boot = *starttime,
                  .virtual_memory_bytes = *vsize,
                  .resident_pages = *rss};
}

std::vector<MetricFamily> ProcessCollector::Collect() const {
  std::vector<MetricFamily> families;
  const auto ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
  const std::optional<std::string> stat_text = ReadFile("/proc/self/stat");
  const std::optional<ProcStat> stat = stat_text ? ParseProcStat(*stat_text) : std::nullopt;
  if (stat && ticks_per_second > 0) {
    families.push_back(
        Single("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
               MetricType::kCounter,
               static_cast<double>(stat->user_ticks + stat->system_ticks) / ticks_per_second));
    families.push_back(Single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                              MetricType::kGauge, static_cast<double>(stat->virtual_memory_bytes)));
    families.push_back(Single("process_resident_memory_bytes", "Resident memory size in bytes.",
                              MetricType::kGauge,
                              static_cast<double>(stat->resident_pages) * page_size));
    if (const std::optional<uint64_t> boot = BootTimeSeconds()) {
      families.push_back(
          Single("process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.", MetricType::kGauge,
                 static_cast<double>(*boot) +
                     static_cast<double>(stat->start_ticks_after_boot) / ticks_per_second));
    }
  }
  if (const std::optional<uint64_t> open = OpenFileDescriptors()) {
    families.push_back(Single("process_open_fds", "Number of open file descriptors.",
                              MetricType::kGauge, static_cast<double>(*open)));
  }
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    families.push_back(Single("process_max_fds", "Maximum number of open file descriptors.",
                              MetricType::kGauge, static_cast<double>(limit.rlim_cur)));
  }
  return families;
}

}  // namespace fscanary::metrics
