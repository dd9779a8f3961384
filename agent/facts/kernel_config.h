#pragma once
// The running kernel's build configuration: where it is found
// (/proc/config.gz, else /boot/config-<release>), its options, and its hash.

#include <map>
#include <string>
#include <string_view>

#include "common/sysfs/system_files.h"

namespace fscanary::facts {

struct KernelConfig {
  std::string source;  // "/proc/config.gz", "/boot/config-6.1.0-18-amd64", or empty
  std::string sha256;  // of the (decompressed) text; empty when no config was found
  std::map<std::string, std::string> options;
};

// Every option of a .config: "CONFIG_X=y" -> y, "=m" -> m, a number or a
// string (unquoted, \" and \\ undone) -> its value, "# CONFIG_X is not set" -> n.
// Keys keep their CONFIG_ prefix. Other lines are ignored.
std::map<std::string, std::string> ParseKernelConfig(std::string_view text);

// Reads /proc/config.gz (needs CONFIG_IKCONFIG_PROC), else
// /boot/config-<release>, under `roots`. A config that cannot be found or
// inflated gives an empty KernelConfig: it is a fact that we do not know.
KernelConfig ReadKernelConfig(const sysfs::SystemRoots& roots, const std::string& release);

}  // namespace fscanary::facts
