#include "collector/analysis/planner.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "collector/analysis/explain.h"
#include "collector/analysis/kernel_version.h"
#include "collector/analysis/statistics.h"

namespace fscanary::analysis {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kSecondsPerDay = 86400;
constexpr size_t kMaxHostCounts = 200;  // host counts tried per kind of change

bool IsConfigName(const std::string& name) { return name.rfind("CONFIG_", 0) == 0; }

// How disruptive changing an attribute is, cheapest first: a scheduler is a
// write to sysfs; mount options and the write cache a remount or a setting;
// blk-mq and the kernel a reboot; the driver a different disk.
int CostOf(const std::string& attribute, const std::string& kernel_attribute) {
  if (attribute == "scheduler") return 0;
  if (attribute == "mount_options" || attribute == "mount_discard" || attribute == "write_cache" ||
      attribute == "merges") {
    return 1;
  }
  if (attribute == kernel_attribute) return 3;
  if (attribute == "driver") return 4;
  return 2;
}

// P(at least k events in `future_bytes` more exposure), the rate known only
// from `events` in `history_bytes`: the rate's posterior under Jeffreys'
// prior is Gamma(events + 1/2, history_bytes), and the count it predicts is
// negative binomial, P(N >= k) = I_{1-p}(k, events + 1/2) with
// p = history / (history + future). Wider than a Poisson at the point
// estimate: a lucky or unlucky start does not make the forecast overconfident.
double PredictiveAtLeast(double k, double future_bytes, uint64_t events, double history_bytes) {
  if (k <= 0) return 1;
  if (future_bytes <= 0) return 0;
  const double p = history_bytes / (history_bytes + future_bytes);
  return RegularizedIncompleteBeta(std::ceil(k), static_cast<double>(events) + 0.5, 1 - p);
}

// The smallest day in [0, max_days] where `passes` (monotone in days) holds
// with probability >= power; +infinity when none.
double FirstDay(const std::function<double(double)>& probability, double power, double max_days) {
  if (probability(max_days) < power) return kInfinity;
  double low = 0;
  double high = max_days;
  for (int i = 0; i < 60 && high - low > 1e-3; ++i) {
    const double middle = 0.5 * (low + high);
    (probability(middle) >= power ? high : low) = middle;
  }
  return high;
}

std::string Days(double days) {
  if (std::isinf(days)) return "more than the forecast horizon";
  return absl::StrFormat("%.3g days", days);
}

struct Observed {
  uint64_t hosts = 0;        // carrying the suspect now
  double rate = 0;           // events per host-day
  double bytes_per_day = 0;  // per host
  double history_bytes = 0;  // the suspect's exposure
  uint64_t history_events = 0;
  double current_bytes = 0;  // the carrying hosts' current epochs
  uint64_t current_events = 0;
  std::vector<uint32_t> current;  // their current epochs
};

struct Context {
  const EpochValues& values;
  const AnalysisResult& analysis;
  const Suspect& suspect;
  const PlanOptions& options;
  const Observed& observed;
  double log_alpha_narrower = 0;
};

// The value of the change attribute that the changed hosts move to: the one
// most epochs hold, other than `from`; for the kernel, of another series when
// a series is among the members that must move.
std::optional<std::string> Target(const Context& context, const std::string& attribute,
                                  const std::string& from, bool other_series) {
  const Fleet& fleet = context.values.fleet();
  const std::optional<AttributeId> id = fleet.FindAttribute(attribute);
  if (!id.has_value()) return std::nullopt;
  const std::optional<KernelVersion> from_version = ParseKernelVersion(from);
  std::optional<std::string> best;
  size_t best_count = 0;
  for (const ValueId v : fleet.attribute_values(*id)) {
    const std::string& text = fleet.value_text(v);
    if (text == from) continue;
    if (other_series && from_version.has_value()) {
      const std::optional<KernelVersion> version = ParseKernelVersion(text);
      if (version.has_value() && version->Series() == from_version->Series()) continue;
    }
    if (fleet.posting(v).count() > best_count) {
      best_count = fleet.posting(v).count();
      best = text;
    }
  }
  return best;
}

// Days until the engine names the right member alone, whichever it is, when
// `changed` of the carrying hosts change.
void Forecast(const Context& context, uint64_t changed, SplitProposal& proposal) {
  const Observed& o = context.observed;
  const double h = static_cast<double>(o.hosts);
  const double k = static_cast<double>(changed);
  const double b = o.bytes_per_day;
  const double power = context.options.power;
  // The cause among the members that move: events only on unchanged hosts,
  // until their share s of the suspect's exposure satisfies s^events <= alpha / items.
  const auto moving = [&](double d) {
    const double share = (o.history_bytes + (h - k) * b * d) / (o.history_bytes + h * b * d);
    if (share >= 1) return 0.0;
    const double needed = context.log_alpha_narrower / std::log(share);
    return PredictiveAtLeast(needed - static_cast<double>(o.history_events), (h - k) * b * d,
                             o.history_events, o.history_bytes);
  };
  // The cause among the members that stay: one event on a changed host.
  const auto staying = [&](double d) {
    return PredictiveAtLeast(1, k * b * d, o.history_events, o.history_bytes);
  };
  proposal.days_if_moving_cause = FirstDay(moving, power, context.options.max_days);
  proposal.days_if_staying_cause = FirstDay(staying, power, context.options.max_days);
  proposal.days = std::max(proposal.days_if_moving_cause, proposal.days_if_staying_cause);
  proposal.expected_events = std::isinf(proposal.days) ? kInfinity : o.rate * h * proposal.days;
  proposal.hosts_to_change = changed;
  proposal.within = proposal.days <= context.options.within_days;
}

std::vector<uint64_t> HostCounts(uint64_t hosts) {
  std::vector<uint64_t> counts;
  if (hosts <= kMaxHostCounts) {
    for (uint64_t k = 1; k <= hosts; ++k) counts.push_back(k);
    return counts;
  }
  for (size_t i = 1; i <= kMaxHostCounts; ++i) counts.push_back(hosts * i / kMaxHostCounts);
  return counts;
}

std::string Names(const std::vector<AttributeValue>& values) {
  std::vector<std::string> names;
  for (const AttributeValue& v : values) names.push_back(absl::StrCat(v.attribute, "=", v.value));
  return absl::StrJoin(names, ", ");
}

std::string SplitStatement(const SplitProposal& p, const PlanOptions& options) {
  const std::string verb = p.attribute == options.kernel_attribute ? "Move" : "Switch";
  std::string text = absl::StrCat(verb, " ", p.attribute, " from ", p.from, " to ", p.to, " on ",
                                  p.hosts_to_change, " of the ", p.hosts_carrying,
                                  " hosts carrying the suspect: it separates ", Names(p.moving),
                                  " from ", Names(p.staying), ". ");
  absl::StrAppend(&text, "With ", absl::StrFormat("%.0f%%", options.power * 100),
                  " probability the engine names the cause alone within ", Days(p.days), " (",
                  Days(p.days_if_staying_cause), " if it is ", Names(p.staying),
                  ": one event on a changed host; ", Days(p.days_if_moving_cause), " if it is ",
                  Names(p.moving), ": enough events on the unchanged hosts alone)");
  if (!std::isinf(p.expected_events)) {
    absl::StrAppend(&text, ", about ", absl::StrFormat("%.3g", p.expected_events),
                    " new events at the observed rate");
  }
  absl::StrAppend(&text, ".");
  if (!p.within) {
    absl::StrAppend(&text, " No number of hosts separates them within ",
                    absl::StrFormat("%.3g", options.within_days), " days; this is the fastest.");
  }
  return text;
}

// Proposals for one alias group of the suspect.
void SplitGroup(const Context& context, const std::vector<AttributeValue>& group,
                std::vector<SplitProposal>& proposals) {
  const std::string& kernel = context.options.kernel_attribute;
  const auto kernel_bound = [&](const AttributeValue& member) {
    return member.attribute == kernel || IsConfigName(member.attribute) ||
           context.values.IsKernelDerived(member.attribute);
  };
  std::vector<std::string> attributes;
  for (const AttributeValue& member : group) {
    const std::string attribute = kernel_bound(member) ? kernel : member.attribute;
    if (std::find(attributes.begin(), attributes.end(), attribute) == attributes.end()) {
      attributes.push_back(attribute);
    }
  }
  for (const std::string& attribute : attributes) {
    SplitProposal proposal{.attribute = attribute, .hosts_carrying = context.observed.hosts};
    bool series_moves = false;
    for (const AttributeValue& member : group) {
      const bool moves = attribute == kernel ? kernel_bound(member) : member.attribute == attribute;
      (moves ? proposal.moving : proposal.staying).push_back(member);
      series_moves = series_moves || (moves && context.values.IsKernelDerived(member.attribute));
    }
    if (proposal.moving.empty() || proposal.staying.empty()) continue;
    // The value the carrying hosts have now (the most common, for the kernel).
    absl::flat_hash_map<std::string, uint64_t> now;
    for (const uint32_t e : context.observed.current) {
      if (const auto text = context.values.Text(e, attribute); text.has_value()) ++now[*text];
    }
    if (now.empty()) continue;
    proposal.from = std::max_element(now.begin(), now.end(), [](const auto& a, const auto& b) {
                      return a.second < b.second;
                    })->first;
    const std::optional<std::string> to = Target(context, attribute, proposal.from, series_moves);
    if (!to.has_value()) continue;
    proposal.to = *to;
    SplitProposal best = proposal;
    best.days = kInfinity;
    for (const uint64_t k : HostCounts(context.observed.hosts)) {
      SplitProposal trial = proposal;
      Forecast(context, k, trial);
      if (trial.within) {
        best = trial;
        break;
      }
      if (trial.days < best.days) best = trial;
    }
    if (best.hosts_to_change == 0) continue;
    best.statement = SplitStatement(best, context.options);
    proposals.push_back(std::move(best));
  }
}

FixForecast ForecastFix(const Context& context, uint64_t changed) {
  const Observed& o = context.observed;
  const FixOptions& fix = context.options.fix;
  const double h = static_cast<double>(o.hosts);
  const double n = static_cast<double>(changed);
  const double b = o.bytes_per_day;
  const double log_alpha = std::log(1 - fix.confidence);
  // A fix that removes the cause: no events after it on the changed hosts;
  // the reference (their epochs before, the unchanged carrying hosts) goes on.
  const auto reference_mean = [&](double d) { return o.rate * (h - n) * d; };
  const auto probability = [&](double d) {
    const double after = fix.fixed_ratio * n * b * d;
    const double share = after / (after + o.current_bytes + (h - n) * b * d);
    if (share <= 0) return 0.0;
    if (share >= 1) return 1.0;
    const double needed = log_alpha / std::log1p(-share);
    return PredictiveAtLeast(needed - static_cast<double>(o.current_events), (h - n) * b * d,
                             o.history_events, o.history_bytes);
  };
  FixForecast forecast{.hosts = changed};
  forecast.days = FirstDay(probability, context.options.power, context.options.max_days);
  forecast.expected_reference_events =
      std::isinf(forecast.days)
          ? kInfinity
          : static_cast<double>(o.current_events) + reference_mean(forecast.days);
  forecast.statement = absl::StrCat(
      "A change that removes the cause on ", changed, " of the ", o.hosts,
      " hosts carrying the suspect shows as fixed (rate below ", FormatRatio(fix.fixed_ratio),
      " of the reference at ", absl::StrFormat("%.0f%%", fix.confidence * 100),
      " confidence) within ", Days(forecast.days), " with ",
      absl::StrFormat("%.0f%%", context.options.power * 100), " probability");
  if (!std::isinf(forecast.days)) {
    absl::StrAppend(&forecast.statement, ", by when the reference holds about ",
                    absl::StrFormat("%.3g", forecast.expected_reference_events), " events");
  }
  absl::StrAppend(&forecast.statement, ".");
  return forecast;
}

}  // namespace

absl::StatusOr<Plan> PlanExperiments(const EpochValues& values, const AnalysisResult& analysis,
                                     size_t suspect_index, const PlanOptions& options) {
  if (suspect_index >= analysis.suspects.size()) {
    return absl::NotFoundError(absl::StrCat("no suspect #", suspect_index + 1,
                                            ": the analysis has ", analysis.suspects.size()));
  }
  const Suspect& suspect = analysis.suspects[suspect_index];
  const Fleet& fleet = values.fleet();
  Plan plan{.suspect = suspect.attributes};

  Observed observed{.history_bytes = suspect.exposure_bytes, .history_events = suspect.events};
  double bytes = 0;
  double seconds = 0;
  for (const std::vector<uint32_t>& epochs : values.HostEpochs()) {
    if (epochs.empty() || !values.HoldsAll(epochs.back(), suspect.attributes)) continue;
    const uint32_t e = epochs.back();
    ++observed.hosts;
    observed.current.push_back(e);
    observed.current_bytes += fleet.exposure_bytes()[e];
    observed.current_events += values.Events(e);
    bytes += fleet.exposure_bytes()[e];
    seconds += fleet.exposure_seconds()[e];
  }
  plan.hosts_carrying = observed.hosts;
  if (observed.hosts == 0) {
    plan.notes.push_back("No host carries the suspect now: there is nothing to change.");
    return plan;
  }
  if (seconds <= 0 || bytes <= 0 || suspect.exposure_bytes <= 0) {
    plan.notes.push_back(
        "The epochs carry no observed time (exposure_seconds): no rate per day to forecast with.");
    return plan;
  }
  observed.bytes_per_day = bytes / seconds * kSecondsPerDay;
  observed.rate =
      static_cast<double>(suspect.events) / suspect.exposure_bytes * observed.bytes_per_day;
  plan.events_per_host_day = observed.rate;
  plan.bytes_per_host_day = observed.bytes_per_day;

  const Context context{.values = values,
                        .analysis = analysis,
                        .suspect = suspect,
                        .options = options,
                        .observed = observed,
                        // A split makes one alias group two items.
                        .log_alpha_narrower = std::log(
                            options.alpha / static_cast<double>(analysis.stats.items + 1))};
  for (const std::vector<AttributeValue>& group : suspect.aliases) {
    SplitGroup(context, group, plan.splits);
  }
  std::stable_sort(plan.splits.begin(), plan.splits.end(),
                   [&](const SplitProposal& a, const SplitProposal& b) {
                     if (a.within != b.within) return a.within;
                     const int ca = CostOf(a.attribute, options.kernel_attribute);
                     const int cb = CostOf(b.attribute, options.kernel_attribute);
                     if (ca != cb) return ca < cb;
                     if (a.within) return a.hosts_to_change < b.hosts_to_change;
                     return a.days < b.days;
                   });
  if (suspect.aliases.empty()) {
    plan.notes.push_back("The suspect has no aliases: no split is needed.");
  }
  if (!suspect.indistinguishable.empty()) {
    plan.notes.push_back(
        "The suspect has indistinguishable alternatives; the planner splits alias groups only, "
        "so it proposes nothing for them: more events, or hosts that hold one without the "
        "other, would tell them apart.");
  }

  std::vector<uint64_t> counts;
  if (options.fix_hosts.has_value()) {
    counts.push_back(std::min(*options.fix_hosts, observed.hosts));
  } else {
    for (const uint64_t quarter : {1, 2, 3, 4}) {
      const uint64_t n = std::max<uint64_t>(1, (observed.hosts * quarter + 3) / 4);
      if (counts.empty() || counts.back() != n) counts.push_back(n);
    }
  }
  for (const uint64_t n : counts) {
    if (n > 0) plan.fix.push_back(ForecastFix(context, n));
  }
  return plan;
}

}  // namespace fscanary::analysis
