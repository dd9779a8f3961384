#pragma once
// Makes every directory and regular file under a root immutable (or not
// again), so that a test makes a checker's every change to its tree fail
// (EPERM, even for root) while the tree stays readable.

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace fscanary::testing {

// Sets or clears FS_IMMUTABLE_FL on `root` and everything under it
// (symlinks carry no flags); false where the filesystem or the caller cannot.
inline bool SetTreeImmutable(const std::string& root, bool immutable) {
  std::vector<std::string> inodes = {root};
  std::error_code error;
  for (auto it = std::filesystem::recursive_directory_iterator(root, error);
       !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_symlink() && (it->is_directory() || it->is_regular_file())) {
      inodes.push_back(it->path());
    }
  }
  if (error) return false;
  for (const std::string& inode : inodes) {
    const int fd = ::open(inode.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return false;
    int flags = 0;
    bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    flags = immutable ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ok && ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

}  // namespace fscanary::testing
