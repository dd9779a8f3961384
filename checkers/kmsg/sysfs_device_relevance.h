#pragma once
// DeviceRelevance from sysfs and procfs (device_relevance.h states the rule).
//
// A line's device is found under /sys: a kernel name at
// /sys/class/block/<name>, a SCSI address at
// /sys/class/scsi_device/<H:C:T:L>/device/block/<disk>, a virtio device at
// /sys/bus/virtio/devices/<virtioN>/block/<disk>. From there it follows the
// stack down (a partition to its disk, a dm/md device through slaves/ to the
// disks under it) and, from each of those disks, back up (partitions, and
// through holders/ every device stacked on them: sysfs::UsesOfDevice),
// looking for a mount (/proc/self/mountinfo), an active swap device
// (/proc/swaps) or a target device. Both tables are re-read at every call, so
// a filesystem mounted after the agent started counts.
//
// Relevant when the device cannot be found (an unknown name, a SCSI address
// with no disk, a device already gone) or a table cannot be read. A loop
// device's backing file is not followed: a loop device matters when it is
// mounted, swapped on or a target itself, not because its file lives on a
// mounted filesystem.
//
// Reads only small virtual files; never opens a device. Not thread-safe.

#include <vector>

#include "checkers/kmsg/device_relevance.h"
#include "common/sysfs/device_topology.h"

namespace fscanary::kmsg {

class SysfsDeviceRelevance final : public DeviceRelevance {
 public:
  struct Options {
    sysfs::SystemRoots roots;
    // The devices the agent's targets are on: a raw device target's own
    // number, the device under a file target's filesystem (which is mounted
    // anyway). Fixed for the agent's life, like its configuration.
    std::vector<sysfs::DeviceNumber> target_devices;
  };

  explicit SysfsDeviceRelevance(Options options) : options_(std::move(options)) {}

  Relevance Judge(std::string_view device) override;

 private:
  Options options_;
};

}  // namespace fscanary::kmsg
