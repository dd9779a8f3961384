#include "agent/facts/facts_io.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/sysfs/system_files.h"

namespace fscanary::facts {

namespace fs = std::filesystem;

std::optional<std::string> ReadOptionalFile(const fs::path& path) {
  absl::StatusOr<std::string> contents = sysfs::ReadFileToString(path);
  if (!contents.ok()) return std::nullopt;
  return std::move(*contents);
}

absl::StatusOr<PathInfo> StatPath(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("stat ", path.string()));
  }
  return PathInfo{
      .is_block_device = S_ISBLK(st.st_mode),
      .st_dev = {.major = ::major(st.st_dev), .minor = ::minor(st.st_dev)},
      .st_rdev = {.major = ::major(st.st_rdev), .minor = ::minor(st.st_rdev)},
  };
}

std::optional<std::string> SymlinkTargetName(const fs::path& link) {
  std::error_code error;
  const fs::path target = fs::read_symlink(link, error);
  if (error || target.filename().empty()) return std::nullopt;
  return target.filename().string();
}

std::optional<fs::path> ResolvedPath(const fs::path& path) {
  std::error_code error;
  fs::path resolved = fs::canonical(path, error);
  if (error) return std::nullopt;
  return resolved;
}

bool Exists(const fs::path& path) {
  std::error_code error;
  return fs::exists(path, error);
}

std::vector<std::string> ListDirectory(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(dir, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string UnameRelease() {
  struct utsname names {};
  if (::uname(&names) != 0) return "";
  return names.release;
}

}  // namespace fscanary::facts
