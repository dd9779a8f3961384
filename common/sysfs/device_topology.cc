#include "common/sysfs/device_topology.h"

#include <algorithm>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "common/sysfs/proc_tables.h"
#include "common/sysfs/system_files.h"

namespace fscanary::sysfs {
namespace {

namespace fs = std::filesystem;

// One node of the sysfs block tree: /sys/devices/.../block/sdb or .../sdb/sdb1.
struct SysfsDevice {
  fs::path dir;
  std::string name;
  DeviceNumber number;
};

std::string DeviceNumberText(DeviceNumber number) {
  return absl::StrCat(number.major, ":", number.minor);
}

absl::StatusOr<uint64_t> ReadUnsigned(const fs::path& file) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(file));
  uint64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected contents of ", file.string(), ": '", text, "'"));
  }
  return value;
}

absl::StatusOr<DeviceNumber> ReadDevFile(const fs::path& dir) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(dir / "dev"));
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text), ':');
  DeviceNumber number;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &number.major) ||
      !absl::SimpleAtoi(parts[1], &number.minor)) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected contents of ", (dir / "dev").string(), ": '", text, "'"));
  }
  return number;
}

absl::StatusOr<fs::path> Canonical(const fs::path& link, std::string_view what) {
  std::error_code error;
  fs::path target = fs::canonical(link, error);
  if (error) {
    return ErrnoToStatus(error.value(),
                         absl::StrCat("resolve ", absl::string_view(what.data(), what.size()), " (",
                                      link.string(), ")"));
  }
  return target;
}

absl::StatusOr<SysfsDevice> SysfsByNumber(const SystemRoots& roots, DeviceNumber number) {
  ASSIGN_OR_RETURN(fs::path dir,
                   Canonical(roots.Sys() / "dev" / "block" / DeviceNumberText(number),
                             "sysfs entry of block device " + DeviceNumberText(number)));
  std::string name = dir.filename().string();
  return SysfsDevice{.dir = std::move(dir), .name = std::move(name), .number = number};
}

absl::StatusOr<SysfsDevice> SysfsByName(const SystemRoots& roots, const std::string& name) {
  ASSIGN_OR_RETURN(fs::path dir,
                   Canonical(roots.Sys() / "class" / "block" / name, "sysfs entry of " + name));
  ASSIGN_OR_RETURN(const DeviceNumber number, ReadDevFile(dir));
  return SysfsDevice{.dir = std::move(dir), .name = name, .number = number};
}

// Names of the entries of `dir` that satisfy `keep`, sorted; a missing
// directory has none (holders/ is absent on some device types).
template <typename Keep>
absl::StatusOr<std::vector<std::string>> SortedEntries(const fs::path& dir, Keep keep) {
  std::vector<std::string> names;
  std::error_code error;
  fs::directory_iterator it(dir, error);
  if (error == std::errc::no_such_file_or_directory) return names;
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    if (keep(it->path())) names.push_back(it->path().filename().string());
  }
  if (error) return ErrnoToStatus(error.value(), absl::StrCat("list ", dir.string()));
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<std::string>> Holders(const fs::path& dir) {
  return SortedEntries(dir / "holders", [](const fs::path&) { return true; });
}

absl::StatusOr<std::vector<std::string>> Partitions(const fs::path& dir) {
  return SortedEntries(dir, [](const fs::path& entry) {
    std::error_code error;
    return fs::is_directory(entry, error) && fs::exists(entry / "partition", error);
  });
}

// The device, its partitions, and everything stacked on any of them
// (dm, md, bcache, ... through holders/), transitively.
absl::StatusOr<std::vector<SysfsDevice>> DevicesBuiltOn(const SystemRoots& roots,
                                                        const SysfsDevice& device) {
  std::vector<SysfsDevice> found = {device};
  auto seen = [&found](DeviceNumber number) {
    return std::any_of(found.begin(), found.end(),
                       [number](const SysfsDevice& d) { return d.number == number; });
  };
  for (size_t next = 0; next < found.size(); ++next) {
    const fs::path dir = found[next].dir;  // copied: `found` grows below
    ASSIGN_OR_RETURN(const std::vector<std::string> partitions, Partitions(dir));
    for (const std::string& partition : partitions) {
      ASSIGN_OR_RETURN(const DeviceNumber number, ReadDevFile(dir / partition));
      if (!seen(number))
        found.push_back({.dir = dir / partition, .name = partition, .number = number});
    }
    ASSIGN_OR_RETURN(const std::vector<std::string> holders, Holders(dir));
    for (const std::string& holder : holders) {
      ASSIGN_OR_RETURN(SysfsDevice stacked, SysfsByName(roots, holder));
      if (!seen(stacked.number)) found.push_back(std::move(stacked));
    }
  }
  return found;
}

const SysfsDevice* FindByNumber(const std::vector<SysfsDevice>& devices, DeviceNumber number) {
  for (const SysfsDevice& device : devices) {
    if (device.number == number) return &device;
  }
  return nullptr;
}

// The device number behind a path that procfs printed ("/dev/sdb1"): the
// node's st_rdev. Falls back to the kernel name when the node is gone (a
// deleted node, a container's /dev): procfs prints devtmpfs names.
absl::StatusOr<DeviceNumber> NumberOfProcPath(const SystemRoots& roots, const std::string& path) {
  absl::StatusOr<DeviceNumber> number = BlockDeviceNumber(roots.Under(path));
  if (!absl::IsNotFound(number.status())) return number;
  absl::StatusOr<SysfsDevice> by_name = SysfsByName(roots, fs::path(path).filename().string());
  if (!by_name.ok()) return number.status();
  return by_name->number;
}

absl::StatusOr<std::vector<MountUse>> MountsOf(const SystemRoots& roots,
                                               const std::vector<SysfsDevice>& devices) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(roots.Proc() / "self" / "mountinfo"));
  ASSIGN_OR_RETURN(const std::vector<MountInfoEntry> entries, ParseMountInfo(text));
  std::vector<MountUse> mounts;
  for (const MountInfoEntry& entry : entries) {
    const SysfsDevice* via = FindByNumber(devices, entry.number);
    // btrfs (and any filesystem on an anonymous st_dev) shows 0:N above; its
    // source still names the block device.
    if (via == nullptr && !entry.source.empty() && entry.source.front() == '/') {
      if (absl::StatusOr<DeviceNumber> source = NumberOfProcPath(roots, entry.source);
          source.ok()) {
        via = FindByNumber(devices, *source);
      }
    }
    if (via != nullptr) mounts.push_back({.mount_point = entry.mount_point, .via = via->name});
  }
  return mounts;
}

absl::StatusOr<std::vector<SwapUse>> SwapsOf(const SystemRoots& roots,
                                             const std::vector<SysfsDevice>& devices) {
  absl::StatusOr<std::string> text = ReadFileToString(roots.Proc() / "swaps");
  if (absl::IsNotFound(text.status())) return std::vector<SwapUse>{};  // kernel without swap
  if (!text.ok()) return text.status();
  ASSIGN_OR_RETURN(const std::vector<SwapsEntry> entries, ParseSwaps(*text));
  std::vector<SwapUse> swaps;
  for (const SwapsEntry& entry : entries) {
    // A swap file lives on a filesystem, and that filesystem's mount is
    // what ties it to a device.
    if (entry.type != "partition") continue;
    absl::StatusOr<DeviceNumber> number = NumberOfProcPath(roots, entry.path);
    if (!number.ok()) {
      // Fail closed: an active swap device we cannot place might be ours.
      return absl::FailedPreconditionError(absl::StrCat("cannot tell which device the swap area ",
                                                        entry.path,
                                                        " is on: ", number.status().message()));
    }
    if (const SysfsDevice* via = FindByNumber(devices, *number); via != nullptr) {
      swaps.push_back({.swap_path = entry.path, .via = via->name});
    }
  }
  return swaps;
}

}  // namespace

absl::StatusOr<DeviceTopology> ReadDeviceTopology(DeviceNumber number, const SystemRoots& roots) {
  ASSIGN_OR_RETURN(const SysfsDevice device, SysfsByNumber(roots, number));
  DeviceTopology inspection{.name = device.name};

  std::error_code error;
  inspection.is_partition = fs::exists(device.dir / "partition", error);
  const fs::path disk_dir = inspection.is_partition ? device.dir.parent_path() : device.dir;
  if (inspection.is_partition) inspection.parent_disk = disk_dir.filename().string();

  ASSIGN_OR_RETURN(const uint64_t sectors, ReadUnsigned(device.dir / "size"));
  inspection.size_bytes = sectors * 512;  // sysfs counts 512-byte sectors whatever the device
  ASSIGN_OR_RETURN(const uint64_t block_size,
                   ReadUnsigned(disk_dir / "queue" / "logical_block_size"));
  inspection.logical_block_size = static_cast<uint32_t>(block_size);
  ASSIGN_OR_RETURN(const uint64_t ro, ReadUnsigned(device.dir / "ro"));
  ASSIGN_OR_RETURN(const uint64_t disk_ro, ReadUnsigned(disk_dir / "ro"));
  inspection.read_only = ro != 0 || disk_ro != 0;

  ASSIGN_OR_RETURN(inspection.holders, Holders(device.dir));
  ASSIGN_OR_RETURN(inspection.partitions, Partitions(device.dir));
  ASSIGN_OR_RETURN(const std::vector<SysfsDevice> built_on, DevicesBuiltOn(roots, device));
  ASSIGN_OR_RETURN(inspection.mounts, MountsOf(roots, built_on));
  ASSIGN_OR_RETURN(inspection.swaps, SwapsOf(roots, built_on));
  return inspection;
}

absl::StatusOr<DeviceUses> UsesOfDevice(DeviceNumber number, const SystemRoots& roots) {
  ASSIGN_OR_RETURN(const SysfsDevice device, SysfsByNumber(roots, number));
  ASSIGN_OR_RETURN(const std::vector<SysfsDevice> built_on, DevicesBuiltOn(roots, device));
  DeviceUses uses;
  for (const SysfsDevice& each : built_on) uses.devices.push_back(each.number);
  ASSIGN_OR_RETURN(uses.mounts, MountsOf(roots, built_on));
  ASSIGN_OR_RETURN(uses.swaps, SwapsOf(roots, built_on));
  return uses;
}

}  // namespace fscanary::sysfs
