#pragma once
// The "concurrent fsync" pressure of a page-cache write round: a second thread
// that syncs the file the round is writing, alternating fdatasync and fsync,
// while the writes go on, so writeback, sync and new dirty pages race.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace fscanary::pagecache {

// Starts its thread on construction. The thread syncs once after each
// WriteIssued() it has not yet answered (never more often: a sync with no new
// dirty page would only add cache flushes beyond the rate limit), until
// Finish(). The descriptor must stay open until Finish() returns.
// WriteIssued() and Finish() are called from one thread (the writer).
class ConcurrentSyncer {
 public:
  ConcurrentSyncer(int fd, std::string path);
  ConcurrentSyncer(const ConcurrentSyncer&) = delete;
  ConcurrentSyncer& operator=(const ConcurrentSyncer&) = delete;
  // Finishes, if Finish() was not called.
  ~ConcurrentSyncer();

  // The writer put new data in the page cache.
  void WriteIssued();

  struct Outcome {
    uint64_t syncs = 0;
    // The first failed sync's status. A writeback error is reported once per
    // open file, to whichever sync asks first: an error seen here may be the
    // only report of a write of this round, so the round must not be made
    // durable.
    absl::Status first_error;
  };
  // Answers the outstanding writes, stops the thread, and returns what it saw.
  Outcome Finish();

 private:
  void Run();

  const int fd_;
  const std::string path_;
  std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t writes_ = 0;  // guarded by mutex_
  bool done_ = false;    // guarded by mutex_
  Outcome outcome_;      // the thread's until it is joined
  std::thread thread_;
};

}  // namespace fscanary::pagecache
