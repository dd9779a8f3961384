#pragma once
// A scratch target's path opened once, and what it carries read through that
// one descriptor: the label, and the signatures of other owners. Shared by
// opening a target (scratch_target.h) and taking one over (take_over.h);
// not for other modules.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/guard/device_inspection.h"
#include "checkers/block/target/label.h"
#include "io/posix.h"

namespace fscanary::target {

struct OpenedPath {
  io::UniqueFd fd;
  io::FileInfo info;  // of fd: which file or device, and its size
  bool created = false;
};

// Opens `path` once with `flags` (O_DIRECT and the access mode; no O_EXCL,
// see ClaimDevice).
// - A file: no symbolic link anywhere in the path (io::OpenNoSymlinks), so a
//   link re-pointed later cannot redirect anything; a path through one is
//   FailedPrecondition naming it. With `create`, a missing file is created
//   (O_CREAT|O_EXCL, never through a dangling link).
// - A block device: its path may be a link (udev's /dev/disk/by-id names);
//   the device is what the descriptor opened, by st_rdev.
// InvalidArgument for anything else; NotFound when missing and not `create`.
absl::StatusOr<OpenedPath> OpenPath(const std::string& path, int flags, bool create);

// A label with a new random target id for a target of `size` bytes: the label
// region, then as many whole blocks as fit. InvalidArgument when not one fits.
absl::StatusOr<Label> NewLabel(const std::string& path, uint64_t size, uint32_t block_size);

// Replaces the descriptor of the block device in `opened` by one opened with
// `flags | O_EXCL`: the exclusive claim mount, swapon, dm and md take, so
// none of them can start on the device while fscanary writes it. Taken after
// the guard has looked (its own exclusive open tells it whether anyone holds
// the device). Aborted if the path names another device by now.
absl::Status ClaimDevice(const std::string& path, int flags, OpenedPath& opened);

// The label at offset 0, read through `fd`.
absl::StatusOr<LabelReading> ReadLabel(int fd, const std::string& path);

// Writes `label` over the whole label region [0, data_start) (zeros after the
// label block) and makes it durable.
absl::Status WriteLabel(int fd, const Label& label, const std::string& path);

// guard::FindKnownSignatures over what `fd` holds, `size` bytes.
absl::StatusOr<std::vector<guard::Signature>> ReadKnownSignatures(int fd, uint64_t size,
                                                                  const std::string& path);

// Inspects the block device open at `opened` with the guard (sysfs, procfs,
// libblkid), adds the known signatures libblkid did not list, and checks the
// device inspected is the one open (Aborted naming the path otherwise).
absl::StatusOr<guard::DeviceInspection> InspectOpenDevice(const std::string& path,
                                                          const OpenedPath& opened);

}  // namespace fscanary::target
