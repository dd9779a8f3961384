#pragma once
// Whether this collector is the fleet's leader (store/leader_lock.h), and the
// fleet-level series exported only while it is: several collectors behind one
// Prometheus job then export each fleet-level series once, from whichever
// leads, while each exports its own ingest metrics.

#include <atomic>
#include <memory>

#include "collector/store/leader_lock.h"
#include "metrics/collectable.h"

namespace fscanary::collector {

// Thread-safe: Poll() from one thread (the maintenance loop), is_leader()
// from any (scrapes).
class Leadership {
 public:
  explicit Leadership(std::unique_ptr<store::LeaderLock> lock) : lock_(std::move(lock)) {}

  // Polls the lock; logs when leadership is taken or lost, and why a poll
  // failed (once until it succeeds again). Returns whether this collector
  // leads now.
  bool Poll();
  bool is_leader() const { return leader_.load(); }

 private:
  std::unique_ptr<store::LeaderLock> lock_;
  std::atomic<bool> leader_{false};
  bool failing_ = false;
};

// `fleet`'s families while `leadership` leads, none otherwise; and always
// fscanary_collector_leader (0 or 1). Both must outlive it.
class LeaderOnly final : public metrics::Collectable {
 public:
  LeaderOnly(const Leadership& leadership, std::shared_ptr<const metrics::Collectable> fleet)
      : leadership_(leadership), fleet_(std::move(fleet)) {}
  std::vector<metrics::MetricFamily> Collect() const override;

 private:
  const Leadership& leadership_;
  const std::shared_ptr<const metrics::Collectable> fleet_;
};

}  // namespace fscanary::collector
