#include "agent/facts/block_stack.h"

#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/facts/block_device_facts.h"
#include "agent/facts/fact_text.h"
#include "agent/facts/proc_text.h"

namespace fscanary::facts {
namespace {

namespace fs = std::filesystem;

std::optional<fs::path> SysfsDirOfNumber(const sysfs::SystemRoots& roots,
                                         sysfs::DeviceNumber number) {
  return ResolvedPath(roots.Sys() / "dev" / "block" /
                      absl::StrCat(number.major, ":", number.minor));
}

std::optional<fs::path> SysfsDirOfName(const sysfs::SystemRoots& roots, const std::string& name) {
  return ResolvedPath(roots.Sys() / "class" / "block" / name);
}

// The block device a mount's source names ("/dev/vdb", "/dev/mapper/vg-lv"):
// the node's st_rdev, or, when the node is not there (a container's /dev),
// the sysfs device of that kernel name.
std::optional<sysfs::DeviceNumber> SourceDevice(const sysfs::SystemRoots& roots,
                                                const std::string& source) {
  if (source.empty() || source.front() != '/') return std::nullopt;
  if (absl::StatusOr<PathInfo> node = StatPath(roots.Under(source));
      node.ok() && node->is_block_device) {
    return node->st_rdev;
  }
  if (std::optional<fs::path> dir = SysfsDirOfName(roots, fs::path(source).filename().string())) {
    return ParseDeviceNumber(ReadOptionalFile(*dir / "dev").value_or(""));
  }
  return std::nullopt;
}

// Where `path` (in the tree under `roots`) is, as the system sees it.
std::string SystemPath(const sysfs::SystemRoots& roots, const fs::path& resolved) {
  if (roots.root == "/") return resolved.string();
  const fs::path root = ResolvedPath(roots.root).value_or(roots.root);
  return (fs::path("/") / resolved.lexically_relative(root)).lexically_normal().string();
}

// The devices directly under the device at `dir`.
std::vector<fs::path> LowerDirs(const sysfs::SystemRoots& roots,
                                const std::vector<MountEntry>& mounts, const fs::path& dir) {
  if (Exists(dir / "partition")) return {dir.parent_path()};
  std::vector<fs::path> lower;
  for (const std::string& slave : ListDirectory(dir / "slaves")) {
    if (std::optional<fs::path> slave_dir = SysfsDirOfName(roots, slave)) {
      lower.push_back(*slave_dir);
    }
  }
  if (std::optional<std::string> backing = ReadOptionalFile(dir / "loop" / "backing_file")) {
    // A deleted backing file reads "/path (deleted)" and no longer stats.
    const std::string path = FactText(*backing);
    if (absl::StatusOr<PathInfo> info = StatPath(roots.Under(path)); info.ok()) {
      const FileLocation location = LocateFile(roots, mounts, path, *info);
      if (location.device) {
        if (std::optional<fs::path> under = SysfsDirOfNumber(roots, *location.device)) {
          lower.push_back(*under);
        }
      }
    }
  }
  return lower;
}

}  // namespace

FileLocation LocateFile(const sysfs::SystemRoots& roots, const std::vector<MountEntry>& mounts,
                        const std::string& path, const PathInfo& info) {
  const fs::path under = roots.Under(path);
  FileLocation location{.path = SystemPath(roots, ResolvedPath(under).value_or(under))};
  location.mount = MountOf(mounts, location.path, info.st_dev);
  if (SysfsDirOfNumber(roots, info.st_dev)) {
    location.device = info.st_dev;
  } else if (location.mount) {
    location.device = SourceDevice(roots, location.mount->source);
  }
  return location;
}

std::vector<sysfs::DeviceNumber> DevicesOf(const sysfs::SystemRoots& roots,
                                           const std::vector<std::string>& paths) {
  const std::vector<MountEntry> mounts =
      ParseMountTable(ReadOptionalFile(roots.Proc() / "self" / "mountinfo").value_or(""));
  std::vector<sysfs::DeviceNumber> devices;
  for (const std::string& path : paths) {
    absl::StatusOr<PathInfo> info = StatPath(roots.Under(path));
    if (!info.ok()) continue;
    if (info->is_block_device) {
      devices.push_back(info->st_rdev);
    } else if (std::optional<sysfs::DeviceNumber> device =
                   LocateFile(roots, mounts, path, *info).device) {
      devices.push_back(*device);
    }
  }
  return devices;
}

std::vector<v1::BlockDeviceFacts> BlockStackFacts(const sysfs::SystemRoots& roots,
                                                  const std::vector<MountEntry>& mounts,
                                                  sysfs::DeviceNumber top) {
  std::vector<v1::BlockDeviceFacts> stack;
  std::optional<fs::path> top_dir = SysfsDirOfNumber(roots, top);
  if (!top_dir) return stack;
  std::vector<fs::path> pending = {*top_dir};
  std::set<fs::path> seen = {*top_dir};
  for (size_t next = 0; next < pending.size(); ++next) {
    const fs::path dir = pending[next];  // copied: `pending` grows below
    v1::BlockDeviceFacts device = ReadBlockDeviceFacts(roots, dir);
    for (const fs::path& lower : LowerDirs(roots, mounts, dir)) {
      device.add_lower(FactText(lower.filename().string()));
      if (seen.insert(lower).second) pending.push_back(lower);
    }
    stack.push_back(std::move(device));
  }
  return stack;
}

}  // namespace fscanary::facts
