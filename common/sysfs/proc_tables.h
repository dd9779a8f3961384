#pragma once
// Parsers for the two procfs tables that say how devices are used, /proc/self/mountinfo
// and /proc/swaps. Pure: text in, rows out, so they are tested with literal
// tables. Paths come back with the kernel's octal escapes (\040 ...) undone.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sysfs/system_files.h"

namespace fscanary::sysfs {

struct MountInfoEntry {
  DeviceNumber number;  // st_dev of the mounted filesystem (0:N for btrfs and others)
  std::string mount_point;
  std::string fs_type;
  std::string source;  // e.g. "/dev/sdb1"; not always a path ("tmpfs", "none")
};

struct SwapsEntry {
  std::string path;
  std::string type;  // "partition" for a block device, "file" for a swap file
};

// InvalidArgument naming the line when a row is malformed: a table we cannot
// read must not read as "nothing mounted".
absl::StatusOr<std::vector<MountInfoEntry>> ParseMountInfo(std::string_view text);
absl::StatusOr<std::vector<SwapsEntry>> ParseSwaps(std::string_view text);

// Undoes the kernel's mangling of paths in procfs tables ("\040" is a space).
std::string UnescapeProcPath(std::string_view escaped);

}  // namespace fscanary::sysfs
