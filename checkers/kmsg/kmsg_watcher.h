#pragma once
// The kernel log watcher: reads /dev/kmsg from the oldest record of this boot,
// reports every line that matches a filesystem or block-layer error signature
// (signatures.h) once, across agent restarts, and keeps a storm of one error
// from flooding the collector while still counting every line.
//
// Use: Open(); then, in a loop, WaitForRecords(), Poll(), spool the events
// durably, Commit(). The cursor (kmsg_cursor.h) moves on disk only in
// Commit(), so a crash between Poll() and Commit() re-reports those events on
// the next start and never loses one.
//
// Where it starts:
//   no state file            the oldest record in the kernel's buffer
//   state of this boot       the first record after the committed cursor
//   state of another boot    the oldest record (sequence numbers restarted)
//   damaged state file       the oldest record, like a fresh start: events of
//                            this boot already reported may be reported again,
//                            none is lost; start_note() says why.
// Records overwritten before they were read (this boot's early lines on a
// fresh start, lines written while the agent was down or faster than it read)
// are counted in lines_lost().
//
// Lines about a device that holds none of the host's data (device_relevance.h:
// QEMU's empty floppy drive at every boot) are counted per device in
// ignored(), logged once per device at info level, and not reported. A line
// naming no device is always reported.
//
// Not thread-safe: one thread owns the watcher.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "checkers/kmsg/device_relevance.h"
#include "checkers/kmsg/event_limiter.h"
#include "checkers/kmsg/kmsg_source.h"
#include "checkers/kmsg/signatures.h"

namespace fscanary::kmsg {

struct WatcherOptions {
  std::string kmsg_path = "/dev/kmsg";
  // The cursor file, e.g. /var/lib/fscanary/kmsg.cursor. Required; its
  // directory is created.
  std::string state_path;
  std::string boot_id_path = "/proc/sys/kernel/random/boot_id";
  EventLimiter::Options rate_limit;
  // Lines that processes wrote to /dev/kmsg arrive with facility user (the
  // kernel forbids them facility kernel). Only root can write there, and the
  // end-to-end tests inject lines that way, so they are matched unless this
  // is set.
  bool kernel_facility_only = false;
  // Poll() returns after this many records even if more are waiting, so a
  // storm cannot keep it from returning; caught_up() tells.
  size_t max_records_per_poll = 16384;
  // Asked, for each matching line that names a device, whether the device
  // holds the host's data; each device at most once per Poll(). Null: every
  // device does (every matching line is reported).
  std::shared_ptr<DeviceRelevance> relevance;
};

enum class StartPoint { kFresh, kResumed, kNewBoot, kDamagedState };

class KernelLogWatcher {
 public:
  // Reads the boot id and the cursor and opens options.kmsg_path. Fails when
  // the boot id or /dev/kmsg cannot be read, or the state file cannot be read
  // for another reason than damage (permissions, I/O).
  static absl::StatusOr<std::unique_ptr<KernelLogWatcher>> Open(const WatcherOptions& options);
  // The same with a given source (a fake in tests); options.kmsg_path unused.
  static absl::StatusOr<std::unique_ptr<KernelLogWatcher>> Open(const WatcherOptions& options,
                                                                std::unique_ptr<KmsgSource> source);

  // Reads every record waiting (up to max_records_per_poll) without blocking
  // and returns the events to report, in kernel order. If the source fails
  // after events were read, those events are returned and the error comes
  // from the next call.
  absl::StatusOr<std::vector<KernelEvent>> Poll();

  // Blocks until a record may be waiting or `timeout` passes (poll(2) on
  // /dev/kmsg); false on timeout.
  absl::StatusOr<bool> WaitForRecords(std::chrono::milliseconds timeout);

  // Makes durable that every record Poll() has returned so far was handled.
  // Call it only after the events are spooled. Writes nothing when the
  // position has not moved since the last Commit().
  absl::Status Commit();

  // New records read (records already handled before a restart not counted).
  uint64_t lines_read() const { return lines_read_; }
  // Lines that matched a signature: reported, withheld or ignored.
  uint64_t lines_matched() const { return lines_matched_; }
  // Matching lines not reported because their device holds none of the
  // host's data (options.relevance); per device in ignored().
  uint64_t lines_ignored() const { return lines_ignored_; }
  const std::map<std::string, uint64_t, std::less<>>& ignored() const { return ignored_; }
  // Matching lines the rate limiter withheld.
  uint64_t lines_suppressed() const { return limiter_.total_suppressed(); }
  // Records overwritten in the kernel's buffer before they could be read.
  uint64_t lines_lost() const { return lines_lost_; }
  // Records that did not parse (counted, skipped).
  uint64_t records_malformed() const { return records_malformed_; }
  // Per (signature, device) withheld counts.
  std::vector<EventLimiter::SuppressedCount> suppressed() const { return limiter_.Suppressed(); }

  // Whether the last Poll() stopped because nothing more was waiting.
  bool caught_up() const { return caught_up_; }
  StartPoint start_point() const { return start_point_; }
  // Why the watcher started where it did, for the agent's log.
  const std::string& start_note() const { return start_note_; }
  const std::string& boot_id() const { return boot_id_; }
  // The first sequence number not yet handled, and the one last made durable.
  uint64_t next_sequence() const { return next_sequence_; }
  uint64_t committed_sequence() const { return committed_sequence_; }

 private:
  KernelLogWatcher(const WatcherOptions& options, std::unique_ptr<KmsgSource> source)
      : options_(options), source_(std::move(source)), limiter_(options.rate_limit) {}
  absl::Status Start();
  // Handles one raw record; appends its event, if any, to `events`.
  void Handle(const std::string& raw, std::vector<KernelEvent>& events);
  // Whether lines about `device` are reported; counts and logs them if not.
  bool Relevant(const std::string& device);

  WatcherOptions options_;
  std::unique_ptr<KmsgSource> source_;
  EventLimiter limiter_;
  std::string boot_id_;
  StartPoint start_point_ = StartPoint::kFresh;
  std::string start_note_;
  uint64_t next_sequence_ = 0;
  uint64_t committed_sequence_ = 0;
  // Whether the state file holds this boot's committed_sequence_.
  bool state_current_ = false;
  absl::Status deferred_error_;
  bool caught_up_ = false;
  uint64_t lines_read_ = 0;
  uint64_t lines_matched_ = 0;
  uint64_t lines_lost_ = 0;
  uint64_t records_malformed_ = 0;
  uint64_t lines_ignored_ = 0;
  // Bounded by the block devices sysfs knows: a name it does not know is
  // relevant, so never a key here.
  std::map<std::string, uint64_t, std::less<>> ignored_;
  // Verdicts of the current Poll(), so a storm asks once per device.
  std::map<std::string, bool, std::less<>> verdicts_;
};

}  // namespace fscanary::kmsg
