#pragma once
// A KmsgSource fed by the test: records, overruns and failures queued in
// order. The queue is shared, so the test keeps feeding after the watcher took
// the source.

#include <deque>
#include <memory>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "checkers/kmsg/kmsg_source.h"

namespace fscanary::kmsg {

// A raw /dev/kmsg record: facility kernel, level `level`, timestamp
// `sequence` milliseconds unless given.
inline std::string RawRecord(uint64_t sequence, const std::string& message, int level = 3,
                             std::optional<uint64_t> timestamp_usec = std::nullopt) {
  return absl::StrCat(level, ",", sequence, ",", timestamp_usec.value_or(sequence * 1000), ",-;",
                      message, "\n");
}

class FakeKmsgQueue {
 public:
  void Push(std::string record) { items_.emplace_back(std::move(record)); }
  void PushOverrun() { items_.emplace_back(ReadOutcome::kOverrun); }
  void PushFailure(absl::Status status) { items_.emplace_back(std::move(status)); }
  bool empty() const { return items_.empty(); }

  absl::StatusOr<KmsgRead> Next() {
    if (items_.empty()) return KmsgRead{.outcome = ReadOutcome::kCaughtUp};
    auto item = std::move(items_.front());
    items_.pop_front();
    if (auto* record = std::get_if<std::string>(&item)) {
      return KmsgRead{.outcome = ReadOutcome::kRecord, .record = std::move(*record)};
    }
    if (auto* status = std::get_if<absl::Status>(&item)) return *status;
    return KmsgRead{.outcome = ReadOutcome::kOverrun};
  }

 private:
  std::deque<std::variant<std::string, ReadOutcome, absl::Status>> items_;
};

class FakeKmsgSource final : public KmsgSource {
 public:
  explicit FakeKmsgSource(std::shared_ptr<FakeKmsgQueue> queue) : queue_(std::move(queue)) {}
  absl::StatusOr<KmsgRead> Next() override { return queue_->Next(); }
  absl::StatusOr<bool> Wait(std::chrono::milliseconds) override { return !queue_->empty(); }

 private:
  std::shared_ptr<FakeKmsgQueue> queue_;
};

}  // namespace fscanary::kmsg
