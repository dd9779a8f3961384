#include "checkers/guard/block_device_io.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace fscanary::guard {
namespace {

int OpenRetryingEintr(const char* path, int flags) {
  int fd;
  do {
    fd = ::open(path, flags);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

DeviceNumber NumberOf(dev_t rdev) { return {.major = ::major(rdev), .minor = ::minor(rdev)}; }

}  // namespace

absl::StatusOr<std::string> ReadFileToString(const std::filesystem::path& path) {
  const int fd = OpenRetryingEintr(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path.string()));
  std::string contents;
  char buffer[8192];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int read_errno = errno;
      ::close(fd);
      return ErrnoToStatus(read_errno, absl::StrCat("read ", path.string()));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

absl::StatusOr<DeviceNumber> BlockDeviceNumber(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("stat ", path.string()));
  }
  if (!S_ISBLK(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), " is not a block device"));
  }
  return NumberOf(st.st_rdev);
}

absl::StatusOr<ReadOnlyBlockDevice> ReadOnlyBlockDevice::Open(const std::filesystem::path& path,
                                                              DeviceNumber expected) {
  // O_EXCL on a block device asks for the same exclusive claim that mount,
  // swapon, dm and md take; the kernel answers EBUSY while any of them holds
  // the device or one of its partitions.
  bool claimed_by_kernel = false;
  int fd = OpenRetryingEintr(path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC);
  if (fd < 0 && errno == EBUSY) {
    claimed_by_kernel = true;
    fd = OpenRetryingEintr(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path.string(), " read-only"));
  ReadOnlyBlockDevice device(fd, claimed_by_kernel);

  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, absl::StrCat("fstat ", path.string()));
  if (!S_ISBLK(st.st_mode) || !(NumberOf(st.st_rdev) == expected)) {
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
