#pragma once
// What sysfs and procfs say about one block device: its place in the block
// tree and everything the system keeps on it or on what is built on it
// (partitions, dm, md; mounts, swap). Reads only small virtual files, never
// the device. The device guard and the kernel-log checker both ask.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sysfs/system_files.h"

namespace fscanary::sysfs {

// A mount of the device, or of a device stacked on it or carved out of it.
// `via` is the sysfs name of the device actually mounted ("sdb1", "dm-0"); it
// equals the device's own name for a direct mount.
struct MountUse {
  std::string mount_point;
  std::string via;
};

// An active swap area on the device or on a device stacked on it.
struct SwapUse {
  std::string swap_path;  // as /proc/swaps names it
  std::string via;
};

struct DeviceTopology {
  std::string name;  // kernel (sysfs) name, e.g. "vdb" or "vdb1"
  bool is_partition = false;
  std::string parent_disk;  // sysfs name of the whole disk; empty unless is_partition
  uint64_t size_bytes = 0;  // sysfs size x 512
  uint32_t logical_block_size = 0;
  bool read_only = false;
  std::vector<std::string> holders;     // sysfs names of devices stacked directly on it
  std::vector<std::string> partitions;  // sysfs names of its child partitions
  std::vector<MountUse> mounts;
  std::vector<SwapUse> swaps;
};

// Name, partition/parent, size, block size, ro, holders, partitions, mounts
// and swaps of `number`. NotFound when sysfs has no such device.
absl::StatusOr<DeviceTopology> ReadDeviceTopology(DeviceNumber number,
                                                  const SystemRoots& roots = {});

// What the system keeps on `number` or on anything built on it: the device,
// its partitions and, through holders/, every dm, md or other device stacked
// on any of them, transitively; and the mounts and swap areas of all of those.
// Reads only sysfs, /proc/self/mountinfo and /proc/swaps (each call re-reads
// them). NotFound when sysfs has no device `number`; FailedPrecondition when an
// active swap device cannot be placed (it might be on `number`).
struct DeviceUses {
  std::vector<DeviceNumber> devices;  // `number` first
  std::vector<MountUse> mounts;
  std::vector<SwapUse> swaps;
};
absl::StatusOr<DeviceUses> UsesOfDevice(DeviceNumber number, const SystemRoots& roots = {});

}  // namespace fscanary::sysfs
