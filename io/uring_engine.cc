#include "io/uring_engine.h"

#include <liburing.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "io/aligned_buffer.h"

namespace fscanary::io {
namespace {

// EAGAIN and EINTR from the device are retried this many times per request
// before the error is handed to the caller.
constexpr int kMaxRetries = 64;

struct ProbeDeleter {
  void operator()(io_uring_probe* probe) const { io_uring_free_probe(probe); }
};

absl::Status CheckRequiredOps(io_uring& ring) {
  std::unique_ptr<io_uring_probe, ProbeDeleter> probe(io_uring_get_probe_ring(&ring));
  // Kernels 5.1-5.5 cannot be probed; every opcode used here exists since 5.1.
  if (probe == nullptr) return absl::OkStatus();
  for (const int op : {IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ_FIXED,
                       IORING_OP_WRITE_FIXED, IORING_OP_FSYNC}) {
    if (!io_uring_opcode_supported(probe.get(), op)) {
      return absl::UnimplementedError(absl::StrCat("io_uring lacks opcode ", op));
    }
  }
  return absl::OkStatus();
}

class UringEngine final : public Engine {
 public:
  UringEngine(const EngineOptions& options, std::unique_ptr<io_uring> ring)
      : ring_(std::move(ring)), queue_depth_(options.queue_depth), slots_(options.queue_depth) {
    buffers_.reserve(queue_depth_);
    std::vector<iovec> iovecs;
    for (uint32_t i = 0; i < queue_depth_; ++i) {
      buffers_.emplace_back(options.buffer_size);
      iovecs.push_back({buffers_.back().data(), buffers_.back().size()});
      free_slots_.push_back(queue_depth_ - 1 - i);
    }
    // Registration can fail under RLIMIT_MEMLOCK on kernels before 5.12; the
    // vectored opcodes then do the same work with a page pin per request.
    fixed_buffers_ = io_uring_register_buffers(ring_.get(), iovecs.data(), iovecs.size()) == 0;
  }

  ~UringEngine() override { io_uring_queue_exit(ring_.get()); }

  std::string_view Name() const override { return "io_uring"; }
  uint32_t QueueDepth() const override { return queue_depth_; }
  std::span<std::byte> Buffer(uint32_t index) override { return buffers_.at(index).span(); }

  absl::Status Submit(const IoRequest& request) override {
    if (free_slots_.empty()) {
      return absl::FailedPreconditionError("io_uring engine: queue depth exceeded");
    }
    if (request.buffer >= buffers_.size() || request.length > buffers_[request.buffer].size()) {
      return absl::InvalidArgumentError("io_uring engine: request exceeds its buffer slot");
    }
    const uint32_t slot_index = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot_index] = Slot{.request = request};
    return Prepare(slot_index);
  }

  absl::Status Reap(size_t min_completions, std::vector<IoCompletion>& completions) override {
    const size_t outstanding = queue_depth_ - free_slots_.size();
    size_t wanted = std::min(min_completions, outstanding);
    size_t reaped = 0;
    do {
      const size_t still_wanted = wanted > reaped ? wanted - reaped : 0;
      int ret = io_uring_submit_and_wait(ring_.get(), static_cast<unsigned>(still_wanted));
      if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
        return ErrnoToStatus(-ret, "io_uring_submit_and_wait");
      }
      io_uring_cqe* cqe = nullptr;
      while (io_uring_peek_cqe(ring_.get(), &cqe) == 0 && cqe != nullptr) {
        const auto slot_index = static_cast<uint32_t>(io_uring_cqe_get_data64(cqe));
        const int res = cqe->res;
        io_uring_cqe_seen(ring_.get(), cqe);
        if (std::optional<IoCompletion> done = Complete(slot_index, res)) {
          completions.push_back(*done);
          ++reaped;
        }
      }
    } while (reaped < wanted);
    return absl::OkStatus();
  }

 private:
  struct Slot {
    IoRequest request;
    uint32_t transferred = 0;
    int retries = 0;
    iovec vec{};
  };

  // Queues the untransferred remainder of a slot's request as one SQE.
  absl::Status Prepare(uint32_t slot_index) {
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    if (sqe == nullptr) {
      // The submission ring is full of prepared entries: hand them over first.
      io_uring_submit(ring_.get());
      sqe = io_uring_get_sqe(ring_.get());
      if (sqe == nullptr) return absl::InternalError("io_uring: no submission entry free");
    }
    Slot& slot = slots_[slot_index];
    const IoRequest& request = slot.request;
    if (request.op == IoOp::kDataSync) {
      io_uring_prep_fsync(sqe, request.fd, IORING_FSYNC_DATASYNC);
      io_uring_sqe_set_data64(sqe, slot_index);
      return absl::OkStatus();
    }
    std::byte* data = buffers_[request.buffer].data() + slot.transferred;
    const uint32_t remaining = request.length - slot.transferred;
    const uint64_t offset = request.offset + slot.transferred;
    const bool read = request.op == IoOp::kRead;
    if (fixed_buffers_) {
      if (read) {
        io_uring_prep_read_fixed(sqe, request.fd, data, remaining, offset,
                                 static_cast<int>(request.buffer));
      } else {
        io_uring_prep_write_fixed(sqe, request.fd, data, remaining, offset,
                                  static_cast<int>(request.buffer));
      }
    } else {
      slot.vec = {data, remaining};
      if (read) {
        io_uring_prep_readv(sqe, request.fd, &slot.vec, 1, offset);
      } else {
        io_uring_prep_writev(sqe, request.fd, &slot.vec, 1, offset);
      }
    }
    if (!read && request.dsync) sqe->rw_flags = RWF_DSYNC;
    io_uring_sqe_set_data64(sqe, slot_index);
    return absl::OkStatus();
  }

  // Accounts one CQE; returns the completion once the request is finished, or
  // nothing when the remainder was queued again (short transfer, EAGAIN, EINTR).
  std::optional<IoCompletion> Complete(uint32_t slot_index, int res) {
    Slot& slot = slots_[slot_index];
    const IoRequest& request = slot.request;
    bool retry = false;
    if (res == -EAGAIN || res == -EINTR) {
      retry = ++slot.retries <= kMaxRetries;
    } else if (res > 0) {
      slot.transferred += static_cast<uint32_t>(res);
      retry = slot.transferred < request.length;
    } else if (res == 0 && request.op == IoOp::kWrite) {
      // A write that moves nothing would loop forever; call it an I/O error.
      res = -EIO;
    }
    if (retry && Prepare(slot_index).ok()) return std::nullopt;
    IoCompletion completion{.tag = request.tag,
                            .result = res < 0 ? res : static_cast<int64_t>(slot.transferred)};
    free_slots_.push_back(slot_index);
    return completion;
  }

  std::unique_ptr<io_uring> ring_;
  uint32_t queue_depth_;
  std::vector<AlignedBuffer> buffers_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  bool fixed_buffers_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> CreateUringEngine(const EngineOptions& options) {
  if (options.queue_depth == 0 || options.queue_depth > 4096) {
    return absl::InvalidArgumentError("queue depth must be between 1 and 4096");
  }
  auto ring = std::make_unique<io_uring>();
  if (int ret = io_uring_queue_init(options.queue_depth, ring.get(), 0); ret < 0) {
    return ErrnoToStatus(-ret, "io_uring_queue_init");
  }
  if (absl::Status ops = CheckRequiredOps(*ring); !ops.ok()) {
    io_uring_queue_exit(ring.get());
    return ops;
  }
  return std::unique_ptr<Engine>(new UringEngine(options, std::move(ring)));
}

}  // namespace fscanary::io
