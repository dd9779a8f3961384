#pragma once
// What the scratch guard knows about a raw block device before fscanary may
// write to it: which device a path names, how big it is, and every way the
// system is already using it (mounts, swap, stacked devices, partitions,
// on-disk signatures). Facts only; scratch_decision.h turns them into a verdict.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sysfs/device_topology.h"
#include "common/sysfs/system_files.h"

namespace fscanary::guard {

// The guard speaks of devices and system trees in common/sysfs's terms.
using sysfs::DeviceNumber;
using sysfs::MountUse;
using sysfs::SwapUse;
using sysfs::SystemRoots;

// One on-disk signature that libblkid recognised.
struct Signature {
  std::string type;   // "ext4", "swap", "LVM2_member", "gpt", "dos", ...
  std::string usage;  // "filesystem", "raid", "crypto", "other"; "partition table" for tables
  std::string uuid;   // empty when the format has none
  std::string label;  // empty when the format has none
  // Where its magic lies on the device (take-over erases those bytes);
  // magic_length 0 when the prober did not say.
  uint64_t magic_offset = 0;
  uint64_t magic_length = 0;
};

// What sysfs and procfs say (the topology: name, size, block size, holders,
// partitions, mounts, swaps; size_bytes cross-checked against BLKGETSIZE64),
// and what the device itself shows.
struct DeviceInspection : sysfs::DeviceTopology {
  std::string path;  // as the caller gave it, e.g. "/dev/disk/by-id/virtio-scratch"
  DeviceNumber number;
  // The kernel refused us an exclusive open (EBUSY): something holds the
  // device (a mount, swap, dm/md, a btrfs member...) even if the tables above
  // did not show it. Only InspectBlockDevice sets it.
  bool claimed_by_kernel = false;
  // What libblkid recognises (only InspectBlockDevice probes), with what
  // FindKnownSignatures finds that libblkid did not, for callers that add it.
  std::vector<Signature> signatures;

  // "/dev/sdb", or "/dev/disk/by-id/x (/dev/sdb)" when the path was a link.
  std::string DisplayName() const;
};

// Resolves `path` (following symlinks such as /dev/disk/by-id/...) to a block
// device and inspects it: sysfs, /proc/self/mountinfo, /proc/swaps, an
// O_RDONLY|O_EXCL open, BLKGETSIZE64/BLKSSZGET and a libblkid probe. Reads the
// device, never writes it, and holds it open only during the call.
// InvalidArgument if `path` is not a block device; NotFound if it does not
// exist; Aborted if sysfs and the ioctls disagree on its size or block size.
absl::StatusOr<DeviceInspection> InspectBlockDevice(const std::string& path,
                                                    const SystemRoots& roots = {});

// The part of InspectBlockDevice that reads only sysfs and procfs (not the
// device): name, partition/parent, size, block size, ro, holders, partitions,
// mounts and swaps of `number`. Leaves claimed_by_kernel and signatures unset.
absl::StatusOr<DeviceInspection> InspectTopology(const std::string& path, DeviceNumber number,
                                                 const SystemRoots& roots = {});

}  // namespace fscanary::guard
