#include "checkers/block/guard/block_device_io.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/sysfs/system_files.h"

namespace fscanary::guard {
absl::StatusOr<ReadOnlyBlockDevice> ReadOnlyBlockDevice::Open(const std::filesystem::path& path,
                                                              DeviceNumber expected) {
  // O_EXCL on a block device asks for the same exclusive claim that mount,
  // swapon, dm and md take; the kernel answers EBUSY while any of them holds
  // the device or one of its partitions.
  bool claimed_by_kernel = false;
  int fd = sysfs::OpenRetryingEintr(path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
  if (fd < 0 && errno == EBUSY) {
    claimed_by_kernel = true;
    fd = sysfs::OpenRetryingEintr(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path.string(), " read-only"));
  ReadOnlyBlockDevice device(fd, claimed_by_kernel);

  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, absl::StrCat("fstat ", path.string()));
  if (!S_ISBLK(st.st_mode) || !(sysfs::DeviceNumberOf(st.st_rdev) == expected)) {
    return absl::AbortedError(
        absl::StrCat(path.string(), " changed while it was being inspected; try again"));
  }
  return device;
}

ReadOnlyBlockDevice::ReadOnlyBlockDevice(ReadOnlyBlockDevice&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), claimed_by_kernel_(other.claimed_by_kernel_) {}

ReadOnlyBlockDevice& ReadOnlyBlockDevice::operator=(ReadOnlyBlockDevice&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    claimed_by_kernel_ = other.claimed_by_kernel_;
  }
  return *this;
}

ReadOnlyBlockDevice::~ReadOnlyBlockDevice() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<uint64_t> ReadOnlyBlockDevice::SizeBytes() const {
  uint64_t size = 0;
  if (::ioctl(fd_, BLKGETSIZE64, &size) != 0) return ErrnoToStatus(errno, "ioctl BLKGETSIZE64");
  return size;
}

absl::StatusOr<uint32_t> ReadOnlyBlockDevice::LogicalBlockSize() const {
  int size = 0;
  if (::ioctl(fd_, BLKSSZGET, &size) != 0) return ErrnoToStatus(errno, "ioctl BLKSSZGET");
  return static_cast<uint32_t>(size);
}

}  // namespace fscanary::guard
