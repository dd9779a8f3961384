#include "common/sysfs/system_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace fscanary::sysfs {

std::filesystem::path SystemRoots::Under(const std::filesystem::path& absolute) const {
  if (root == "/" || !absolute.is_absolute()) return absolute;
  return root / absolute.relative_path();
}

DeviceNumber DeviceNumberOf(dev_t rdev) { return {.major = ::major(rdev), .minor = ::minor(rdev)}; }

int OpenRetryingEintr(const char* path, int flags) {
  int fd;
  do {
    fd = ::open(path, flags);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

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
  return DeviceNumberOf(st.st_rdev);
}

}  // namespace fscanary::sysfs
