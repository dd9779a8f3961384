#include "checkers/kmsg/kmsg_source.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>

#include "common/status.h"

namespace fscanary::kmsg {
namespace {

constexpr size_t kMaxRecordBuffer = 1 << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<DevKmsgSource>> DevKmsgSource::Open(const std::string& path) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDONLY | O_NONBLOCK));
  return std::unique_ptr<DevKmsgSource>(new DevKmsgSource(path, std::move(fd)));
}

absl::StatusOr<KmsgRead> DevKmsgSource::Next() {
  for (;;) {
    // One read(2) returns exactly one record.
    const ssize_t n = ::read(fd_.get(), buffer_.data(), buffer_.size());
    if (n > 0) {
      return KmsgRead{.outcome = ReadOutcome::kRecord,
                      .record = std::string(buffer_.data(), static_cast<size_t>(n))};
    }
    if (n == 0) return KmsgRead{.outcome = ReadOutcome::kCaughtUp};
    switch (errno) {
      case EINTR:
        continue;
      case EAGAIN:
        return KmsgRead{.outcome = ReadOutcome::kCaughtUp};
      case EPIPE:
        // The kernel has moved our position to the oldest record left.
        return KmsgRead{.outcome = ReadOutcome::kOverrun};
      case EINVAL:
        // The record does not fit; the position did not move, so retry bigger.
        if (buffer_.size() < kMaxRecordBuffer) {
          buffer_.resize(buffer_.size() * 2);
          continue;
        }
        [[fallthrough]];
      default:
        return ErrnoToStatus(errno, "read " + path_);
    }
  }
}

absl::StatusOr<bool> DevKmsgSource::Wait(std::chrono::milliseconds timeout) {
  pollfd watched{.fd = fd_.get(), .events = POLLIN, .revents = 0};
  const auto millis = std::clamp<int64_t>(timeout.count(), 0, std::numeric_limits<int>::max());
  const int ready = ::poll(&watched, 1, static_cast<int>(millis));
  if (ready < 0) {
    // A signal: let the caller look (it will find kCaughtUp if nothing came).
    if (errno == EINTR) return true;
    return ErrnoToStatus(errno, "poll " + path_);
  }
  // POLLIN for a record, POLLERR | POLLPRI for an overrun: either way, read.
  return ready > 0;
}

}  // namespace fscanary::kmsg
