#pragma once
// A hand-built /sys, /proc and /etc in a temp dir, shaped like the kernel's:
// hardware device dirs with bound drivers, block dirs beneath them with
// queue/ and mq/, partitions nested in their disk, dm slaves/ and holders/,
// and the /sys/dev/block, /sys/class/block and /sys/block links.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agent/facts/host_facts.h"
#include "common/sysfs/system_files.h"

namespace fscanary::facts::testing {

struct FakeQueue {
  std::string scheduler = "[none] mq-deadline kyber";
  bool blk_mq = true;  // an mq/ dir with `hw_queues` entries
  int hw_queues = 1;
  uint32_t nr_requests = 256;
  std::string write_cache = "write back";
  bool rotational = false;
  uint32_t logical_block_size = 512;
  uint32_t physical_block_size = 512;
  uint32_t max_sectors_kb = 1280;
  uint64_t discard_max_bytes = 0;
  // queue/nomerges; empty: no such file (a kernel or device without it).
  std::string nomerges = "0";
};

struct FakeDisk {
  std::string name;
  sysfs::DeviceNumber number;
  // The hardware device in /sys/devices the disk hangs off, e.g.
  // "/sys/devices/pci0000:00/0000:00:02.0/virtio1"; empty for a virtual
  // device (no device/ link). `driver` is bound to it when not empty.
  std::string device;
  std::string driver;
  std::string model;  // device/model, written as given (SCSI pads it)
  uint64_t sectors = 2048;
  FakeQueue queue;
};

// Removes the tree on destruction. Not thread-safe.
class FakeHostTree {
 public:
  FakeHostTree();
  ~FakeHostTree();
  FakeHostTree(const FakeHostTree&) = delete;
  FakeHostTree& operator=(const FakeHostTree&) = delete;

  // CPUID off: the tree is not this CPU.
  FactsRoots roots() const { return {.system = {.root = root_}, .probe_cpuid = false}; }
  const std::filesystem::path& root() const { return root_; }

  // `absolute` ("/proc/cmdline") inside the tree.
  void WriteFile(const std::string& absolute, const std::string& contents);
  // Binds `driver` to the hardware device dir `device` (for a SCSI adapter).
  void BindDriver(const std::string& device, const std::string& driver);

  void AddDisk(const FakeDisk& disk);
  void AddPartition(const std::string& disk, const std::string& name, sysfs::DeviceNumber number,
                    uint64_t sectors = 1024);
  // A device-mapper device on `slaves` (already added), bio-based: no mq/.
  void AddDm(const std::string& name, sysfs::DeviceNumber number, const std::string& uuid,
             const std::vector<std::string>& slaves);
  // A loop device with `backing_file` (a system path) attached.
  void AddLoop(const std::string& name, sysfs::DeviceNumber number,
               const std::string& backing_file);

 private:
  // The block dir of a new device: dev, size, holders/, slaves/, and links.
  std::filesystem::path AddBlockDir(const std::filesystem::path& dir, const std::string& name,
                                    sysfs::DeviceNumber number, uint64_t sectors);
  void WriteQueue(const std::filesystem::path& dir, const FakeQueue& queue);

  std::filesystem::path root_;
  std::map<std::string, std::filesystem::path> block_dirs_;
};

// The st_dev of an existing path, as a test wires it into a fake mountinfo
// and sysfs so that CollectHostFacts finds its filesystem.
sysfs::DeviceNumber StDevOf(const std::filesystem::path& path);

}  // namespace fscanary::facts::testing
