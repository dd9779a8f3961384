#pragma once
// Every plain syscall fscanary makes on files and devices, each turned into a
// status in one place: EINTR retried, short transfers completed here.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

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

struct FileInfo {
  bool is_block_device = false;
  bool is_regular_file = false;
  // Bytes: st_size for files, BLKGETSIZE64 for block devices.
  uint64_t size = 0;
  dev_t device = 0;  // st_rdev of a block device
};
absl::StatusOr<FileInfo> Inspect(int fd, const std::string& path);

// fallocate(mode 0): reserves [0, size) so later O_DIRECT writes do not
// allocate; falls back to ftruncate where the filesystem lacks fallocate.
absl::Status Preallocate(int fd, uint64_t size, const std::string& path);

absl::Status WriteAll(int fd, std::span<const std::byte> data, uint64_t offset,
                      const std::string& path);
// Returns the number of bytes read: fewer than data.size() only at end of file.
absl::StatusOr<size_t> ReadAll(int fd, std::span<std::byte> data, uint64_t offset,
                               const std::string& path);
absl::Status DataSync(int fd, const std::string& path);
// Makes a directory entry change (create, rename) durable.
absl::Status SyncDirectory(const std::string& directory);
absl::Status MakeDirectories(const std::string& path);

// Non-blocking flock; FailedPrecondition names the path when another process holds it.
absl::Status LockFile(int fd, bool exclusive, const std::string& path);

// POSIX_FADV_DONTNEED on the whole file: the next buffered read goes to the device.
absl::Status DropCachedPages(int fd, const std::string& path);

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
