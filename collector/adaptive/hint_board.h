#pragma once
// The verification boosts in force, agent by agent (docs/CORRELATION.md,
// "Adaptive verification"), and what each agent stream still has to tell its
// agent: the decider publishes, every ingest stream asks for its agent's
// pending Hint before it writes acknowledgements.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "fscanary/v1/ingest.pb.h"

namespace fscanary::adaptive {

// Thread-safe.
class HintBoard {
 public:
  // A boost in force is sent again every `renew_interval`, so that the agent
  // (whose boost lapses on its own when not renewed) keeps it.
  explicit HintBoard(std::chrono::nanoseconds renew_interval) : renew_interval_(renew_interval) {}

  // Replaces the boosts in force: agent id -> factor; a factor of 1 or less,
  // or an agent left out, is no boost. The version moves when any agent's
  // boost changed.
  void Publish(const std::map<std::string, double>& boosts);
  // 1 for an agent without a boost.
  double BoostOf(const std::string& agent_id) const;
  // Agents boosted now.
  size_t boosts_in_force() const;
  uint64_t version() const { return version_.load(); }

 private:
  friend class HintStream;
  const std::chrono::nanoseconds renew_interval_;
  mutable std::mutex mutex_;
  std::map<std::string, double> boosts_;  // only factors > 1
  std::atomic<uint64_t> version_{0};
};

// What one ingest stream told its agent. Used by the stream's writer only
// (not thread-safe); `board` may be null (adaptive verification off: nothing
// is ever pending) and must outlive the stream.
class HintStream {
 public:
  HintStream(const HintBoard* board, std::string agent_id)
      : board_(board), agent_id_(std::move(agent_id)) {}

  // The Hint to send now, if any: at the stream's first turn (the agent may
  // still hold a boost from an earlier collector), when its agent's boost
  // changed since the stream last sent one, and every renew_interval while it
  // is boosted. `now` is a monotonic time.
  std::optional<v1::CollectorMessage> Pending(std::chrono::steady_clock::time_point now);
  std::optional<v1::CollectorMessage> Pending() {
    return Pending(std::chrono::steady_clock::now());
  }

 private:
  const HintBoard* board_;
  const std::string agent_id_;
  std::optional<double> sent_;  // what the agent was last told
  std::chrono::steady_clock::time_point sent_at_;
  uint64_t seen_version_ = 0;
};

}  // namespace fscanary::adaptive
