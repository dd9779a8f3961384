#pragma once
// The extension point of the metrics library: anything that can report metric
// families at scrape time (a Registry, or a collector that builds per-host
// series from its own state instead of keeping global series up to date).

#include <vector>

#include "metrics/metric_family.h"

namespace fscanary::metrics {

// Called once per scrape, from an HTTP server thread, possibly concurrently
// with the owner's own threads and with another scrape: Collect() must be
// thread-safe. It returns a snapshot; the caller owns it. Families need not be
// sorted, and two collectables may return parts of the same family: the
// serializer merges them (see text_format.h). Must not block for long: a
// scrape waits for it.
class Collectable {
 public:
  virtual ~Collectable() = default;
  virtual std::vector<MetricFamily> Collect() const = 0;
};

}  // namespace fscanary::metrics
