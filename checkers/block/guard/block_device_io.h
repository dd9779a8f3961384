#pragma once
// The read-only handle the guard probes a device through: the only descriptor
// it ever holds on a device. Small-file reads of sysfs and procfs are in
// common/sysfs.

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "checkers/block/guard/device_inspection.h"

namespace fscanary::guard {

// A block device opened O_RDONLY for inspection; closes it on destruction.
// Never writable: the guard must not be able to damage what it inspects.
// Movable, not copyable; not thread-safe.
class ReadOnlyBlockDevice {
 public:
  // Opens `path` and checks it is still the block device `expected` (it may
  // have been replaced since it was stat'ed: Aborted then). Tries an exclusive
  // open first; when the kernel refuses it (EBUSY) because a mount, swap or
  // stacked device holds the device, opens it shared and remembers the refusal.
  static absl::StatusOr<ReadOnlyBlockDevice> Open(const std::filesystem::path& path,
                                                  DeviceNumber expected);

  ReadOnlyBlockDevice(ReadOnlyBlockDevice&& other) noexcept;
  ReadOnlyBlockDevice& operator=(ReadOnlyBlockDevice&& other) noexcept;
  ReadOnlyBlockDevice(const ReadOnlyBlockDevice&) = delete;
  ReadOnlyBlockDevice& operator=(const ReadOnlyBlockDevice&) = delete;
  ~ReadOnlyBlockDevice();

  int fd() const { return fd_; }
  bool claimed_by_kernel() const { return claimed_by_kernel_; }
  absl::StatusOr<uint64_t> SizeBytes() const;         // BLKGETSIZE64
  absl::StatusOr<uint32_t> LogicalBlockSize() const;  // BLKSSZGET

 private:
  ReadOnlyBlockDevice(int fd, bool claimed_by_kernel)
      : fd_(fd), claimed_by_kernel_(claimed_by_kernel) {}

  int fd_ = -1;
  bool claimed_by_kernel_ = false;
};

}  // namespace fscanary::guard
