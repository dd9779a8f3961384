#pragma once
// The engine seam's fault-injecting fake (LevelDB's ErrorEnv, for io::Engine):
// wraps a real engine and fails the requests a test chooses, with an errno,
// either instead of doing them or after doing them (a write that lands, yet
// is reported failed). Not thread-safe, as any engine.

#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "io/engine.h"

namespace fscanary::testing {

class FaultEngine final : public io::Engine {
 public:
  struct Fault {
    io::IoOp op = io::IoOp::kWrite;
    // The request's offset; nullopt: any offset.
    std::optional<uint64_t> offset;
    int error_number = EIO;
    // The request is carried out before it is reported failed.
    bool lands = false;
    // Matching requests that fail before the fault is spent.
    uint32_t times = 1;
  };

  explicit FaultEngine(std::unique_ptr<io::Engine> inner) : inner_(std::move(inner)) {}

  void Add(const Fault& fault) { faults_.push_back(fault); }
  // Requests failed so far.
  uint32_t failed() const { return failed_; }

  std::string_view Name() const override { return inner_->Name(); }
  uint32_t QueueDepth() const override { return inner_->QueueDepth(); }
  std::span<std::byte> Buffer(uint32_t index) override { return inner_->Buffer(index); }

  absl::Status Submit(const io::IoRequest& request) override {
    Fault* fault = Match(request);
    if (fault == nullptr) return inner_->Submit(request);
    --fault->times;
    ++failed_;
    if (!fault->lands) {
      ready_.push_back({.tag = request.tag, .result = -fault->error_number});
      return absl::OkStatus();
    }
    failing_tags_[request.tag] = fault->error_number;
    return inner_->Submit(request);
  }

  absl::Status Reap(size_t min_completions, std::vector<io::IoCompletion>& completions) override {
    const size_t ready = ready_.size();
    completions.insert(completions.end(), ready_.begin(), ready_.end());
    ready_.clear();
    const size_t first_inner = completions.size();
    if (absl::Status reaped =
            inner_->Reap(min_completions > ready ? min_completions - ready : 0, completions);
        !reaped.ok()) {
      return reaped;
    }
    for (size_t i = first_inner; i < completions.size(); ++i) {
      auto failing = failing_tags_.find(completions[i].tag);
      if (failing == failing_tags_.end()) continue;
      completions[i].result = -failing->second;
      failing_tags_.erase(failing);
    }
    return absl::OkStatus();
  }

 private:
  Fault* Match(const io::IoRequest& request) {
    for (Fault& fault : faults_) {
      if (fault.times == 0 || fault.op != request.op) continue;
      if (fault.offset && *fault.offset != request.offset) continue;
      return &fault;
    }
    return nullptr;
  }

  std::unique_ptr<io::Engine> inner_;
  std::vector<Fault> faults_;
  std::vector<io::IoCompletion> ready_;
  std::map<uint64_t, int> failing_tags_;
  uint32_t failed_ = 0;
};

}  // namespace fscanary::testing
