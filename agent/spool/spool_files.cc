#include "agent/spool/spool_files.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>

#include "common/status.h"
#include "io/posix.h"

namespace fscanary::spool {

absl::StatusOr<std::vector<std::string>> ListDirectory(const std::string& directory) {
  DIR* dir = ::opendir(directory.c_str());
  if (dir == nullptr) return ErrnoToStatus(errno, "opendir " + directory);
  std::vector<std::string> names;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
    names.emplace_back(entry->d_name);
  }
  const int error = errno;
  ::closedir(dir);
  if (error != 0) return ErrnoToStatus(error, "readdir " + directory);
  return names;
}

absl::Status RemoveFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoToStatus(errno, "unlink " + path);
  return absl::OkStatus();
}

absl::Status TruncateFile(int fd, uint64_t size, const std::string& path) {
  int ret;
  do {
    ret = ::ftruncate(fd, static_cast<off_t>(size));
  } while (ret != 0 && errno == EINTR);
  if (ret != 0) return ErrnoToStatus(errno, "ftruncate " + path);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(int fd, const std::string& path) {
  ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(fd, path));
  std::string content(info.size, '\0');
  ASSIGN_OR_RETURN(const size_t got,
                   io::ReadAll(fd, std::as_writable_bytes(std::span(content)), 0, path));
  content.resize(got);
  return content;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::StatusOr<uint64_t> CountQuarantined(const std::string& directory) {
  if (!IsDirectory(directory)) return 0;
  ASSIGN_OR_RETURN(const std::vector<std::string> names, ListDirectory(directory));
  return static_cast<uint64_t>(std::ranges::count_if(
      names, [](const std::string& name) { return name.ends_with(".record"); }));
}

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace fscanary::spool
