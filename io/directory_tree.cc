#include "io/directory_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status.h"

namespace fscanary::io {
namespace {

// The end of the message of an entry refused for being another mount.
constexpr char kMountInside[] = ": a mount inside the tree, not the checker's";

// Deeper than any tree the checker grows; a deeper one was not made by it.
constexpr int kMaxRemoveDepth = 64;

int OpenAt(int dir_fd, const char* name, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::openat(dir_fd, name, flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

EntryStat FromStatx(const struct statx& stx) {
  EntryType type = EntryType::kOther;
  if (S_ISREG(stx.stx_mode)) type = EntryType::kRegular;
  if (S_ISDIR(stx.stx_mode)) type = EntryType::kDirectory;
  if (S_ISLNK(stx.stx_mode)) type = EntryType::kSymlink;
  return {.type = type,
          .mode = static_cast<uint32_t>(stx.stx_mode & 07777),
          .size = static_cast<uint64_t>(stx.stx_size),
          .nlink = static_cast<uint64_t>(stx.stx_nlink),
          .inode = static_cast<uint64_t>(stx.stx_ino),
          .device = static_cast<uint64_t>(makedev(stx.stx_dev_major, stx.stx_dev_minor))};
}

// lstat of `name` in `dir_fd` with its mount id where the kernel tells it
// (statx STATX_MNT_ID, Linux 5.8); never triggers an automount.
int StatxAt(int dir_fd, const char* name, int flags, struct statx& stx) {
  int ret;
  do {
    ret = ::statx(dir_fd, name, flags | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
                  STATX_BASIC_STATS | STATX_MNT_ID, &stx);
  } while (ret != 0 && errno == EINTR);
  return ret == 0 ? 0 : errno;
}

// The "mnt_id:" line of /proc/self/fdinfo/<fd> (Linux 3.15).
std::optional<uint64_t> MountIdFromFdinfo(int fd) {
  const std::string path = absl::StrCat("/proc/self/fdinfo/", fd);
  const int info = OpenAt(AT_FDCWD, path.c_str(), O_RDONLY);
  if (info < 0) return std::nullopt;
  const UniqueFd closer(info);
  char text[1024];
  const ssize_t n = ::read(info, text, sizeof(text));
  if (n <= 0) return std::nullopt;
  for (absl::string_view line : absl::StrSplit(absl::string_view(text, size_t(n)), '\n')) {
    uint64_t id = 0;
    if (absl::ConsumePrefix(&line, "mnt_id:") &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &id)) {
      return id;
    }
  }
  return std::nullopt;
}

// name_to_handle_at reports the mount id as well (where the filesystem can
// make handles and seccomp allows it).
std::optional<uint64_t> MountIdFromHandle(int fd) {
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ] = {};
  auto* handle = reinterpret_cast<file_handle*>(storage);
  handle->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (::name_to_handle_at(fd, "", handle, &mount_id, AT_EMPTY_PATH) != 0) return std::nullopt;
  return static_cast<uint64_t>(mount_id);
}

long OpenAt2(int dir_fd, const char* path, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
  } while (fd < 0 && errno == EINTR);
  return fd;
}

// Debian's absl::string_view is not std::string_view.
absl::string_view Sv(std::string_view view) { return {view.data(), view.size()}; }

// Errors that mean "not there": the entry, or a directory on its way, is
// missing or is something other than a directory.
bool MeansAbsent(int error) { return error == ENOENT || error == ENOTDIR || error == ELOOP; }

absl::Status InvalidPath(std::string_view path) {
  return absl::InvalidArgumentError(
      absl::StrCat("not a relative path inside the tree: \"", Sv(path), "\""));
}

}  // namespace

bool IsValidTreePath(std::string_view path) {
  if (path.empty()) return true;
  for (const absl::string_view name : absl::StrSplit(Sv(path), '/')) {
    if (name.empty() || name == "." || name == ".." || name.size() > NAME_MAX) return false;
    if (name.find('\0') != absl::string_view::npos) return false;
  }
  return true;
}

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return ErrnoToStatus(errno, "realpath " + path);
  std::string result(resolved);
  std::free(resolved);
  return result;
}

absl::Status ReplaceFileDurably(const std::string& path, std::span<const std::byte> data) {
  const std::string temp_path = path + ".tmp";
  // A stale temp (or anything planted there) goes; unlink never follows a
  // symlink, and O_EXCL | O_NOFOLLOW refuse one planted since.
  if (::unlink(temp_path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, "unlink " + temp_path);
  }
  {
    ASSIGN_OR_RETURN(UniqueFd temp,
                     Open(temp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600));
    RETURN_IF_ERROR(WriteAll(temp.get(), data, 0, temp_path));
    RETURN_IF_ERROR(DataSync(temp.get(), temp_path));
  }
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("rename ", temp_path, " to ", path));
  }
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  return SyncDirectory(directory);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes) {
  ASSIGN_OR_RETURN(UniqueFd fd, Open(path, O_RDONLY));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoToStatus(errno, "fstat " + path);
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " holds ", st.st_size, " bytes, more than ", max_bytes));
  }
  std::string text(static_cast<size_t>(st.st_size), '\0');
  ASSIGN_OR_RETURN(const size_t got,
                   ReadAll(fd.get(), std::as_writable_bytes(std::span(text)), 0, path));
  text.resize(got);
  return text;
}

absl::StatusOr<DirectoryTree> DirectoryTree::Open(const std::string& root, const Options& options) {
  if (root.empty() || root.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat("root \"", root, "\" is not an absolute path"));
  }
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0) {
    if (errno != ENOENT || !options.create_root) return ErrnoToStatus(errno, "lstat " + root);
    if (::mkdir(root.c_str(), 0700) != 0 && errno != EEXIST) {
      if (errno == ENOENT) {
        return absl::FailedPreconditionError(
            absl::StrCat("cannot create root ", root, ": its parent directory does not exist"));
      }
      return ErrnoToStatus(errno, "mkdir " + root);
    }
    if (::lstat(root.c_str(), &st) != 0) return ErrnoToStatus(errno, "lstat " + root);
  }
  if (S_ISLNK(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(root, " is a symlink: the root must be a real directory"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(root, " is not a directory"));
  }
  // O_NOFOLLOW: a symlink swapped in since the lstat is refused, not followed.
  const int fd = OpenAt(AT_FDCWD, root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(root, " is a symlink: the root must be a real directory"));
    }
    return ErrnoToStatus(errno, "open " + root);
  }
  UniqueFd root_fd(fd);
  if (::fstat(root_fd.get(), &st) != 0) return ErrnoToStatus(errno, "fstat " + root);
  // Someone else able to change the tree could plant hard links to files
  // outside it for the checker to write through.
  if (st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is owned by uid %u with mode %04o: the root must be owned by the agent (uid %u) "
        "and not writable by group or others",
        root, static_cast<unsigned>(st.st_uid), static_cast<unsigned>(st.st_mode & 07777),
        static_cast<unsigned>(::geteuid())));
  }
  bool use_openat2 = false;
  if (options.use_openat2) {
    // Missing (ENOSYS) or filtered (EPERM under seccomp): fall back.
    const long probe = OpenAt2(root_fd.get(), ".", O_RDONLY | O_DIRECTORY);
    if (probe >= 0) {
      ::close(static_cast<int>(probe));
      use_openat2 = true;
    }
  }
  // Fail closed: without it a bind mount over an entry could be written
  // through. (statx 5.8, /proc/self/fdinfo 3.15, name_to_handle_at.)
  const std::optional<uint64_t> mount_id = MountIdOf(root_fd.get());
  if (!mount_id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot tell which mount ", root,
        " is on (no statx STATX_MNT_ID, /proc/self/fdinfo or name_to_handle_at): a mount "
        "inside the tree could not be refused"));
  }
  return DirectoryTree(root, std::move(root_fd), st.st_dev, *mount_id, use_openat2);
}

absl::StatusOr<uint64_t> DirectoryTree::FilesystemType() const {
  struct statfs fs {};
  if (::fstatfs(root_fd_.get(), &fs) != 0) return ErrnoToStatus(errno, "statfs " + root_);
  return static_cast<uint64_t>(fs.f_type);
}

MountIds DirectoryTree::ReadMountIds(int fd) {
  MountIds ids;
  struct statx stx {};
  if (StatxAt(fd, "", AT_EMPTY_PATH, stx) == 0 && (stx.stx_mask & STATX_MNT_ID) != 0) {
    ids.statx = stx.stx_mnt_id;
  }
  ids.fdinfo = MountIdFromFdinfo(fd);
  ids.handle = MountIdFromHandle(fd);
  return ids;
}

std::optional<uint64_t> DirectoryTree::MountIdOf(int fd) {
  struct statx stx {};
  if (StatxAt(fd, "", AT_EMPTY_PATH, stx) == 0 && (stx.stx_mask & STATX_MNT_ID) != 0) {
    return stx.stx_mnt_id;
  }
  if (std::optional<uint64_t> id = MountIdFromFdinfo(fd)) return id;
  return MountIdFromHandle(fd);
}

int DirectoryTree::NameMountErrno(int dir_fd, const std::string& name) const {
  struct statx stx {};
  if (const int error = StatxAt(dir_fd, name.c_str(), 0, stx); error != 0) return error;
  if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != device_) return EXDEV;
  if ((stx.stx_mask & STATX_MNT_ID) != 0 && stx.stx_mnt_id != mount_id_) return EXDEV;
  return 0;
}

int DirectoryTree::MountErrno(int fd) const {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return errno;
  if (st.st_dev != device_) return EXDEV;
  if (MountIdOf(fd) != mount_id_) return EXDEV;
  return 0;
}

std::string DirectoryTree::Describe(std::string_view path) const {
  if (path.empty()) return root_;
  return absl::StrCat(root_, "/", Sv(path));
}

DirectoryTree::Resolved DirectoryTree::ResolveDirectoryOrErrno(std::string_view path) const {
  constexpr int kFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
  if (path.empty()) {
    const int fd = OpenAt(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY);
    return fd < 0 ? Resolved{.error = errno} : Resolved{.fd = UniqueFd(fd)};
  }
  if (use_openat2_) {
    const std::string relative(path);
    const long fd = OpenAt2(root_fd_.get(), relative.c_str(), kFlags);
    return fd < 0 ? Resolved{.error = errno} : Resolved{.fd = UniqueFd(static_cast<int>(fd))};
  }
  // One component at a time, never following a symlink, never leaving the
  // root's mount (a mount inside the tree is not ours to write to).
  UniqueFd current;
  int at = root_fd_.get();
  for (const absl::string_view name : absl::StrSplit(Sv(path), '/')) {
    const std::string component(name);
    const int fd = OpenAt(at, component.c_str(), kFlags);
    if (fd < 0) return {.error = errno};
    UniqueFd next(fd);
    if (const int error = MountErrno(next.get()); error != 0) return {.error = error};
    current = std::move(next);
    at = current.get();
  }
  return {.fd = std::move(current)};
}

absl::StatusOr<UniqueFd> DirectoryTree::ResolveDirectory(std::string_view path) const {
  if (!IsValidTreePath(path)) return InvalidPath(path);
  Resolved resolved = ResolveDirectoryOrErrno(path);
  if (resolved.error == EXDEV) {
    return ErrnoToStatus(EXDEV, absl::StrCat("open directory ", Describe(path), kMountInside));
  }
  if (resolved.error != 0) {
    return ErrnoToStatus(resolved.error, "open directory " + Describe(path));
  }
  return std::move(resolved.fd);
}

absl::StatusOr<std::pair<UniqueFd, std::string>> DirectoryTree::ResolveParent(
    std::string_view path) const {
  if (path.empty() || !IsValidTreePath(path)) return InvalidPath(path);
  const size_t slash = path.rfind('/');
  const std::string_view parent = slash == std::string_view::npos ? "" : path.substr(0, slash);
  const std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  ASSIGN_OR_RETURN(UniqueFd fd, ResolveDirectory(parent));
  return std::make_pair(std::move(fd), name);
}

absl::StatusOr<std::optional<EntryStat>> DirectoryTree::Stat(std::string_view path) const {
  if (path.empty()) return StatFd(root_fd_.get(), root_);
  if (!IsValidTreePath(path)) return InvalidPath(path);
  const size_t slash = path.rfind('/');
  const std::string_view parent = slash == std::string_view::npos ? "" : path.substr(0, slash);
  const std::string name(slash == std::string_view::npos ? path : path.substr(slash + 1));
  Resolved resolved = ResolveDirectoryOrErrno(parent);
  if (resolved.error != 0) {
    if (MeansAbsent(resolved.error)) return std::nullopt;
    return ErrnoToStatus(resolved.error, "open directory " + Describe(parent));
  }
  struct statx stx {};
  if (const int error = StatxAt(resolved.fd.get(), name.c_str(), 0, stx); error != 0) {
    if (MeansAbsent(error)) return std::nullopt;
    return ErrnoToStatus(error, "lstat " + Describe(path));
  }
  // What is mounted over the name is not the tree's entry: not looked at.
  if (makedev(stx.stx_dev_major, stx.stx_dev_minor) != device_ ||
      ((stx.stx_mask & STATX_MNT_ID) != 0 && stx.stx_mnt_id != mount_id_)) {
    return ErrnoToStatus(EXDEV, absl::StrCat("lstat ", Describe(path), kMountInside));
  }
  return FromStatx(stx);
}

absl::StatusOr<std::vector<std::string>> DirectoryTree::List(std::string_view path) const {
  ASSIGN_OR_RETURN(UniqueFd fd, ResolveDirectory(path));
  DIR* dir = ::fdopendir(fd.get());
  if (dir == nullptr) return ErrnoToStatus(errno, "fdopendir " + Describe(path));
  fd.release();  // The DIR owns it now.
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir);
    if (entry == nullptr) break;
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  const int error = errno;
  ::closedir(dir);
  if (error != 0) return ErrnoToStatus(error, "readdir " + Describe(path));
  return names;
}

absl::StatusOr<std::string> DirectoryTree::ReadSymlink(std::string_view path) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n =
        ::readlinkat(parent.first.get(), parent.second.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoToStatus(errno, "readlink " + Describe(path));
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

absl::StatusOr<UniqueFd> DirectoryTree::OpenDirectory(std::string_view path) const {
  return ResolveDirectory(path);
}

absl::StatusOr<UniqueFd> DirectoryTree::OpenFile(std::string_view path, bool writable) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  // Before opening: opening what is mounted over the name (a device) could
  // itself do something. Checked again on the fd, which a race cannot fool.
  if (const int error = NameMountErrno(parent.first.get(), parent.second); error == EXDEV) {
    return ErrnoToStatus(EXDEV, absl::StrCat("open ", Describe(path), kMountInside));
  }
  // O_NONBLOCK: a FIFO put where a file was must not hang the agent.
  const int flags = (writable ? O_WRONLY : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  const int fd = OpenAt(parent.first.get(), parent.second.c_str(), flags);
  if (fd < 0) {
    if (errno == ELOOP) {
      return absl::FailedPreconditionError(
          absl::StrCat(Describe(path), " is a symlink, not a regular file"));
    }
    return ErrnoToStatus(errno, "open " + Describe(path));
  }
  UniqueFd file(fd);
  // Even with openat2 for the directories: the last name may be a bind mount.
  if (const int error = MountErrno(file.get()); error != 0) {
    return ErrnoToStatus(error, absl::StrCat("open ", Describe(path), kMountInside));
  }
  ASSIGN_OR_RETURN(const EntryStat stat, StatFd(file.get(), Describe(path)));
  if (stat.type != EntryType::kRegular) {
    return absl::FailedPreconditionError(absl::StrCat(Describe(path), " is not a regular file"));
  }
  return file;
}

absl::StatusOr<UniqueFd> DirectoryTree::CreateFile(std::string_view path, uint32_t mode) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  // O_CREAT|O_EXCL never follows a symlink at the name.
  const int fd = OpenAt(parent.first.get(), parent.second.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  if (fd < 0) return ErrnoToStatus(errno, "create " + Describe(path));
  UniqueFd file(fd);
  if (::fchmod(file.get(), mode) != 0) return ErrnoToStatus(errno, "fchmod " + Describe(path));
  return file;
}

absl::Status DirectoryTree::MakeDirectory(std::string_view path, uint32_t mode) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  if (::mkdirat(parent.first.get(), parent.second.c_str(), mode) != 0) {
    return ErrnoToStatus(errno, "mkdir " + Describe(path));
  }
  const int fd =
      OpenAt(parent.first.get(), parent.second.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return ErrnoToStatus(errno, "open " + Describe(path));
  UniqueFd directory(fd);
  if (MountErrno(directory.get()) != 0) {
    return ErrnoToStatus(EXDEV, absl::StrCat("open ", Describe(path), kMountInside));
  }
  if (::fchmod(directory.get(), mode) != 0) {
    return ErrnoToStatus(errno, "fchmod " + Describe(path));
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::MakeSymlink(const std::string& target, std::string_view path) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  if (::symlinkat(target.c_str(), parent.first.get(), parent.second.c_str()) != 0) {
    return ErrnoToStatus(errno, "symlink " + Describe(path));
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::Link(std::string_view from, std::string_view to) const {
  ASSIGN_OR_RETURN(auto source, ResolveParent(from));
  ASSIGN_OR_RETURN(auto destination, ResolveParent(to));
  // Flags 0: a symlink at `from` is linked itself, never its target.
  if (::linkat(source.first.get(), source.second.c_str(), destination.first.get(),
               destination.second.c_str(), 0) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("link ", Describe(from), " to ", Describe(to)));
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::Rename(std::string_view from, std::string_view to, bool replace) const {
  ASSIGN_OR_RETURN(auto source, ResolveParent(from));
  ASSIGN_OR_RETURN(auto destination, ResolveParent(to));
  const std::string what = absl::StrCat("rename ", Describe(from), " to ", Describe(to));
  const unsigned flags = replace ? 0u : RENAME_NOREPLACE;
  if (::renameat2(source.first.get(), source.second.c_str(), destination.first.get(),
                  destination.second.c_str(), flags) == 0) {
    return absl::OkStatus();
  }
  if (errno != EINVAL || replace) return ErrnoToStatus(errno, what);
  // EINVAL: perhaps no RENAME_NOREPLACE here. The tree has one writer, so a
  // check for the name then a plain rename is as good.
  struct stat st {};
  if (::fstatat(destination.first.get(), destination.second.c_str(), &st, AT_SYMLINK_NOFOLLOW) ==
      0) {
    return ErrnoToStatus(EEXIST, what);
  }
  if (::renameat(source.first.get(), source.second.c_str(), destination.first.get(),
                 destination.second.c_str()) != 0) {
    return ErrnoToStatus(errno, what);
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::Unlink(std::string_view path) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  if (::unlinkat(parent.first.get(), parent.second.c_str(), 0) != 0) {
    return ErrnoToStatus(errno, "unlink " + Describe(path));
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::RemoveDirectory(std::string_view path) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  if (::unlinkat(parent.first.get(), parent.second.c_str(), AT_REMOVEDIR) != 0) {
    return ErrnoToStatus(errno, "rmdir " + Describe(path));
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::RemoveTree(std::string_view path) const {
  ASSIGN_OR_RETURN(auto parent, ResolveParent(path));
  return RemoveTreeAt(parent.first.get(), parent.second, Describe(path), 0);
}

absl::Status DirectoryTree::RemoveTreeAt(int parent_fd, const std::string& name,
                                         const std::string& shown, int depth) const {
  struct stat st {};
  if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return ErrnoToStatus(errno, "lstat " + shown);
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(parent_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
      return ErrnoToStatus(errno, "unlink " + shown);
    }
    return absl::OkStatus();
  }
  if (depth >= kMaxRemoveDepth) {
    return absl::FailedPreconditionError(absl::StrCat(shown, " is nested too deep to remove"));
  }
  if (st.st_dev != device_) {
    return absl::FailedPreconditionError(
        absl::StrCat(shown, " is another filesystem mounted in the tree; not removing it"));
  }
  const int fd = OpenAt(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return ErrnoToStatus(errno, "open " + shown);
  UniqueFd directory(fd);
  if (MountErrno(directory.get()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(shown, " is a mount inside the tree; not removing it"));
  }
  std::vector<std::string> names;
  {
    const int listed = ::dup(directory.get());
    if (listed < 0) return ErrnoToStatus(errno, "dup " + shown);
    DIR* dir = ::fdopendir(listed);
    if (dir == nullptr) {
      ::close(listed);
      return ErrnoToStatus(errno, "fdopendir " + shown);
    }
    while (const dirent* entry = ::readdir(dir)) {
      const std::string_view child = entry->d_name;
      if (child != "." && child != "..") names.emplace_back(child);
    }
    ::closedir(dir);
  }
  for (const std::string& child : names) {
    RETURN_IF_ERROR(RemoveTreeAt(directory.get(), child, shown + "/" + child, depth + 1));
  }
  if (::unlinkat(parent_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return ErrnoToStatus(errno, "rmdir " + shown);
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::SyncDirectory(std::string_view path) const {
  ASSIGN_OR_RETURN(UniqueFd fd, ResolveDirectory(path));
  return Sync(fd.get(), Describe(path));
}

absl::Status DirectoryTree::SyncFilesystem() const {
  if (::syncfs(root_fd_.get()) != 0) return ErrnoToStatus(errno, "syncfs " + root_);
  return absl::OkStatus();
}

absl::StatusOr<EntryStat> DirectoryTree::StatFd(int fd, std::string_view what) {
  struct statx stx {};
  if (const int error = StatxAt(fd, "", AT_EMPTY_PATH, stx); error != 0) {
    return ErrnoToStatus(error, absl::StrCat("fstat ", Sv(what)));
  }
  return FromStatx(stx);
}

absl::Status DirectoryTree::Sync(int fd, std::string_view what) {
  int ret;
  do {
    ret = ::fsync(fd);
  } while (ret != 0 && errno == EINTR);
  if (ret != 0) return ErrnoToStatus(errno, absl::StrCat("fsync ", Sv(what)));
  return absl::OkStatus();
}

absl::Status DirectoryTree::Truncate(int fd, uint64_t size, std::string_view what) {
  int ret;
  do {
    ret = ::ftruncate(fd, static_cast<off_t>(size));
  } while (ret != 0 && errno == EINTR);
  if (ret != 0) return ErrnoToStatus(errno, absl::StrCat("ftruncate ", Sv(what)));
  return absl::OkStatus();
}

absl::Status DirectoryTree::PunchHole(int fd, uint64_t offset, uint64_t length,
                                      std::string_view what) {
  int ret;
  do {
    ret = ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                      static_cast<off_t>(length));
  } while (ret != 0 && errno == EINTR);
  if (ret == 0) return absl::OkStatus();
  if (errno == EOPNOTSUPP) {
    return absl::UnimplementedError(absl::StrCat("punch hole ", Sv(what), ": not supported here"));
  }
  return ErrnoToStatus(errno, absl::StrCat("punch hole ", Sv(what)));
}

absl::Status DirectoryTree::SetXattr(int fd, const std::string& name, std::string_view value,
                                     std::string_view what) {
  if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("setxattr ", name, " on ", Sv(what)));
  }
  return absl::OkStatus();
}

absl::Status DirectoryTree::RemoveXattr(int fd, const std::string& name, std::string_view what) {
  if (::fremovexattr(fd, name.c_str()) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("removexattr ", name, " on ", Sv(what)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Xattr>> DirectoryTree::ReadXattrs(int fd, std::string_view prefix,
                                                             std::string_view what) {
  std::string names;
  for (;;) {
    const ssize_t size = ::flistxattr(fd, nullptr, 0);
    if (size < 0) return ErrnoToStatus(errno, absl::StrCat("listxattr ", Sv(what)));
    names.resize(static_cast<size_t>(size));
    const ssize_t got = ::flistxattr(fd, names.data(), names.size());
    if (got >= 0) {
      names.resize(static_cast<size_t>(got));
      break;
    }
    if (errno != ERANGE) return ErrnoToStatus(errno, absl::StrCat("listxattr ", Sv(what)));
  }
  std::vector<Xattr> xattrs;
  for (const absl::string_view name : absl::StrSplit(names, '\0', absl::SkipEmpty())) {
    if (!std::string_view(name.data(), name.size()).starts_with(prefix)) {
      continue;
    }
    const std::string key(name);
    std::string value;
    for (;;) {
      const ssize_t size = ::fgetxattr(fd, key.c_str(), nullptr, 0);
      if (size < 0 && errno == ENODATA) break;
      if (size < 0) return ErrnoToStatus(errno, absl::StrCat("getxattr ", key, " on ", Sv(what)));
      value.resize(static_cast<size_t>(size));
      const ssize_t got = ::fgetxattr(fd, key.c_str(), value.data(), value.size());
      if (got >= 0) {
        value.resize(static_cast<size_t>(got));
        xattrs.emplace_back(key, std::move(value));
        break;
      }
      if (errno == ENODATA) break;
      if (errno != ERANGE)
        return ErrnoToStatus(errno, absl::StrCat("getxattr ", key, " on ", Sv(what)));
    }
  }
  std::sort(xattrs.begin(), xattrs.end());
  return xattrs;
}

}  // namespace fscanary::io
