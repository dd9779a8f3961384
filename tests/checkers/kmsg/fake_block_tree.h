#pragma once
// A hand-built /sys and /proc in a temp dir, shaped like the kernel's as far
// as device relevance reads them (mirroring tests/agent/facts/fake_host_tree.h,
// which the checkers' tests may not depend on): disks under their hardware
// device, partitions nested in their disk, dm devices with slaves/ and
// holders/, SCSI addresses and virtio devices leading to their disk, the
// /sys/dev/block and /sys/class/block links, mountinfo and swaps.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/sysfs/system_files.h"

namespace fscanary::kmsg::testing {

// Removes the tree on destruction. Not thread-safe.
class FakeBlockTree {
 public:
  // Nothing mounted, no swap.
  FakeBlockTree();
  ~FakeBlockTree();
  FakeBlockTree(const FakeBlockTree&) = delete;
  FakeBlockTree& operator=(const FakeBlockTree&) = delete;

  sysfs::SystemRoots roots() const { return {.root = root_}; }

  // A disk under the hardware device dir `hardware` ("/sys/devices/pci0000:00/
  // 0000:00:04.0/virtio1"), or under /sys/devices/virtual/block when empty.
  void AddDisk(const std::string& name, sysfs::DeviceNumber number,
               const std::string& hardware = "");
  void AddPartition(const std::string& disk, const std::string& name, sysfs::DeviceNumber number);
  // A device-mapper device on `slaves` (already added).
  void AddDm(const std::string& name, sysfs::DeviceNumber number,
             const std::vector<std::string>& slaves);
  // /sys/class/scsi_device/<address>, for the SCSI device dir `hardware`
  // (".../host2/target2:0:0/2:0:0:0", the dir its disk hangs off).
  void AddScsiDevice(const std::string& address, const std::string& hardware);
  // /sys/bus/virtio/devices/<name>, for the virtio device dir `hardware`.
  void AddVirtioDevice(const std::string& name, const std::string& hardware);

  // One mountinfo row of `device`'s filesystem at `mount_point`.
  void Mount(const std::string& device, sysfs::DeviceNumber number, const std::string& mount_point);
  void AddSwap(const std::string& device);
  void RemoveMountInfo();

 private:
  std::filesystem::path AddBlockDir(const std::filesystem::path& dir, const std::string& name,
                                    sysfs::DeviceNumber number);
  void WriteFile(const std::filesystem::path& path, const std::string& contents);
  void AppendFile(const std::filesystem::path& path, const std::string& contents);

  std::filesystem::path root_;
  std::map<std::string, std::filesystem::path> block_dirs_;
  int next_mount_id_ = 30;
};

}  // namespace fscanary::kmsg::testing
