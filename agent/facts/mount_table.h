#pragma once
// /proc/self/mountinfo with every field host facts report (common/sysfs's parser
// keeps only what the guard needs), and which mount a path lives on.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/sysfs/system_files.h"

namespace fscanary::facts {

struct MountEntry {
  sysfs::DeviceNumber number;  // st_dev of the filesystem (0:N for btrfs, tmpfs, ...)
  std::string mount_point;
  std::string mount_options;  // per mount: rw,nosuid,relatime
  std::string fs_type;
  std::string source;         // "/dev/vda1"; not always a path ("tmpfs", "overlay")
  std::string super_options;  // per filesystem: rw,discard,errors=remount-ro
};

// Rows of mountinfo; malformed rows are skipped (facts are best effort).
std::vector<MountEntry> ParseMountTable(std::string_view text);

// The mount `path` (absolute, symlinks resolved) is on: the one whose mount
// point is the longest leading part of it, the last mounted when several are
// stacked on one point. Entries whose number is `st_dev` are preferred, so a
// path under a mount point we cannot see through still finds its own
// filesystem. nullopt when no mount point covers the path.
std::optional<MountEntry> MountOf(const std::vector<MountEntry>& mounts, std::string_view path,
                                  sysfs::DeviceNumber st_dev);

}  // namespace fscanary::facts
