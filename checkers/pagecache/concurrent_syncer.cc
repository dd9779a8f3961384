#include "checkers/pagecache/concurrent_syncer.h"

#include <utility>

#include "io/posix.h"

namespace fscanary::pagecache {

ConcurrentSyncer::ConcurrentSyncer(int fd, std::string path)
    : fd_(fd), path_(std::move(path)), thread_([this] { Run(); }) {}

ConcurrentSyncer::~ConcurrentSyncer() {
  if (thread_.joinable()) Finish();
}

void ConcurrentSyncer::WriteIssued() {
  {
    std::lock_guard lock(mutex_);
    ++writes_;
  }
  changed_.notify_one();
}

ConcurrentSyncer::Outcome ConcurrentSyncer::Finish() {
  {
    std::lock_guard lock(mutex_);
    done_ = true;
  }
  changed_.notify_one();
  thread_.join();
  return std::move(outcome_);
}

void ConcurrentSyncer::Run() {
  uint64_t answered = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return writes_ != answered || done_; });
      if (writes_ == answered) return;  // done, nothing left to answer
      answered = writes_;
    }
    // Both calls: fdatasync takes the data-only path, fsync the metadata too.
    const absl::Status status =
        outcome_.syncs % 2 == 0 ? io::DataSync(fd_, path_) : io::FileSync(fd_, path_);
    ++outcome_.syncs;
    if (!status.ok() && outcome_.first_error.ok()) outcome_.first_error = status;
  }
}

}  // namespace fscanary::pagecache
