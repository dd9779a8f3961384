#pragma once
// Every syscall the facts module makes, in one place: reads of small files in
// /proc, /sys and /etc, stat of targets and backing files, readlink of sysfs
// links, uname. Reads only. Failing reads come back as "no value", because a
// missing attribute is a fact too (an old kernel, a microVM without DMI).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sysfs/system_files.h"

namespace fscanary::facts {

// The whole file, or nullopt when it cannot be read for any reason.
std::optional<std::string> ReadOptionalFile(const std::filesystem::path& path);

// What stat(2) says about a path, following symlinks.
struct PathInfo {
  bool is_block_device = false;
  sysfs::DeviceNumber st_dev;   // the filesystem holding the path
  sysfs::DeviceNumber st_rdev;  // the device itself, for a device node
};
// NotFound when the path does not exist; other errno as ErrnoToStatus maps it.
absl::StatusOr<PathInfo> StatPath(const std::filesystem::path& path);

// The last component of a symlink's target ("virtio_blk" for
// .../device/driver -> ../../../bus/virtio/drivers/virtio_blk), or nullopt
// when `link` is not a readable symlink.
std::optional<std::string> SymlinkTargetName(const std::filesystem::path& link);

// The path with every symlink resolved, or nullopt when it does not resolve.
std::optional<std::filesystem::path> ResolvedPath(const std::filesystem::path& path);

bool Exists(const std::filesystem::path& path);

// Names of the entries of a directory, sorted; none when it cannot be listed.
std::vector<std::string> ListDirectory(const std::filesystem::path& dir);

// uname(2)'s release ("6.1.0-18-amd64"); empty when uname fails.
std::string UnameRelease();

}  // namespace fscanary::facts
