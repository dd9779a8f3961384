#pragma once
// Every plain syscall fscanary makes on files and devices, each turned into a
// status in one place: EINTR retried, short transfers completed here.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "absl/status/statusor.h"

namespace fscanary::io {

// Owns a file descriptor; closes it on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release();

 private:
  int fd_ = -1;
};

absl::StatusOr<UniqueFd> Open(const std::string& path, int flags, mode_t mode = 0600);

// Opens `path` without following a symbolic link anywhere in it: openat2 with
// RESOLVE_NO_SYMLINKS where the kernel has it (5.6) and the sandbox lets us
// call it; otherwise open with O_NOFOLLOW, which refuses a symlink only as
// the last component. A symlink met is an error whose ErrnoOf is ELOOP (with
// O_CREAT|O_EXCL, a symlink as the last component is EEXIST).
absl::StatusOr<UniqueFd> OpenNoSymlinks(const std::string& path, int flags, mode_t mode = 0600);

struct FileInfo {
  bool is_block_device = false;
  bool is_regular_file = false;
  // Bytes: st_size for files, BLKGETSIZE64 for block devices.
  uint64_t size = 0;
  dev_t device = 0;  // st_rdev of a block device
  // Which file it is: st_dev and st_ino (for a device node, of the node).
  dev_t file_system = 0;
  ino_t inode = 0;
  uid_t owner = 0;  // st_uid
};
absl::StatusOr<FileInfo> Inspect(int fd, const std::string& path);

// fallocate(mode 0): reserves [0, size) so later O_DIRECT writes do not
// allocate; falls back to ftruncate where the filesystem lacks fallocate.
absl::Status Preallocate(int fd, uint64_t size, const std::string& path);
// ftruncate: the file is `size` bytes long, its old content past it gone.
absl::Status Truncate(int fd, uint64_t size, const std::string& path);

absl::Status WriteAll(int fd, std::span<const std::byte> data, uint64_t offset,
                      const std::string& path);
// Returns the number of bytes read: fewer than data.size() only at end of file.
absl::StatusOr<size_t> ReadAll(int fd, std::span<std::byte> data, uint64_t offset,
                               const std::string& path);
absl::Status DataSync(int fd, const std::string& path);
// Makes a directory entry change (create, rename) durable.
absl::Status SyncDirectory(const std::string& directory);
// Gives the file named `from` the name `to` unless `to` exists
// (AlreadyExists): renameat2 RENAME_NOREPLACE, or link and unlink where the
// filesystem lacks it.
absl::Status RenameNoReplace(const std::string& from, const std::string& to);
// Removes the name `path` (a link itself, never what it points to).
absl::Status Unlink(const std::string& path);
absl::Status MakeDirectories(const std::string& path);
// `path` and any missing parents created, `path` itself (created or found)
// left mode 0700 whatever the umask: for directories only the agent may read
// (evidence, quarantined records).
absl::Status MakePrivateDirectory(const std::string& path);

// Non-blocking flock; FailedPrecondition names the path when another process holds it.
absl::Status LockFile(int fd, bool exclusive, const std::string& path);

// POSIX_FADV_DONTNEED on the whole file: the next buffered read goes to the device.
absl::Status DropCachedPages(int fd, const std::string& path);

// POSIX_FADV_DONTNEED over every page that overlaps [offset, offset + length)
// (the kernel itself would keep the partial pages at either end). Clean pages
// are dropped; dirty ones are only queued for writeback (sync first), and
// pages some process has mapped or locked stay cached.
absl::Status DropCachedRange(int fd, uint64_t offset, uint64_t length, const std::string& path);

// fsync: the file's data and all its metadata made durable.
absl::Status FileSync(int fd, const std::string& path);

// Reads data.size() bytes at `offset` as the engine does (io::IoCompletion):
// returns the bytes read (fewer only at end of file) or a negative errno
// (-EIO, ...), so the caller can classify the failed read itself. EINTR,
// EAGAIN and short transfers are retried here.
int64_t ReadFullOrErrno(int fd, std::span<std::byte> data, uint64_t offset);

// Whether two descriptors are the same file (device and inode).
absl::StatusOr<bool> SameFile(int fd_a, int fd_b, const std::string& path);

// The kernel's page size (the unit of mappings and of the page cache).
uint64_t PageSize();

// The f_type of the filesystem holding `fd` (statfs magic, e.g. 0x9123683e
// for btrfs).
absl::StatusOr<uint64_t> FilesystemMagic(int fd, const std::string& path);
inline constexpr uint64_t kBtrfsMagic = 0x9123683e;

// A MAP_SHARED, read-write mapping of [offset, offset + length) of a file:
// stores into it land in the file's page cache, as buffered writes do. Stores
// go through Store, which turns the SIGBUS of a page that cannot be read in
// or allocated (an I/O error, ENOSPC, a file truncated since) into an error
// instead of the agent's death. Unmapped on destruction. Movable, not
// copyable; not thread-safe.
class SharedMapping {
 public:
  // `offset` must be a multiple of PageSize(); `length` > 0.
  static absl::StatusOr<SharedMapping> Map(int fd, uint64_t offset, size_t length,
                                           const std::string& path);
  SharedMapping(SharedMapping&& other) noexcept;
  SharedMapping& operator=(SharedMapping&& other) noexcept;
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping();

  // What the mapping holds, to read (a page that cannot be read in is SIGBUS
  // here: tests only). Stores go through Store.
  std::span<const std::byte> bytes() const {
    return {static_cast<const std::byte*>(address_), length_};
  }
  // Copies `data` to [offset, offset + data.size()) of the mapping.
  // InvalidArgument outside it; Unavailable, naming the file offset, when a
  // page faulted with SIGBUS (any part of `data` may have been stored).
  // Another SIGBUS of the process keeps its previous disposition.
  absl::Status Store(size_t offset, std::span<const std::byte> data);

  // Faults every page in writable (MADV_POPULATE_WRITE, Linux 5.14) so that a
  // page that cannot be read in is an error here rather than a SIGBUS on the
  // first store. Unimplemented where the kernel lacks it.
  absl::Status PrefaultWritable();
  // msync(MS_SYNC): the mapping's dirty pages written back and waited for; a
  // writeback error is returned (and, as for fsync, consumed for this file).
  absl::Status Sync();

 private:
  SharedMapping(void* address, size_t length, uint64_t file_offset, std::string path)
      : address_(address), length_(length), file_offset_(file_offset), path_(std::move(path)) {}
  void Unmap();

  void* address_ = nullptr;
  size_t length_ = 0;
  // The mapping's offset in the file, for messages.
  uint64_t file_offset_ = 0;
  std::string path_;
};

// Moves this process to the idle I/O class (ioprio_set): it gets disk time only
// when nobody else wants it. Has no effect under the `none` scheduler.
absl::Status SetIdleIoPriority();

uint64_t RandomU64();
// CLOCK_REALTIME in nanoseconds since the epoch.
uint64_t WallClockNanos();
// CLOCK_MONOTONIC in nanoseconds.
uint64_t MonotonicNanos();
// CPU time this process used (all threads), in nanoseconds.
uint64_t ProcessCpuNanos();
// Sleeps, resuming after signals, for `nanos`.
void SleepNanos(uint64_t nanos);

}  // namespace fscanary::io
