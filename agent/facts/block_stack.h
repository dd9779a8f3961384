#pragma once
// Follows the block stack under a target downward: from the device a file's
// filesystem lives on (or a block device target itself) to the partitions'
// disks, the slaves of dm and md devices, and the device holding a loop
// device's backing file, until the devices under nothing else.

#include <optional>
#include <string>
#include <vector>

#include "agent/facts/facts_io.h"
#include "agent/facts/mount_table.h"
#include "common/sysfs/system_files.h"
#include "fscanary/v1/facts.pb.h"

namespace fscanary::facts {

// Where a file is: its mount, and the block device holding that filesystem.
struct FileLocation {
  std::string path;  // absolute, symlinks resolved, as the system (not `roots`) sees it
  std::optional<MountEntry> mount;
  // st_dev when sysfs has it; else the mount's source device (btrfs shows an
  // anonymous 0:N st_dev); nullopt for filesystems on no block device
  // (tmpfs, overlay, nfs).
  std::optional<sysfs::DeviceNumber> device;
};

// Locates the existing file at the system path `path` (looked up under
// `roots`), which `info` is the stat of.
FileLocation LocateFile(const sysfs::SystemRoots& roots, const std::vector<MountEntry>& mounts,
                        const std::string& path, const PathInfo& info);

// The block device each of `paths` (system paths, looked up under `roots`) is
// on: a device node's own number, else the device under its filesystem
// (LocateFile against the current mount table). A path that does not stat,
// or whose filesystem is on no block device (tmpfs, nfs), adds none.
std::vector<sysfs::DeviceNumber> DevicesOf(const sysfs::SystemRoots& roots,
                                           const std::vector<std::string>& paths);

// Facts of `top` and of every device under it, `top` first, then breadth
// first; each device once, `lower` naming the devices directly under it.
// Empty when sysfs does not know `top`. `target` is left unset.
std::vector<v1::BlockDeviceFacts> BlockStackFacts(const sysfs::SystemRoots& roots,
                                                  const std::vector<MountEntry>& mounts,
                                                  sysfs::DeviceNumber top);

}  // namespace fscanary::facts
