#pragma once
// Parsers for the small text files host facts come from: /etc/os-release,
// /proc/cpuinfo, /proc/meminfo, /proc/devices, CPU lists and a queue's scheduler file.
// Pure: text in, values out; tested with literal files.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/sysfs/system_files.h"

namespace fscanary::facts {

// KEY=value lines of an os-release file, values unquoted as the shell would
// ("..." with \" \\ \$ \` escapes, '...' literally). Comments, blank and
// malformed lines are skipped.
std::map<std::string, std::string> ParseOsRelease(std::string_view text);

struct CpuInfo {
  std::string model;   // "model name" (x86), else "cpu model", "Processor", ...
  uint32_t count = 0;  // "processor" lines: the online CPUs
};
CpuInfo ParseCpuInfo(std::string_view text);

// MemTotal of /proc/meminfo in bytes; 0 when absent.
uint64_t ParseMemTotalBytes(std::string_view text);

// CPUs in a kernel CPU list such as "0-3,8,10-11" (sysfs cpu/online); 0 when
// malformed.
uint32_t CountCpuList(std::string_view text);

// The active entry of queue/scheduler: the bracketed one in
// "none [mq-deadline] kyber", or the only one in "none" (a bio-based queue).
// Empty when there is none.
std::string ActiveScheduler(std::string_view text);

// "254:16" (a sysfs dev file, surrounding whitespace allowed); nullopt when malformed.
std::optional<sysfs::DeviceNumber> ParseDeviceNumber(std::string_view text);

// The name /proc/devices gives block major `major` ("loop", "nbd", "zram");
// empty when it is not listed.
std::string BlockMajorName(std::string_view proc_devices, uint32_t major);

}  // namespace fscanary::facts
