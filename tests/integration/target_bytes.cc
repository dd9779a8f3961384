#include "tests/integration/target_bytes.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include "common/status.h"

namespace fscanary::testing {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using AlignedBytes = std::unique_ptr<std::byte, FreeDeleter>;

AlignedBytes AllocateAligned(size_t size) {
  return AlignedBytes(
      static_cast<std::byte*>(std::aligned_alloc(4096, (size + 4095) / 4096 * 4096)));
}

}  // namespace

absl::StatusOr<std::vector<std::byte>> ReadBytes(const std::string& path, uint64_t offset,
                                                 size_t size) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoToStatus(errno, "open " + path);
  AlignedBytes buffer = AllocateAligned(size);
  size_t done = 0;
  while (done < size) {
    const ssize_t got =
        ::pread(fd.get(), buffer.get() + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoToStatus(errno, "pread " + path);
    if (got == 0) return absl::OutOfRangeError("pread " + path + ": end of file");
    done += static_cast<size_t>(got);
  }
  return std::vector<std::byte>(buffer.get(), buffer.get() + size);
}

absl::Status WriteBytes(const std::string& path, uint64_t offset, std::span<const std::byte> data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoToStatus(errno, "open " + path);
  AlignedBytes buffer = AllocateAligned(data.size());
  std::memcpy(buffer.get(), data.data(), data.size());
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t put = ::pwrite(fd.get(), buffer.get() + done, data.size() - done,
                                 static_cast<off_t>(offset + done));
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return ErrnoToStatus(errno, "pwrite " + path);
    done += static_cast<size_t>(put);
  }
  if (::fdatasync(fd.get()) != 0) return ErrnoToStatus(errno, "fdatasync " + path);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::byte>> ReadWholeFile(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoToStatus(errno, "open " + path);
  std::vector<std::byte> bytes;
  std::byte chunk[65536];
  while (true) {
    const ssize_t got = ::read(fd.get(), chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoToStatus(errno, "read " + path);
    if (got == 0) return bytes;
    bytes.insert(bytes.end(), chunk, chunk + got);
  }
}

absl::Status CreateFileWith(const std::string& path, std::span<const std::byte> data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoToStatus(errno, "open " + path);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t put = ::write(fd.get(), data.data() + done, data.size() - done);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return ErrnoToStatus(errno, "write " + path);
    done += static_cast<size_t>(put);
  }
  return absl::OkStatus();
}

std::vector<std::byte> ForeignBytes(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::byte> bytes(size);
  // Odd bytes only: never zero, and never the even 'F' (0x46) that starts
  // every fscanary magic, so no sector can pass for fscanary's.
  for (std::byte& b : bytes) b = static_cast<std::byte>(random() | 1);
  return bytes;
}

}  // namespace fscanary::testing
