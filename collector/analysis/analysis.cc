#include "collector/analysis/analysis.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "collector/analysis/conjunctions.h"
#include "collector/analysis/epoch_bitset.h"
#include "collector/analysis/event_index.h"
#include "collector/analysis/explain.h"
#include "collector/analysis/items.h"
#include "collector/analysis/kernel_range.h"
#include "collector/analysis/q_values.h"
#include "collector/analysis/statistics.h"
#include "collector/analysis/suspects.h"

namespace fscanary::analysis {
namespace {

constexpr double kSignificance = 0.05;  // q below this is called significant
constexpr double kImpliedAlpha = 0.05;  // implied config options shown are elevated at this level

absl::Status Validate(const AnalysisOptions& options) {
  if (options.max_order < 1 || options.max_order > kMaxOrder) {
    return absl::InvalidArgumentError(absl::StrCat("max order must be 1 to ", kMaxOrder));
  }
  const auto probability = [](double x) { return x > 0 && x < 1; };
  if (!probability(options.productive_alpha) || !probability(options.extend_alpha)) {
    return absl::InvalidArgumentError("significance levels must be between 0 and 1");
  }
  if (!probability(options.confidence)) {
    return absl::InvalidArgumentError("confidence must be between 0 and 1");
  }
  if (!(options.min_support >= 0 && options.min_support < 1)) {
    return absl::InvalidArgumentError("minimum support must be a share of exposure in [0, 1)");
  }
  if (options.min_events < 1) return absl::InvalidArgumentError("minimum events must be >= 1");
  if (options.max_suspects < 1) return absl::InvalidArgumentError("max suspects must be >= 1");
  return absl::OkStatus();
}

AttributeValue Representative(const Item& item) {
  return {item.members.front().attribute, item.members.front().value};
}

bool IsConfig(const Item& item) { return item.members.front().attribute.rfind("CONFIG_", 0) == 0; }

// A conjunction's items, kernel first, then by attribute name: the order
// people read them in.
std::vector<const Item*> ReadingOrder(const Conjunction& conjunction, const ItemTable& table) {
  std::vector<const Item*> ordered;
  for (int m = 0; m < conjunction.size; ++m) {
    ordered.push_back(table.items[conjunction.items[m]].get());
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const Item* a, const Item* b) {
    if (a->kernel != b->kernel) return a->kernel;
    return a->members.front().attribute < b->members.front().attribute;
  });
  return ordered;
}

std::vector<AttributeValue> Labels(const Conjunction& conjunction, const ItemTable& table) {
  std::vector<AttributeValue> labels;
  for (const Item* item : ReadingOrder(conjunction, table)) labels.push_back(Representative(*item));
  return labels;
}

// What AnalyzeFleet has worked out, for describing suspects.
struct Context {
  const Fleet& fleet;
  const AnalysisOptions& options;
  const ItemTable& table;
  const EpochWeights& weights;
  const EpochWeights& byte_weights;
  const EventIndex& events;
  const QValues& q_values;
  std::vector<double> single_log_p;  // per item
};

// Values every epoch of the suspect holds: every named attribute; of the
// kernel config options, which follow the kernel build by the hundred, only
// those elevated themselves. Named attributes first, then by strength.
std::vector<AttributeValue> Implied(const Conjunction& conjunction, BitsetView bits,
                                    const Context& context) {
  const auto& items = context.table.items;
  const double log_alpha = std::log(kImpliedAlpha);
  std::vector<std::pair<double, uint32_t>> implied;
  for (uint32_t i = 0; i < items.size(); ++i) {
    const Item& item = *items[i];
    if (item.epochs <= conjunction.epochs) continue;
    if (IsConfig(item) && context.single_log_p[i] > log_alpha) continue;
    if (IntersectCount(bits, item.bits, context.weights.summary_words()) == conjunction.epochs) {
      implied.push_back({context.single_log_p[i], i});
    }
  }
  std::sort(implied.begin(), implied.end(), [&](const auto& a, const auto& b) {
    const bool a_config = IsConfig(*items[a.second]);
    if (a_config != IsConfig(*items[b.second])) return !a_config;
    return a < b;
  });
  std::vector<AttributeValue> values;
  for (const auto& [log_p, i] : implied) values.push_back(Representative(*items[i]));
  return values;
}

Suspect Describe(const SelectedSuspect& chosen, const Context& context) {
  const Conjunction& conjunction = chosen.conjunction;
  const BitsetView bits = chosen.bits.view();
  const double total_exposure = context.weights.total();
  Suspect suspect;
  for (const Item* item : ReadingOrder(conjunction, context.table)) {
    suspect.attributes.push_back(Representative(*item));
    if (item->members.size() > 1) {
      std::vector<AttributeValue> group;
      for (const ValueLabel& member : item->members) {
        group.push_back({member.attribute, member.value});
      }
      suspect.aliases.push_back(std::move(group));
    }
  }
  suspect.implied = Implied(conjunction, bits, context);
  for (const Conjunction& alternative : chosen.indistinguishable) {
    suspect.indistinguishable.push_back(
        {Labels(alternative, context.table), alternative.exposure / total_exposure});
  }
  const uint64_t total_events = context.events.total();
  const RateComparison rates =
      CompareRates(conjunction.events, conjunction.exposure, total_events - conjunction.events,
                   total_exposure - conjunction.exposure, context.options.confidence);
  suspect.rate_ratio = rates.rate_ratio;
  suspect.ci_low = rates.ci_low;
  suspect.ci_high = rates.ci_high;
  suspect.p_value = std::exp(conjunction.log_p);
  suspect.q_value = context.q_values.Of(conjunction.log_p, conjunction.size);
  suspect.parts_p_value = std::exp(conjunction.log_parts_p);
  suspect.events = conjunction.events;
  suspect.epochs = conjunction.epochs;
  suspect.exposure = conjunction.exposure;
  suspect.exposure_share = conjunction.exposure / total_exposure;
  suspect.exposure_bytes = Measure(bits, context.byte_weights).exposure;
  std::vector<uint8_t> seen(context.fleet.host_count(), 0);
  ForEachEpoch(bits, context.weights.summary_words(), [&](uint32_t e) {
    const uint32_t host = context.fleet.epoch_host(e);
    suspect.hosts += seen[host] == 0;
    seen[host] = 1;
  });
  suspect.explanation =
      ExplainSuspect(suspect, total_events, context.options.confidence, kSignificance);
  return suspect;
}

// The kernel report follows the top suspect: its kernel item (if any) says
// which releases are "in", its other items where to count.
KernelVersionReport KernelReport(const SelectedSuspect* top, const Context& context) {
  KernelRangeInput range{.fleet = &context.fleet,
                         .weights = &context.weights,
                         .byte_weights = &context.byte_weights,
                         .events = &context.events,
                         .kernel_attribute = context.options.kernel_attribute,
                         .confidence = context.options.confidence};
  EpochBitset where(context.weights);
  bool narrowed = false;
  if (top != nullptr) {
    for (const Item* item : ReadingOrder(top->conjunction, context.table)) {
      if (item->kernel && !range.kernel_item.has_value()) {
        range.kernel_item = item->bits;
        continue;
      }
      range.context_labels.push_back(Representative(*item));
      Intersect(narrowed ? where.view() : item->bits, item->bits, where, context.weights);
      narrowed = true;
    }
  }
  if (narrowed) range.context = where.view();
  return ReportKernelVersions(range);
}

}  // namespace

absl::StatusOr<AnalysisResult> AnalyzeFleet(const Fleet& fleet, const AnalysisOptions& options) {
  if (absl::Status status = Validate(options); !status.ok()) return status;
  AnalysisResult result;
  result.hosts = fleet.host_count();
  result.epochs = fleet.epoch_count();
  result.exposure_unit = options.exposure;

  std::optional<KindId> kind;
  bool unknown_kind = false;
  if (options.kind.has_value()) {
    kind = fleet.FindKind(*options.kind);
    unknown_kind = !kind.has_value();
    if (unknown_kind) {
      result.notes.push_back(
          absl::StrCat("No corruptions of kind \"", *options.kind, "\" in the fleet."));
    }
    if (const std::optional<KindId> unnamed = fleet.FindKind(""); unnamed.has_value()) {
      uint64_t left_out = 0;
      for (const CorruptionCount& c : fleet.corruptions()) {
        if (c.kind == *unnamed) left_out += c.count;
      }
      if (left_out > 0) {
        result.notes.push_back(absl::StrCat(left_out,
                                            " corruptions were reported without a kind and are "
                                            "left out by the kind filter."));
      }
    }
  }
  // An unknown kind selects nothing: use an id no corruption has.
  const EventIndex events(fleet, unknown_kind ? std::optional<KindId>(fleet.kind_count()) : kind);
  const EpochWeights weights(options.exposure == ExposureUnit::kBytes ? fleet.exposure_bytes()
                                                                      : fleet.exposure_seconds());
  std::optional<EpochWeights> seconds_to_bytes;
  if (options.exposure != ExposureUnit::kBytes) seconds_to_bytes.emplace(fleet.exposure_bytes());
  const EpochWeights& byte_weights = seconds_to_bytes.has_value() ? *seconds_to_bytes : weights;
  result.events = events.total();
  result.exposure = weights.total();
  result.exposure_bytes = byte_weights.total();
  if (fleet.epoch_count() == 0) {
    result.notes.push_back("The fleet has no host epochs.");
    return result;
  }
  if (weights.total() <= 0) {
    result.notes.push_back("The fleet has no exposure: nothing was verified.");
    return result;
  }

  const ItemTable table = BuildItems(fleet, weights, events,
                                     {.min_epochs = options.min_epochs,
                                      .min_support = options.min_support,
                                      .kernel_attribute = options.kernel_attribute,
                                      .kernel_series_attribute = options.kernel_series_attribute,
                                      .kernel_range_attribute = options.kernel_range_attribute});
  const MiningResult mining =
      MineConjunctions(table, weights, events,
                       {.max_order = options.max_order,
                        .min_events = options.min_events,
                        .min_event_hosts = options.min_event_hosts,
                        .min_epochs = options.min_epochs,
                        .min_support = options.min_support,
                        .productive_alpha = options.productive_alpha,
                        .extend_alpha = options.extend_alpha,
                        .keep = std::max<size_t>(128, 8 * options.max_suspects),
                        .keep_plain = std::max<size_t>(64, 4 * options.max_suspects)});
  const QValues q_values(mining.tested_log_p, mining.tested_order, table.items.size(),
                         options.max_order);

  result.stats.attribute_values = table.values_seen;
  result.stats.items = table.items.size();
  result.stats.values_in_items = table.values_in_items;
  result.stats.tested = mining.tested_log_p.size();
  result.stats.hypotheses = q_values.hypotheses();
  for (int order = 1; order <= kMaxOrder; ++order) {
    result.stats.tested_per_order[order] = mining.tested_per_order[order];
    result.stats.intersected_per_order[order] = mining.intersected_per_order[order];
    result.stats.redundant_per_order[order] = mining.redundant_per_order[order];
    result.stats.duplicate_per_order[order] = mining.duplicate_per_order[order];
    result.stats.kept_per_order[order] = mining.kept_per_order[order];
  }
  result.stats.pruned_by_bound = mining.pruned_by_bound;
  result.stats.left_by_beam = mining.left_by_beam;

  const std::vector<SelectedSuspect> selected =
      SelectSuspects(mining.candidates, {.fleet = &fleet,
                                         .table = &table,
                                         .weights = &weights,
                                         .events = &events,
                                         .alpha = options.productive_alpha,
                                         .max_suspects = options.max_suspects});
  Context context{.fleet = fleet,
                  .options = options,
                  .table = table,
                  .weights = weights,
                  .byte_weights = byte_weights,
                  .events = events,
                  .q_values = q_values};
  for (const auto& item : table.items) {
    context.single_log_p.push_back(
        LogBinomialUpperTail(events.total(), item->events, item->exposure / weights.total()));
  }
  for (const SelectedSuspect& chosen : selected) {
    result.suspects.push_back(Describe(chosen, context));
  }
  result.kernel_versions = KernelReport(selected.empty() ? nullptr : &selected.front(), context);
  if (!selected.empty() && result.kernel_versions.first_affected.has_value() &&
      std::any_of(selected.front().conjunction.items.begin(),
                  selected.front().conjunction.items.begin() + selected.front().conjunction.size,
                  [&](uint32_t i) { return table.items[i]->kernel; })) {
    absl::StrAppend(&result.suspects.front().explanation, " ", result.kernel_versions.statement);
  }
  return result;
}

}  // namespace fscanary::analysis
