#pragma once
// Finds the descriptor this process holds on a file, so a test can swap the
// file under a running checker for one that fails (dup2 of /dev/full: every
// write ENOSPC) without a seam in the product.

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string>

namespace fscanary::testing {

// The lowest-numbered descriptor open on `path` (as /proc/self/fd names it),
// or -1.
inline int DescriptorOf(const std::string& path) {
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return -1;
  int found = -1;
  while (const dirent* entry = ::readdir(fds)) {
    char target[PATH_MAX] = {};
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    if (::readlink(link.c_str(), target, sizeof(target) - 1) <= 0 || path != target) continue;
    const int fd = std::atoi(entry->d_name);
    if (found < 0 || fd < found) found = fd;
  }
  ::closedir(fds);
  return found;
}

// Makes `fd` write to /dev/full from now on; false if it could not.
inline bool MakeWritesFail(int fd) {
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (full < 0) return false;
  const bool swapped = ::dup2(full, fd) == fd;
  ::close(full);
  return swapped;
}

}  // namespace fscanary::testing
