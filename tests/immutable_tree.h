#pragma once
// Makes every directory and regular file under a root immutable (or not
// again), so that a test makes a checker's every change to its tree fail
// (EPERM, even for root) while the tree stays readable.

#include <errno.h>
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
  // A directory renamed under the walk (a checker at work) ends it early:
  // walk again, a few times.
  std::vector<std::string> inodes;
  for (int attempt = 0; attempt < 5; ++attempt) {
    inodes = {root};
    std::error_code error;
    for (auto it = std::filesystem::recursive_directory_iterator(root, error);
         !error && it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
      if (!it->is_symlink() && (it->is_directory() || it->is_regular_file())) {
        inodes.push_back(it->path());
      }
    }
    if (!error) break;
    if (attempt == 4) return false;
  }
  for (const std::string& inode : inodes) {
    const int fd = ::open(inode.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    // Renamed or removed since the walk: not there to set.
    if (fd < 0 && errno == ENOENT) continue;
    if (fd < 0) return false;
    int flags = 0;
    bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    // Already so: the kernel refuses (EPERM) to set an immutable inode's flags again.
    const bool already = ((flags & FS_IMMUTABLE_FL) != 0) == immutable;
    flags = immutable ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
    ok = ok && (already || ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0);
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

}  // namespace fscanary::testing
