#include "checkers/kmsg/sysfs_device_relevance.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sysfs/device_topology.h"
#include "common/sysfs/system_files.h"

namespace fscanary::kmsg {
namespace {

namespace fs = std::filesystem;

// A stack deeper than this is not a real one (sysfs links gone round).
constexpr size_t kMaxStackDevices = 256;

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return absl::ascii_isdigit(c); });
}

// "2:0:0:0": host, channel, target, LUN.
bool IsScsiAddress(std::string_view name) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::string_view(name.data(), name.size()), ':');
  return parts.size() == 4 && std::all_of(parts.begin(), parts.end(), [](absl::string_view part) {
           return AllDigits(std::string_view(part.data(), part.size()));
         });
}

bool IsVirtioDevice(std::string_view name) {
  return name.starts_with("virtio") && AllDigits(name.substr(6));
}

// One component of a path: what the kernel prints as a device name. Anything
// else (a user-space line naming "../x", "mapper/vg-lv") is not looked up.
bool IsPlainName(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

// The only entry of `dir` (a hardware device's block/ directory holds its
// one disk); nullopt when there is none or more than one.
std::optional<std::string> OnlyEntry(const fs::path& dir) {
  std::error_code error;
  std::optional<std::string> only;
  for (fs::directory_iterator it(dir, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    if (only) return std::nullopt;
    only = it->path().filename().string();
  }
  if (error) return std::nullopt;
  return only;
}

std::optional<fs::path> Canonical(const fs::path& link) {
  std::error_code error;
  fs::path target = fs::canonical(link, error);
  if (error) return std::nullopt;
  return target;
}

// The sysfs directory of the block device a line names, symlinks resolved.
std::optional<fs::path> BlockDeviceDir(const sysfs::SystemRoots& roots, std::string_view device) {
  std::string name(device);
  if (IsScsiAddress(device)) {
    std::optional<std::string> disk =
        OnlyEntry(roots.Sys() / "class" / "scsi_device" / name / "device" / "block");
    if (!disk) return std::nullopt;
    name = *disk;
  } else if (IsVirtioDevice(device)) {
    std::optional<std::string> disk =
        OnlyEntry(roots.Sys() / "bus" / "virtio" / "devices" / name / "block");
    if (!disk) return std::nullopt;
    name = *disk;
  }
  if (!IsPlainName(name)) return std::nullopt;
  return Canonical(roots.Sys() / "class" / "block" / name);
}

std::optional<sysfs::DeviceNumber> DeviceNumberOf(const fs::path& dir) {
  absl::StatusOr<std::string> text = sysfs::ReadFileToString(dir / "dev");
  if (!text.ok()) return std::nullopt;
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(*text), ':');
  sysfs::DeviceNumber number;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &number.major) ||
      !absl::SimpleAtoi(parts[1], &number.minor)) {
    return std::nullopt;
  }
  return number;
}

// The whole disks at the bottom of the stack under the device at `dir`: a
// partition's disk, the devices under a dm/md device (slaves/), transitively;
// the device itself when nothing is under it. nullopt when a link does not
// resolve or the stack is implausibly deep.
std::optional<std::vector<fs::path>> BottomDisks(const fs::path& dir) {
  std::vector<fs::path> pending = {dir};
  std::set<fs::path> seen = {dir};
  std::vector<fs::path> bottoms;
  auto visit = [&](fs::path lower) {
    if (seen.insert(lower).second) pending.push_back(std::move(lower));
  };
  for (size_t next = 0; next < pending.size(); ++next) {
    if (pending.size() > kMaxStackDevices) return std::nullopt;
    const fs::path current = pending[next];  // copied: `pending` grows below
    std::error_code error;
    if (fs::exists(current / "partition", error)) {
      visit(current.parent_path());
      continue;
    }
    bool has_slaves = false;
    for (fs::directory_iterator it(current / "slaves", error);
         !error && it != fs::directory_iterator(); it.increment(error)) {
      std::optional<fs::path> slave = Canonical(it->path());
      if (!slave) return std::nullopt;
      visit(*std::move(slave));
      has_slaves = true;
    }
    if (error && error != std::errc::no_such_file_or_directory) return std::nullopt;
    if (!has_slaves) bottoms.push_back(current);
  }
  return bottoms;
}

}  // namespace

Relevance SysfsDeviceRelevance::Judge(std::string_view device) {
  const std::string name(device);
  const std::optional<fs::path> dir = BlockDeviceDir(options_.roots, device);
  if (!dir)
    return {.relevant = true, .reason = absl::StrCat("no block device ", name, " in sysfs")};
  const std::optional<std::vector<fs::path>> disks = BottomDisks(*dir);
  if (!disks) {
    return {.relevant = true, .reason = absl::StrCat("cannot follow the block stack under ", name)};
  }
  for (const fs::path& disk : *disks) {
    const std::string disk_name = disk.filename().string();
    const std::optional<sysfs::DeviceNumber> number = DeviceNumberOf(disk);
    if (!number) {
      return {.relevant = true, .reason = absl::StrCat("cannot read the number of ", disk_name)};
    }
    const absl::StatusOr<sysfs::DeviceUses> uses = sysfs::UsesOfDevice(*number, options_.roots);
    if (!uses.ok()) {
      return {.relevant = true,
              .reason = absl::StrCat("cannot tell what is on ", disk_name, ": ",
                                     uses.status().message())};
    }
    if (!uses->mounts.empty()) {
      return {.relevant = true,
              .reason = absl::StrCat(uses->mounts.front().via, " is mounted at ",
                                     uses->mounts.front().mount_point)};
    }
    if (!uses->swaps.empty()) {
      return {.relevant = true, .reason = absl::StrCat(uses->swaps.front().via, " is swap")};
    }
    for (const sysfs::DeviceNumber& target : options_.target_devices) {
      if (std::find(uses->devices.begin(), uses->devices.end(), target) != uses->devices.end()) {
        return {.relevant = true,
                .reason = absl::StrCat("a target is on ", target.major, ":", target.minor,
                                       ", built on ", disk_name)};
      }
    }
  }
  return {.relevant = false,
          .reason = absl::StrCat(name, " backs no mounted filesystem, swap area or target")};
}

}  // namespace fscanary::kmsg
