#pragma once
// Where the running system's /sys, /proc and /dev are, and the small reads
// everything that inspects them shares: whole virtual files and the device
// number of a node. Tests point SystemRoots at a hand-built tree.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"

namespace fscanary::sysfs {

// Where /sys, /proc and /dev are read. Production uses "/"; tests point it at
// a hand-built tree in a temp dir. Every absolute path met (a device path,
// mount sources, /proc/swaps entries) is looked up under it.
struct SystemRoots {
  std::filesystem::path root = "/";

  std::filesystem::path Sys() const { return root / "sys"; }
  std::filesystem::path Proc() const { return root / "proc"; }
  // Maps an absolute system path such as "/dev/sdb" into the tree.
  std::filesystem::path Under(const std::filesystem::path& absolute) const;
};

struct DeviceNumber {
  uint32_t major = 0;
  uint32_t minor = 0;
  friend bool operator==(const DeviceNumber&, const DeviceNumber&) = default;
};

DeviceNumber DeviceNumberOf(dev_t rdev);

// open(2), retried while it fails with EINTR. -1 and errno as open(2).
int OpenRetryingEintr(const char* path, int flags);

// Whole contents of a (small, virtual) file such as /sys/block/sdb/size.
absl::StatusOr<std::string> ReadFileToString(const std::filesystem::path& path);

// major:minor of the block device node at `path`, following symlinks.
// InvalidArgument if `path` exists but is not a block device.
absl::StatusOr<DeviceNumber> BlockDeviceNumber(const std::filesystem::path& path);

}  // namespace fscanary::sysfs
