#include "io/psync_engine.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "io/aligned_buffer.h"

namespace fscanary::io {
namespace {

constexpr int kMaxRetries = 64;

class PsyncEngine final : public Engine {
 public:
  explicit PsyncEngine(const EngineOptions& options) : queue_depth_(options.queue_depth) {
    buffers_.reserve(queue_depth_);
    for (uint32_t i = 0; i < queue_depth_; ++i) buffers_.emplace_back(options.buffer_size);
  }

  std::string_view Name() const override { return "psync"; }
  uint32_t QueueDepth() const override { return queue_depth_; }
  std::span<std::byte> Buffer(uint32_t index) override { return buffers_.at(index).span(); }

  absl::Status Submit(const IoRequest& request) override {
    if (queued_.size() >= queue_depth_) {
      return absl::FailedPreconditionError("psync engine: queue depth exceeded");
    }
    if (request.buffer >= buffers_.size() || request.length > buffers_[request.buffer].size()) {
      return absl::InvalidArgumentError("psync engine: request exceeds its buffer slot");
    }
    queued_.push_back(request);
    return absl::OkStatus();
  }

  // Runs every queued request: a synchronous engine has nothing to wait for.
  absl::Status Reap(size_t /*min_completions*/, std::vector<IoCompletion>& completions) override {
    while (!queued_.empty()) {
      const IoRequest request = queued_.front();
      queued_.pop_front();
      completions.push_back({.tag = request.tag, .result = Execute(request)});
    }
    return absl::OkStatus();
  }

 private:
  int64_t Execute(const IoRequest& request) {
    if (request.op == IoOp::kDataSync) {
      for (int retries = 0; ::fdatasync(request.fd) != 0;) {
        if (errno != EINTR || ++retries > kMaxRetries) return -errno;
      }
      return 0;
    }
    std::byte* data = buffers_[request.buffer].data();
    uint32_t transferred = 0;
    int retries = 0;
    while (transferred < request.length) {
      iovec vec{data + transferred, request.length - transferred};
      const off_t offset = static_cast<off_t>(request.offset + transferred);
      ssize_t n;
      if (request.op == IoOp::kRead) {
        n = preadv(request.fd, &vec, 1, offset);
      } else {
        n = Write(request.fd, vec, offset, request.dsync);
      }
      if (n < 0) {
        if ((errno == EINTR || errno == EAGAIN) && ++retries <= kMaxRetries) continue;
        return -errno;
      }
      if (n == 0) {
        if (request.op == IoOp::kRead) break;  // end of file: a short read
        return -EIO;
      }
      transferred += static_cast<uint32_t>(n);
    }
    return transferred;
  }

  // RWF_DSYNC needs Linux 4.7; older kernels get the write and an fdatasync.
  ssize_t Write(int fd, const iovec& vec, off_t offset, bool dsync) {
    if (!dsync) return pwritev(fd, &vec, 1, offset);
    if (dsync_supported_) {
      const ssize_t n = pwritev2(fd, &vec, 1, offset, RWF_DSYNC);
      if (n >= 0 || (errno != EOPNOTSUPP && errno != ENOSYS)) return n;
      dsync_supported_ = false;
    }
    const ssize_t n = pwritev(fd, &vec, 1, offset);
    if (n > 0 && fdatasync(fd) != 0) return -1;
    return n;
  }

  uint32_t queue_depth_;
  std::vector<AlignedBuffer> buffers_;
  std::deque<IoRequest> queued_;
  bool dsync_supported_ = true;
};

}  // namespace

std::unique_ptr<Engine> CreatePsyncEngine(const EngineOptions& options) {
  return std::make_unique<PsyncEngine>(options);
}

}  // namespace fscanary::io
