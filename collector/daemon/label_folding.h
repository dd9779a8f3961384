#pragma once
// Bounds what agents can put into the collector's Prometheus labels. Every
// label value derived from what an agent sent (its id as `host`, the kernel,
// scheduler, driver, filesystem, ... of its facts) is checked against a
// character set and a length, and each label keeps at most a configured
// number of distinct values; the rest are folded into the value "other"
// (docs/METRICS.md, "Label values"), so no agent can grow the exposition or
// Prometheus's series without bound, or put odd bytes into a label.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "metrics/metric_family.h"

namespace fscanary::collector {

inline constexpr char kFoldedLabelValue[] = "other";

struct LabelLimits {
  // Distinct values per attribute label; the values on the most hosts keep
  // their name.
  size_t max_values = 1000;
  // Distinct `host` values; the hosts known longest keep their name.
  size_t max_hosts = 100000;
  // Longest value kept, in bytes (a kernel release is at most 64, an agent
  // id 128).
  size_t max_value_bytes = 128;
};

// 1 to `max_bytes` bytes of [A-Za-z0-9 ._:+~@/=,-]: what kernel releases,
// scheduler, driver and filesystem names, distro names, versions and agent
// ids are made of, and nothing a query, a dashboard or a terminal could
// trip on.
bool IsAcceptableLabelValue(std::string_view value, size_t max_bytes);

// Decides, per label, which values keep their name. Offer every value with
// its weight (the hosts carrying it), then Decide(): per label the `limit`
// heaviest acceptable values keep their name (ties: the value offered first),
// every other value folds into "other". Not thread-safe; used by one
// computation.
class LabelFolder {
 public:
  // `limits` applies to every label but `host`, which takes max_hosts.
  explicit LabelFolder(const LabelLimits& limits) : limits_(limits) {}

  void Offer(const std::string& label, const std::string& value, uint64_t weight = 1);
  void Decide();
  // After Decide(): `value` if it keeps its name, else "other". A value never
  // offered keeps its name only if it is acceptable and the label has room.
  std::string Fold(const std::string& label, const std::string& value) const;
  // After Decide(): per label offered, the distinct values folded into
  // "other".
  std::map<std::string, uint64_t> FoldedCounts() const;

 private:
  struct Candidate {
    uint64_t weight = 0;
    size_t order = 0;
  };
  struct Label {
    absl::flat_hash_map<std::string, Candidate> candidates;
    absl::flat_hash_map<std::string, bool> kept;
    uint64_t folded = 0;
  };
  size_t LimitOf(const std::string& label) const;

  const LabelLimits limits_;
  std::map<std::string, Label> labels_;
};

// How series that fold into the same labels are merged into one.
enum class Merge { kSum, kMin, kMax };

// Series by label set, merged as they are added; then a family's series.
class SeriesMerger {
 public:
  explicit SeriesMerger(Merge merge) : merge_(merge) {}
  void Add(metrics::Labels labels, double value);
  void AppendTo(metrics::MetricFamily& family) &&;

 private:
  const Merge merge_;
  std::map<metrics::Labels, double> series_;
};

}  // namespace fscanary::collector
