#include "io/posix.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/ioprio.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace fscanary::io {

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

int UniqueFd::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::StatusOr<UniqueFd> Open(const std::string& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoToStatus(errno, "open " + path);
  return UniqueFd(fd);
}

absl::StatusOr<UniqueFd> OpenNoSymlinks(const std::string& path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd;
  do {
    fd = ::syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof(how));
  } while (fd < 0 && errno == EINTR);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  // ENOSYS: before 5.6; EPERM: a seccomp filter that does not know openat2.
  if (errno != ENOSYS && errno != EPERM) return ErrnoToStatus(errno, "open " + path);
  return Open(path, flags | O_NOFOLLOW, mode);
}

absl::StatusOr<FileInfo> Inspect(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoToStatus(errno, "stat " + path);
  FileInfo info{.is_block_device = S_ISBLK(st.st_mode),
                .is_regular_file = S_ISREG(st.st_mode),
                .size = static_cast<uint64_t>(st.st_size),
                .device = st.st_rdev,
                .file_system = st.st_dev,
                .inode = st.st_ino,
                .owner = st.st_uid};
  if (info.is_block_device) {
    uint64_t bytes = 0;
    if (::ioctl(fd, BLKGETSIZE64, &bytes) != 0) {
      return ErrnoToStatus(errno, "ioctl BLKGETSIZE64 " + path);
    }
    info.size = bytes;
  }
  return info;
}

absl::Status Preallocate(int fd, uint64_t size, const std::string& path) {
  int ret;
  do {
    ret = ::fallocate(fd, 0, 0, static_cast<off_t>(size));
  } while (ret != 0 && errno == EINTR);
  if (ret == 0) return absl::OkStatus();
  if (errno != EOPNOTSUPP) return ErrnoToStatus(errno, "fallocate " + path);
  return Truncate(fd, size, path);
}

absl::Status Truncate(int fd, uint64_t size, const std::string& path) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return ErrnoToStatus(errno, "ftruncate " + path);
  }
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::span<const std::byte> data, uint64_t offset,
                      const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ErrnoToStatus(errno, "write " + path);
    }
    if (n == 0) return ErrnoToStatus(EIO, "write " + path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReadAll(int fd, std::span<std::byte> data, uint64_t offset,
                               const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ErrnoToStatus(errno, "read " + path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

namespace {
// fsync or fdatasync, retried after EINTR.
absl::Status SyncWith(int (*sync)(int), const char* name, int fd, const std::string& path) {
  int ret;
  do {
    ret = sync(fd);
  } while (ret != 0 && errno == EINTR);
  if (ret != 0) return ErrnoToStatus(errno, std::string(name) + " " + path);
  return absl::OkStatus();
}
}  // namespace

absl::Status DataSync(int fd, const std::string& path) {
  return SyncWith(::fdatasync, "fdatasync", fd, path);
}

absl::Status SyncDirectory(const std::string& directory) {
  auto fd = Open(directory, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  if (::fsync(fd->get()) != 0) return ErrnoToStatus(errno, "fsync " + directory);
  return absl::OkStatus();
}

absl::Status RenameNoReplace(const std::string& from, const std::string& to) {
  const std::string what = absl::StrCat("rename ", from, " to ", to);
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  // EINVAL: a filesystem without RENAME_NOREPLACE. link() never replaces.
  if (errno != EINVAL && errno != ENOSYS) return ErrnoToStatus(errno, what);
  if (::link(from.c_str(), to.c_str()) != 0) return ErrnoToStatus(errno, what);
  // `to` is the file now; a second name left behind is not a failure of the
  // rename (the caller finds and replaces it).
  (void)Unlink(from);
  return absl::OkStatus();
}

absl::Status Unlink(const std::string& path) {
  if (::unlink(path.c_str()) != 0) return ErrnoToStatus(errno, "unlink " + path);
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return ErrnoToStatus(error.value(), "mkdir " + path);
  return absl::OkStatus();
}

absl::Status MakePrivateDirectory(const std::string& path) {
  RETURN_IF_ERROR(MakeDirectories(path));
  // chmod, not mkdir's mode: the umask cannot widen 0700, but a directory
  // found (or made by create_directories) may be wider.
  if (::chmod(path.c_str(), 0700) != 0) return ErrnoToStatus(errno, "chmod 0700 " + path);
  return absl::OkStatus();
}

absl::Status LockFile(int fd, bool exclusive, const std::string& path) {
  int ret;
  do {
    ret = ::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
  } while (ret != 0 && errno == EINTR);
  if (ret == 0) return absl::OkStatus();
  if (errno == EWOULDBLOCK) {
    return absl::FailedPreconditionError(path + " is locked by another fscanary process");
  }
  return ErrnoToStatus(errno, "flock " + path);
}

absl::Status DropCachedPages(int fd, const std::string& path) {
  if (int ret = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); ret != 0) {
    return ErrnoToStatus(ret, "posix_fadvise DONTNEED " + path);
  }
  return absl::OkStatus();
}

absl::Status DropCachedRange(int fd, uint64_t offset, uint64_t length, const std::string& path) {
  if (length == 0) return absl::OkStatus();
  const uint64_t page = PageSize();
  const uint64_t begin = offset / page * page;
  const uint64_t end = (offset + length + page - 1) / page * page;
  if (int ret = ::posix_fadvise(fd, static_cast<off_t>(begin), static_cast<off_t>(end - begin),
                                POSIX_FADV_DONTNEED);
      ret != 0) {
    return ErrnoToStatus(ret, "posix_fadvise DONTNEED " + path);
  }
  return absl::OkStatus();
}

absl::Status FileSync(int fd, const std::string& path) {
  return SyncWith(::fsync, "fsync", fd, path);
}

int64_t ReadFullOrErrno(int fd, std::span<std::byte> data, uint64_t offset) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -static_cast<int64_t>(errno);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return static_cast<int64_t>(done);
}

absl::StatusOr<bool> SameFile(int fd_a, int fd_b, const std::string& path) {
  struct stat a {};
  struct stat b {};
  if (::fstat(fd_a, &a) != 0 || ::fstat(fd_b, &b) != 0) return ErrnoToStatus(errno, "stat " + path);
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

absl::StatusOr<uint64_t> FilesystemMagic(int fd, const std::string& path) {
  struct statfs info {};
  if (::fstatfs(fd, &info) != 0) return ErrnoToStatus(errno, "fstatfs " + path);
  return static_cast<uint64_t>(info.f_type);
}

uint64_t PageSize() {
  static const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

absl::StatusOr<SharedMapping> SharedMapping::Map(int fd, uint64_t offset, size_t length,
                                                 const std::string& path) {
  if (length == 0 || offset % PageSize() != 0) {
    return absl::InvalidArgumentError("mmap " + path + ": empty or unaligned range");
  }
  void* address =
      ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(offset));
  if (address == MAP_FAILED) return ErrnoToStatus(errno, "mmap " + path);
  return SharedMapping(address, length, offset, path);
}

SharedMapping::SharedMapping(SharedMapping&& other) noexcept
    : address_(std::exchange(other.address_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      file_offset_(other.file_offset_),
      path_(std::move(other.path_)) {}

SharedMapping& SharedMapping::operator=(SharedMapping&& other) noexcept {
  if (this != &other) {
    Unmap();
    address_ = std::exchange(other.address_, nullptr);
    length_ = std::exchange(other.length_, 0);
    file_offset_ = other.file_offset_;
    path_ = std::move(other.path_);
  }
  return *this;
}

SharedMapping::~SharedMapping() { Unmap(); }

void SharedMapping::Unmap() {
  if (address_ != nullptr) ::munmap(address_, length_);
  address_ = nullptr;
}

absl::Status SharedMapping::PrefaultWritable() {
#ifdef MADV_POPULATE_WRITE
  int ret;
  do {
    ret = ::madvise(address_, length_, MADV_POPULATE_WRITE);
  } while (ret != 0 && (errno == EINTR || errno == EAGAIN));
  if (ret == 0) return absl::OkStatus();
  if (errno == EINVAL) {
    return absl::UnimplementedError("madvise MADV_POPULATE_WRITE needs Linux 5.14 (" + path_ + ")");
  }
  return ErrnoToStatus(errno, "madvise MADV_POPULATE_WRITE " + path_);
#else
  return absl::UnimplementedError("built without MADV_POPULATE_WRITE (" + path_ + ")");
#endif
}

namespace {

// The store in progress on this thread, if any: the bytes it may fault on
// and where to jump back to. initial-exec: the handler must not allocate.
struct GuardedStore {
  // The start of the first page stored to: a memory error (BUS_MCEERR_AR)
  // may name the start of the page rather than the byte.
  uintptr_t page_start = 0;
  uintptr_t begin = 0;
  uintptr_t end = 0;
  // Written by the handler, read after the jump: volatile, or its value
  // there would be indeterminate.
  volatile uintptr_t faulted_at = 0;
  sigjmp_buf jump;
};
__attribute__((tls_model("initial-exec"))) thread_local GuardedStore* active_store = nullptr;
struct sigaction sigbus_before {};

void OnSigbus(int signal_number, siginfo_t* info, void* context) {
  GuardedStore* store = active_store;
  const auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  // si_code > 0: raised by the kernel for a fault, not sent (kill -BUS).
  if (store != nullptr && info->si_code > 0 && address >= store->page_start &&
      address < store->end) {
    store->faulted_at = std::max(address, store->begin);
    siglongjmp(store->jump, 1);
  }
  // Not a guarded store: back to the disposition from before. A fault
  // happens again when the handler returns, under it (by default, death by
  // SIGBUS); a sent signal is sent again.
  (void)context;
  ::sigaction(SIGBUS, &sigbus_before, nullptr);
  if (info->si_code <= 0) ::raise(signal_number);
}

void InstallSigbusHandler() {
  static std::once_flag installed;
  std::call_once(installed, [] {
    struct sigaction action {};
    action.sa_sigaction = OnSigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, &sigbus_before);
  });
}

}  // namespace

absl::Status SharedMapping::Store(size_t offset, std::span<const std::byte> data) {
  if (offset > length_ || data.size() > length_ - offset) {
    return absl::InvalidArgumentError(absl::StrCat("store into the mapping of ", path_, ": bytes ",
                                                   offset, "+", data.size(), " are outside its ",
                                                   length_));
  }
  InstallSigbusHandler();
  std::byte* destination = static_cast<std::byte*>(address_) + offset;
  GuardedStore store;
  store.begin = reinterpret_cast<uintptr_t>(destination);
  store.end = store.begin + data.size();
  store.page_start = store.begin & ~uintptr_t{PageSize() - 1};
  // Only plain memory operations between here and the end of the copy:
  // nothing that a jump out of the signal handler could leave half done.
  if (sigsetjmp(store.jump, /*savesigs=*/1) != 0) {
    active_store = nullptr;
    const uint64_t faulted =
        file_offset_ + (store.faulted_at - reinterpret_cast<uintptr_t>(address_));
    return absl::UnavailableError(absl::StrCat("store into the mapping of ", path_,
                                               " faulted (SIGBUS) at file offset ", faulted,
                                               ": the page could not be read in or allocated"));
  }
  active_store = &store;
  // The handler reads active_store: the compiler must not move the copy
  // outside these two stores (memcpy touches no global, so it could).
  std::atomic_signal_fence(std::memory_order_seq_cst);
  std::memcpy(destination, data.data(), data.size());
  std::atomic_signal_fence(std::memory_order_seq_cst);
  active_store = nullptr;
  return absl::OkStatus();
}

absl::Status SharedMapping::Sync() {
  int ret;
  do {
    ret = ::msync(address_, length_, MS_SYNC);
  } while (ret != 0 && errno == EINTR);
  if (ret != 0) return ErrnoToStatus(errno, "msync " + path_);
  return absl::OkStatus();
}

absl::Status SetIdleIoPriority() {
  const int priority = IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0);
  if (::syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, priority) != 0) {
    return ErrnoToStatus(errno, "ioprio_set idle");
  }
  return absl::OkStatus();
}

uint64_t RandomU64() {
  uint64_t value = 0;
  size_t got = 0;
  while (got < sizeof(value)) {
    const ssize_t n = ::getrandom(reinterpret_cast<char*>(&value) + got, sizeof(value) - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  return value;
}

static uint64_t ClockNanos(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t WallClockNanos() { return ClockNanos(CLOCK_REALTIME); }
uint64_t MonotonicNanos() { return ClockNanos(CLOCK_MONOTONIC); }
uint64_t ProcessCpuNanos() { return ClockNanos(CLOCK_PROCESS_CPUTIME_ID); }

void SleepNanos(uint64_t nanos) {
  timespec ts{.tv_sec = static_cast<time_t>(nanos / 1'000'000'000),
              .tv_nsec = static_cast<long>(nanos % 1'000'000'000)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace fscanary::io
