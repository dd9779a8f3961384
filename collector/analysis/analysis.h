#pragma once
// The correlation engine: which attribute values, or conjunctions of them, do
// corruptions follow across the fleet? AnalyzeFleet is pure (fleet in, result
// out): the offline CLI calls it on a JSON-lines file, the collector on the
// epochs it holds. Thread-safe for distinct calls; a Fleet may be shared.
// The model and the statistics are written up in docs/CORRELATION.md.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

enum class ExposureUnit { kBytes, kSeconds };

struct AnalysisOptions {
  ExposureUnit exposure = ExposureUnit::kBytes;
  std::optional<std::string> kind;  // count only corruptions of this kind
  int max_order = 4;                // items in a conjunction, 1 to 4
  uint64_t min_events = 2;          // a suspect holds at least this many events,
  uint64_t min_event_hosts = 2;     // from this many distinct hosts,
  uint64_t min_epochs = 3;          // on this many host epochs,
  double min_support = 0.001;       // holding this share of the exposure
  double productive_alpha = 0.01;   // "significantly higher than each part"
  double extend_alpha = 0.05;       // parts a conjunction may be built from
  size_t max_suspects = 10;
  double confidence = 0.95;
  std::string kernel_attribute = "kernel";
  std::string kernel_series_attribute = "kernel_series";  // derived when absent
  std::string kernel_range_attribute = "kernel_range";    // derived: "first..last"
};

struct AttributeValue {
  std::string attribute;
  std::string value;
  bool operator==(const AttributeValue&) const = default;
};

// A conjunction that holds exactly the suspect's events, where neither one's
// rate stands out against the other's: the fleet cannot yet tell which of
// them the corruptions follow.
struct Alternative {
  std::vector<AttributeValue> attributes;
  double exposure_share = 0;  // of the fleet's exposure
};

struct Suspect {
  // One attribute value per item of the conjunction: the name shown for the
  // item's alias group.
  std::vector<AttributeValue> attributes;
  // For each item whose alias group has more than one member: the whole group.
  std::vector<std::vector<AttributeValue>> aliases;
  // Attribute values that every epoch of the suspect also holds (blk_mq=on
  // where the suspect names scheduler=none): named attributes first, then
  // kernel config options that are elevated themselves.
  std::vector<AttributeValue> implied;
  std::vector<Alternative> indistinguishable;
  double rate_ratio = 0;
  double ci_low = 0;
  double ci_high = 0;  // +infinity when every event is in the suspect
  double p_value = 1;
  double q_value = 1;
  double parts_p_value = 1;  // the largest p-value against any of its parts
  uint64_t events = 0;
  uint64_t epochs = 0;
  uint64_t hosts = 0;
  double exposure = 0;  // in the analysed unit
  double exposure_bytes = 0;
  double exposure_share = 0;
  std::string explanation;
};

struct KernelVersionRow {
  std::string kernel;
  uint64_t events = 0;
  uint64_t epochs = 0;
  double exposure = 0;
  double exposure_bytes = 0;
  bool in_suspect = false;  // the release belongs to the top suspect's kernel item
};

// Kernel releases in version order, counted within the top suspect's other
// attributes (its "context"), and where the rate changes along them.
struct KernelVersionReport {
  std::vector<AttributeValue> context;
  std::vector<KernelVersionRow> rows;
  std::optional<std::string> first_affected;
  std::optional<std::string> last_affected;
  std::optional<std::string> last_clean;         // the onset is after this release
  std::optional<std::string> first_clean_after;  // the fix is at or before this release
  std::string statement;
};

struct AnalysisStats {
  uint64_t attribute_values = 0;  // including derived kernel series
  uint64_t items = 0;             // alias groups with enough support
  uint64_t values_in_items = 0;
  uint64_t tested = 0;    // hypotheses evaluated
  double hypotheses = 0;  // the search space the q-values account for
  uint64_t tested_per_order[5] = {0, 0, 0, 0, 0};
  uint64_t intersected_per_order[5] = {0, 0, 0, 0, 0};
  uint64_t redundant_per_order[5] = {0, 0, 0, 0, 0};
  uint64_t duplicate_per_order[5] = {0, 0, 0, 0, 0};
  uint64_t kept_per_order[5] = {0, 0, 0, 0, 0};
  uint64_t pruned_by_bound = 0;
  uint64_t left_by_beam = 0;
};

struct AnalysisResult {
  std::vector<Suspect> suspects;  // ranked by p-value
  KernelVersionReport kernel_versions;
  uint64_t hosts = 0;
  uint64_t epochs = 0;
  uint64_t events = 0;
  double exposure = 0;
  double exposure_bytes = 0;
  ExposureUnit exposure_unit = ExposureUnit::kBytes;
  AnalysisStats stats;
  std::vector<std::string> notes;  // things the reader should know, e.g. events left out
};

// InvalidArgument for options out of range; an empty fleet is not an error.
absl::StatusOr<AnalysisResult> AnalyzeFleet(const Fleet& fleet, const AnalysisOptions& options);

}  // namespace fscanary::analysis
