#pragma once
// Finds the descriptor this process holds on a file, so a test can swap the
// file under a running checker for one that fails (dup2 of /dev/full: every
// write ENOSPC) without a seam in the product.

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <string>
#include <vector>

namespace fscanary::testing {

// Every descriptor open on `path` (as /proc/self/fd names it), lowest first.
inline std::vector<int> DescriptorsOf(const std::string& path) {
  std::vector<int> found;
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr) return found;
  while (const dirent* entry = ::readdir(fds)) {
    char target[PATH_MAX] = {};
    const std::string link = std::string("/proc/self/fd/") + entry->d_name;
    if (::readlink(link.c_str(), target, sizeof(target) - 1) <= 0 || path != target) continue;
    found.push_back(std::atoi(entry->d_name));
  }
  ::closedir(fds);
  std::sort(found.begin(), found.end());
  return found;
}

// The lowest-numbered descriptor open on `path`, or -1.
inline int DescriptorOf(const std::string& path) {
  const std::vector<int> found = DescriptorsOf(path);
  return found.empty() ? -1 : found.front();
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
