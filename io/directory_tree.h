#pragma once
// Every syscall the metadata checker makes inside its scratch directory, each
// confined to that directory: paths are resolved from a dirfd of the root one
// component at a time without following symlinks (openat2 RESOLVE_BENEATH |
// RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV where the kernel has it, else openat
// O_NOFOLLOW per component, checking each stays on the root's mount). A file
// or directory opened is checked to be on the root's mount too, so a bind
// mount placed inside the tree is refused (EXDEV), never read or written.
// Symlinks in the tree are created, renamed, unlinked and read, never followed;
// xattrs, modes, sizes and holes are changed through a file descriptor only.
//
// Paths are relative to the root: names joined by '/', none empty, "." or
// "..", no leading or trailing '/'. "" is the root itself. A path that breaks
// these rules is InvalidArgument, before any syscall. Errors carry the full
// path and the errno (ErrnoToStatus); EINTR is retried where it can happen.
//
// Lifetime: owns the root's dirfd, closed on destruction. Thread-safety: the
// methods keep no mutable state, so they may be called from several threads;
// what concurrent changes do to the tree is the callers' to order.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "io/posix.h"

namespace fscanary::io {

enum class EntryType : uint8_t { kRegular, kDirectory, kSymlink, kOther };

// What lstat says about one entry (never about a symlink's target).
struct EntryStat {
  EntryType type = EntryType::kOther;
  // Permission bits (st_mode & 07777).
  uint32_t mode = 0;
  uint64_t size = 0;
  uint64_t nlink = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
};

// xattr name and value.
using Xattr = std::pair<std::string, std::string>;

struct MountIds {
  std::optional<uint64_t> statx;
  std::optional<uint64_t> fdinfo;
  std::optional<uint64_t> handle;
};

class DirectoryTree {
 public:
  struct Options {
    // Create the root (mode 0700) when it is missing; its parent must exist.
    bool create_root = true;
    // Tests turn this off to exercise the per-component fallback.
    bool use_openat2 = true;
  };

  // Opens `root` (absolute): FailedPrecondition naming it when it is a
  // symlink or not a directory, or when it is missing and may not be created.
  static absl::StatusOr<DirectoryTree> Open(const std::string& root, const Options& options);
  DirectoryTree(DirectoryTree&&) = default;
  DirectoryTree& operator=(DirectoryTree&&) = default;

  const std::string& root() const { return root_; }
  // Whether paths are resolved with openat2 (probed at Open).
  bool uses_openat2() const { return use_openat2_; }
  // statfs's f_type of the root's filesystem (EXT4_SUPER_MAGIC, ...).
  absl::StatusOr<uint64_t> FilesystemType() const;
  // root + "/" + path, for messages.
  std::string Describe(std::string_view path) const;

  // nullopt when the entry is absent: ENOENT, or a parent that is not a
  // directory (a file or a symlink where a directory should be).
  absl::StatusOr<std::optional<EntryStat>> Stat(std::string_view path) const;
  // Names in the directory, without "." and "..", in readdir order.
  absl::StatusOr<std::vector<std::string>> List(std::string_view path) const;
  absl::StatusOr<std::string> ReadSymlink(std::string_view path) const;

  // A directory (O_DIRECTORY|O_NOFOLLOW) or a regular file (O_NOFOLLOW,
  // FailedPrecondition if the entry is anything else, never blocking on a
  // FIFO). NotFound when absent.
  absl::StatusOr<UniqueFd> OpenDirectory(std::string_view path) const;
  absl::StatusOr<UniqueFd> OpenFile(std::string_view path, bool writable) const;

  // New entries: AlreadyExists when the name is taken. Modes are set exactly
  // (fchmod after creation: the umask does not apply).
  absl::StatusOr<UniqueFd> CreateFile(std::string_view path, uint32_t mode) const;
  absl::Status MakeDirectory(std::string_view path, uint32_t mode) const;
  absl::Status MakeSymlink(const std::string& target, std::string_view path) const;
  // A second name for a file (never follows a symlink at `from`).
  absl::Status Link(std::string_view from, std::string_view to) const;
  // renameat2: RENAME_NOREPLACE unless `replace` (then `to` is replaced
  // atomically). Where the filesystem lacks RENAME_NOREPLACE, `to` is checked
  // to be absent first (the tree has one writer).
  absl::Status Rename(std::string_view from, std::string_view to, bool replace) const;
  absl::Status Unlink(std::string_view path) const;
  absl::Status RemoveDirectory(std::string_view path) const;
  // Removes `path` and everything under it, never following a symlink. OK
  // when absent.
  absl::Status RemoveTree(std::string_view path) const;

  // fsync of a directory, making entry changes in it durable.
  absl::Status SyncDirectory(std::string_view path) const;
  // syncfs of the root's filesystem.
  absl::Status SyncFilesystem() const;

  // On an open file or directory (`what` names it in errors).
  static absl::StatusOr<EntryStat> StatFd(int fd, std::string_view what);
  static absl::Status Sync(int fd, std::string_view what);
  static absl::Status Truncate(int fd, uint64_t size, std::string_view what);
  // fallocate PUNCH_HOLE|KEEP_SIZE: Unimplemented where the filesystem says
  // EOPNOTSUPP (nothing changed).
  static absl::Status PunchHole(int fd, uint64_t offset, uint64_t length, std::string_view what);
  static absl::Status SetXattr(int fd, const std::string& name, std::string_view value,
                               std::string_view what);
  static absl::Status RemoveXattr(int fd, const std::string& name, std::string_view what);
  // The xattrs whose names start with `prefix`, sorted by name.
  // The id of the mount `fd` is on (what tells a bind mount apart, which
  // st_dev cannot): statx STATX_MNT_ID (5.8), else /proc/self/fdinfo's mnt_id
  // (3.15), else name_to_handle_at; nullopt if none answers.
  static std::optional<uint64_t> MountIdOf(int fd);
  // Each source's answer, for tests and diagnostics.
  static MountIds ReadMountIds(int fd);

  static absl::StatusOr<std::vector<Xattr>> ReadXattrs(int fd, std::string_view prefix,
                                                       std::string_view what);

 private:
  DirectoryTree(std::string root, UniqueFd root_fd, dev_t device, uint64_t mount_id,
                bool use_openat2)
      : root_(std::move(root)),
        root_fd_(std::move(root_fd)),
        device_(device),
        mount_id_(mount_id),
        use_openat2_(use_openat2) {}

  // 0 when `fd` is on the root's mount, else EXDEV (or the errno of fstat).
  int MountErrno(int fd) const;
  // The same for `name` in `dir_fd`, without opening it (lstat): EXDEV, the
  // errno of statx, or 0. Where statx has no mount id, only the device.
  int NameMountErrno(int dir_fd, const std::string& name) const;

  // A directory fd for `path` (O_DIRECTORY|O_NOFOLLOW) resolved beneath the
  // root, or the errno that stopped the resolution (path must be valid).
  struct Resolved {
    UniqueFd fd;
    int error = 0;
  };
  Resolved ResolveDirectoryOrErrno(std::string_view path) const;
  absl::StatusOr<UniqueFd> ResolveDirectory(std::string_view path) const;
  // The parent's fd and the last name of `path` (which must not be "").
  absl::StatusOr<std::pair<UniqueFd, std::string>> ResolveParent(std::string_view path) const;
  absl::Status RemoveTreeAt(int parent_fd, const std::string& name, const std::string& shown,
                            int depth) const;

  std::string root_;
  UniqueFd root_fd_;
  dev_t device_ = 0;
  // The root's mount (MountIdOf).
  uint64_t mount_id_ = 0;
  bool use_openat2_ = true;
};

// Whether `path` is a valid relative tree path (see above); "" is valid.
bool IsValidTreePath(std::string_view path);

// State files kept outside the tree (the manifest in its state dir).
// Replaces `path` with `data` atomically and durably: a temp file beside it
// (`path`.tmp), fdatasync, rename, fsync of the directory. A crash leaves the
// old file or the new one, never a mix.
absl::Status ReplaceFileDurably(const std::string& path, std::span<const std::byte> data);
// The whole file: NotFound when absent, FailedPrecondition past `max_bytes`.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, uint64_t max_bytes);

// realpath(3): the absolute path without symlinks, "." or "..". NotFound when
// a component is missing.
absl::StatusOr<std::string> RealPath(const std::string& path);

}  // namespace fscanary::io
