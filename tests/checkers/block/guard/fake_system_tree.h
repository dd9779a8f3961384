#pragma once
// A hand-built /sys, /proc and /dev in a temp dir, shaped like the kernel's
// (sysfs device dirs, /sys/dev/block and /sys/class/block links, holders/,
// nested partition dirs), for testing the guard without real devices.

#include <filesystem>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "checkers/block/guard/device_inspection.h"

namespace fscanary::guard::testing {

struct FakeDisk {
  std::string name;
  DeviceNumber number;
  uint64_t sectors = 2048;  // 512-byte sectors, as sysfs counts
  uint32_t logical_block_size = 512;
  bool read_only = false;
};

struct FakePartition {
  std::string disk;
  std::string name;
  DeviceNumber number;
  uint64_t sectors = 1024;
  int partition_number = 1;
  bool read_only = false;
};

// Removes the whole tree on destruction. Not thread-safe.
class FakeSystemTree {
 public:
  FakeSystemTree();
  ~FakeSystemTree();
  FakeSystemTree(const FakeSystemTree&) = delete;
  FakeSystemTree& operator=(const FakeSystemTree&) = delete;

  SystemRoots roots() const { return {.root = root_}; }

  void AddDisk(const FakeDisk& disk);
  void AddPartition(const FakePartition& partition);
  // `upper` (already added) is stacked on `lower`: lower/holders/upper.
  void AddHolder(const std::string& lower, const std::string& upper);
  // Replaces /proc/self/mountinfo and /proc/swaps (which start with a root
  // filesystem on an unrelated disk and no swap).
  void SetMountInfo(const std::string& text);
  void SetSwaps(const std::string& text);
  // A block device node at `absolute` ("/dev/mapper/x") in the tree. Needs
  // CAP_MKNOD: PermissionDenied otherwise.
  absl::Status MakeDeviceNode(const std::string& absolute, DeviceNumber number);

 private:
  void AddDeviceDir(const std::filesystem::path& dir, const std::string& name, DeviceNumber number,
                    uint64_t sectors, bool read_only);

  std::filesystem::path root_;
  std::map<std::string, std::filesystem::path> device_dirs_;
};

}  // namespace fscanary::guard::testing
