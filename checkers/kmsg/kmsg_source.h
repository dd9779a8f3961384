#pragma once
// Where kernel log records come from: the seam between the watcher and
// /dev/kmsg, so the watcher is tested with a fake that overruns on demand.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "io/posix.h"

namespace fscanary::kmsg {

enum class ReadOutcome {
  kRecord,
  // Nothing waiting; the call did not block.
  kCaughtUp,
  // Records were overwritten before they were read (the ring buffer wrapped);
  // the next call reads the oldest record left. The gap shows in the sequence
  // numbers.
  kOverrun,
};

struct KmsgRead {
  ReadOutcome outcome = ReadOutcome::kCaughtUp;
  // One raw record (kmsg_record.h) when outcome is kRecord.
  std::string record;
};

// A reader of kernel log records, positioned at the oldest record still in the
// kernel's buffer when made. Not thread-safe; errors mean the source is
// unusable (the watcher reports them, the caller reopens).
class KmsgSource {
 public:
  virtual ~KmsgSource() = default;
  // The next record, never blocking.
  virtual absl::StatusOr<KmsgRead> Next() = 0;
  // Blocks until a record may be waiting or `timeout` has passed; false on
  // timeout. A true answer may be spurious: Next() then says kCaughtUp.
  virtual absl::StatusOr<bool> Wait(std::chrono::milliseconds timeout) = 0;
};

// /dev/kmsg, opened O_RDONLY | O_NONBLOCK (reading it needs CAP_SYSLOG where
// kernel.dmesg_restrict is set). Its read(2) and poll(2) live here rather than
// in io/: they have /dev/kmsg's own errno meanings (EAGAIN caught up, EPIPE
// overrun, EINVAL buffer too small for the record).
class DevKmsgSource final : public KmsgSource {
 public:
  static absl::StatusOr<std::unique_ptr<DevKmsgSource>> Open(const std::string& path);

  absl::StatusOr<KmsgRead> Next() override;
  absl::StatusOr<bool> Wait(std::chrono::milliseconds timeout) override;

 private:
  DevKmsgSource(std::string path, io::UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  io::UniqueFd fd_;
  // The kernel formats a record into at most 8 KiB (CONSOLE_EXT_LOG_MAX); the
  // buffer grows on EINVAL should a kernel ever exceed that.
  std::vector<char> buffer_ = std::vector<char>(8192);
};

}  // namespace fscanary::kmsg
