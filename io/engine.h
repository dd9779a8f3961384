#pragma once
// The one seam between fscanary and the kernel's block I/O: an asynchronous
// engine that moves whole blocks between its own aligned buffers and a file
// descriptor. io_uring behind it where the kernel allows, pread/pwrite where not.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::io {

// kDataSync is fdatasync(fd) (offset, length and buffer unused): the writes
// completed before it made durable, a failure reported like any other request.
enum class IoOp : uint8_t { kRead, kWrite, kDataSync };

// One transfer of `length` bytes between buffer slot `buffer` (from the engine's
// Buffer()) and [offset, offset + length) of `fd`. For O_DIRECT descriptors the
// offset and length must be multiples of the logical block size.
struct IoRequest {
  IoOp op = IoOp::kRead;
  int fd = -1;
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t buffer = 0;
  // Write with RWF_DSYNC: the completion means the data is durable.
  bool dsync = false;
  // The caller's cookie, returned in the completion.
  uint64_t tag = 0;
};

// The outcome of one request. Short transfers, EAGAIN and EINTR are retried
// inside the engine, so `result` is the full length, fewer bytes only where a
// read met the end of the file, or a negative errno (-EIO, ...) that persisted
// (a kDataSync: 0 or a negative errno).
struct IoCompletion {
  uint64_t tag = 0;
  int64_t result = 0;
};

// Not thread-safe: one engine is driven by one thread. Buffers live as long as
// the engine.
class Engine {
 public:
  virtual ~Engine() = default;

  // "io_uring" or "psync": the name reported with every result.
  virtual std::string_view Name() const = 0;
  virtual uint32_t QueueDepth() const = 0;

  // Slot `index` (0 <= index < buffer count): aligned to 4096 bytes, of the
  // buffer size the engine was created with.
  virtual std::span<std::byte> Buffer(uint32_t index) = 0;

  // Queues a request; at most QueueDepth() may be outstanding (queued or in the
  // kernel). Requests queued together are submitted to the kernel together, so
  // adjacent ones can be merged by the block layer.
  virtual absl::Status Submit(const IoRequest& request) = 0;

  // Submits everything queued and waits until at least `min_completions`
  // requests have finished (fewer if fewer are outstanding); appends them to
  // `completions`. An error here means the engine itself failed, not a request.
  virtual absl::Status Reap(size_t min_completions, std::vector<IoCompletion>& completions) = 0;
};

enum class EngineKind : uint8_t { kAuto, kIoUring, kPsync };

struct EngineOptions {
  EngineKind kind = EngineKind::kAuto;
  uint32_t queue_depth = 32;
  // Size of each buffer slot; one slot per queue entry.
  size_t buffer_size = 4096;
};

struct EngineChoice {
  std::unique_ptr<Engine> engine;
  // Why io_uring was not used, when kAuto fell back; empty otherwise.
  std::string fallback_reason;
};

// kAuto tries io_uring and falls back to psync where io_uring is missing or
// forbidden (ENOSYS before 5.1, EPERM under kernel.io_uring_disabled or
// seccomp, a missing opcode); the reason is returned for the operator.
absl::StatusOr<EngineChoice> CreateEngine(const EngineOptions& options);

absl::StatusOr<EngineKind> ParseEngineKind(std::string_view name);

}  // namespace fscanary::io
