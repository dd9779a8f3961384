#include "collector/analysis/fix_confirmation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "collector/analysis/explain.h"
#include "collector/analysis/q_values.h"
#include "collector/analysis/statistics.h"

namespace fscanary::analysis {
namespace {

bool IsConfigName(const std::string& name) { return name.rfind("CONFIG_", 0) == 0; }

// What changed between two epochs of one host: named attributes, and how many
// kernel config options (which change by the hundred with a kernel).
struct Diff {
  std::vector<AttributeChange> named;
  std::vector<AttributeChange> config;
};

Diff Compare(const EpochValues& values, uint32_t before, uint32_t after) {
  const Fleet& fleet = values.fleet();
  const std::span<const ValueId> a = values.Row(before);
  const std::span<const ValueId> b = values.Row(after);
  Diff diff;
  const auto add = [&](AttributeId attribute, const std::string& from, const std::string& to) {
    const std::string& name = fleet.attribute_name(attribute);
    (IsConfigName(name) ? diff.config : diff.named).push_back({name, from, to});
  };
  size_t i = 0, j = 0;
  static const std::string kUnset;
  while (i < a.size() || j < b.size()) {
    const AttributeId x = i < a.size() ? fleet.value_attribute(a[i]) : ~AttributeId{0};
    const AttributeId y = j < b.size() ? fleet.value_attribute(b[j]) : ~AttributeId{0};
    if (x == y) {
      if (a[i] != b[j]) add(x, fleet.value_text(a[i]), fleet.value_text(b[j]));
      ++i;
      ++j;
    } else if (x < y) {
      add(x, fleet.value_text(a[i++]), kUnset);
    } else {
      add(y, kUnset, fleet.value_text(b[j++]));
    }
  }
  return diff;
}

std::string Key(const std::vector<AttributeChange>& changes) {
  std::string key;
  for (const AttributeChange& c : changes)
    absl::StrAppend(&key, c.attribute, "\x1f", c.from, "\x1f", c.to, "\x1e");
  return key;
}

struct Transition {
  uint32_t host = 0;
  size_t index = 0;  // into the host's time-ordered epochs: the first epoch after the change
};

struct Group {
  std::vector<AttributeChange> changes;
  uint64_t config_changes = 0;
  std::vector<Transition> transitions;
};

bool HoldsTo(const EpochValues& values, uint32_t epoch,
             const std::vector<AttributeChange>& changes) {
  for (const AttributeChange& c : changes) {
    const std::optional<std::string> text = values.Text(epoch, c.attribute);
    if (c.to.empty() ? text.has_value() : text != c.to) return false;
  }
  return true;
}

std::string DescribeChanges(const ChangeReport& report) {
  std::vector<std::string> parts;
  for (const AttributeChange& c : report.changes) {
    parts.push_back(absl::StrCat(c.attribute, " ", c.from.empty() ? "(unset)" : c.from, " → ",
                                 c.to.empty() ? "(unset)" : c.to));
  }
  std::string text = absl::StrJoin(parts, ", ");
  if (report.config_changes > 0) {
    absl::StrAppend(&text, " (with ", report.config_changes, " kernel config option",
                    report.config_changes == 1 ? "" : "s", ")");
  }
  return text;
}

std::string Statement(const ChangeReport& r, const FixOptions& options) {
  const std::string confidence = absl::StrFormat("%.0f%%", options.confidence * 100);
  std::string text = absl::StrCat(
      DescribeChanges(r), " on ", r.hosts, r.hosts == 1 ? " host" : " hosts", ": ", r.events_after,
      " events after the change against ", r.events_before + r.events_control,
      " in the reference (", r.events_before, " on these hosts just before it, ", r.events_control,
      " on ", r.control_hosts, " unchanged hosts like them); rate ratio after/reference ",
      FormatRatio(r.rate_ratio), " (", confidence, " CI ", FormatRatio(r.ci_low), "–",
      FormatRatio(r.ci_high), "). ");
  const std::string ratio = FormatRatio(options.fixed_ratio);
  switch (r.verdict) {
    case FixVerdict::kFixed:
      absl::StrAppend(&text, "Fixed: the rate after is below ", ratio, " of the reference at ",
                      confidence, " confidence (p = ", FormatProbability(r.p_fixed),
                      ", q = ", FormatProbability(r.q_fixed), ").");
      break;
    case FixVerdict::kNotFixed:
      absl::StrAppend(&text, "Not fixed: the rate after is above ", ratio, " of the reference at ",
                      confidence, " confidence (p = ", FormatProbability(r.p_not_fixed),
                      ", q = ", FormatProbability(r.q_not_fixed), ").");
      break;
    case FixVerdict::kNotYetKnown:
      absl::StrAppend(&text, "Not yet known: the data shows the rate neither below nor above ",
                      ratio, " of the reference at ", confidence, " confidence.");
      break;
  }
  return text;
}

FixVerdict VerdictOf(double fixed, double not_fixed, const FixOptions& options) {
  const double alpha = 1 - options.confidence;
  if (fixed <= alpha) return FixVerdict::kFixed;
  if (not_fixed <= alpha) return FixVerdict::kNotFixed;
  return FixVerdict::kNotYetKnown;
}

// Benjamini–Hochberg q-values of one verdict's p-values across the changes.
std::vector<double> QValuesOf(const std::vector<ChangeReport>& reports, double ChangeReport::*p) {
  std::vector<double> log_p;
  for (const ChangeReport& r : reports) log_p.push_back(std::log(r.*p));
  const std::vector<uint8_t> order(reports.size(), 1);
  const QValues q(log_p, order, reports.size(), /*max_order=*/1);
  std::vector<double> values;
  for (const double l : log_p) values.push_back(q.Of(l, 1));
  return values;
}

}  // namespace

const char* FixVerdictName(FixVerdict verdict) {
  switch (verdict) {
    case FixVerdict::kFixed:
      return "fixed";
    case FixVerdict::kNotFixed:
      return "not fixed";
    case FixVerdict::kNotYetKnown:
      break;
  }
  return "not yet known";
}

FixTest TestFix(uint64_t events_after, double exposure_after, uint64_t events_reference,
                double exposure_reference, const FixOptions& options) {
  FixTest test;
  test.ci_high = std::numeric_limits<double>::infinity();
  if (exposure_after <= 0 || exposure_reference <= 0) return test;
  const RateComparison rates = CompareRates(events_after, exposure_after, events_reference,
                                            exposure_reference, options.confidence);
  test.rate_ratio = rates.rate_ratio;
  test.ci_low = rates.ci_low;
  test.ci_high = rates.ci_high;
  const uint64_t total = events_after + events_reference;
  if (total == 0) return test;
  const double weighted = options.fixed_ratio * exposure_after;
  const double share = weighted / (weighted + exposure_reference);
  test.p_fixed = BinomialLowerTail(total, events_after, share);
  test.p_not_fixed = BinomialUpperTail(total, events_after, share);
  test.verdict = VerdictOf(test.p_fixed, test.p_not_fixed, options);
  return test;
}

std::vector<ChangeReport> ConfirmFixes(const EpochValues& values, ExposureUnit unit,
                                       const FixOptions& options) {
  const Fleet& fleet = values.fleet();
  const std::span<const double> exposure =
      unit == ExposureUnit::kBytes ? fleet.exposure_bytes() : fleet.exposure_seconds();
  const std::span<const double> start = fleet.start_seconds();
  const auto& host_epochs = values.HostEpochs();

  std::map<std::string, Group> groups;
  for (uint32_t host = 0; host < host_epochs.size(); ++host) {
    const std::vector<uint32_t>& epochs = host_epochs[host];
    absl::flat_hash_map<std::string, bool> seen;
    for (size_t i = 1; i < epochs.size(); ++i) {
      if (std::isnan(start[epochs[i - 1]]) || std::isnan(start[epochs[i]])) continue;
      Diff diff = Compare(values, epochs[i - 1], epochs[i]);
      const bool named = !diff.named.empty();
      std::vector<AttributeChange>& changes = named ? diff.named : diff.config;
      if (changes.empty()) continue;
      std::string key = Key(changes);
      if (!seen.try_emplace(key, true).second) continue;  // a host's first such change counts
      Group& group = groups[key];
      if (group.changes.empty()) group.changes = std::move(changes);
      if (named)
        group.config_changes = std::max<uint64_t>(group.config_changes, diff.config.size());
      group.transitions.push_back({host, i});
    }
  }

  std::vector<ChangeReport> reports;
  std::vector<uint32_t> count(fleet.epoch_count());
  std::vector<uint8_t> changed_host(fleet.host_count());
  for (const auto& [key, group] : groups) {
    ChangeReport report{.changes = group.changes,
                        .config_changes = group.config_changes,
                        .hosts = group.transitions.size(),
                        .first_change_seconds = std::numeric_limits<double>::infinity(),
                        .last_change_seconds = -std::numeric_limits<double>::infinity()};
    std::fill(changed_host.begin(), changed_host.end(), 0);
    std::vector<ValueId> common;
    bool first = true;
    for (const Transition& t : group.transitions) {
      const std::vector<uint32_t>& epochs = host_epochs[t.host];
      changed_host[t.host] = 1;
      const uint32_t before = epochs[t.index - 1];
      report.first_change_seconds = std::min(report.first_change_seconds, start[epochs[t.index]]);
      report.last_change_seconds = std::max(report.last_change_seconds, start[epochs[t.index]]);
      report.events_before += values.Events(before);
      report.exposure_before += exposure[before];
      for (size_t i = t.index; i < epochs.size() && HoldsTo(values, epochs[i], group.changes);
           ++i) {
        report.events_after += values.Events(epochs[i]);
        report.exposure_after += exposure[epochs[i]];
      }
      std::vector<ValueId> row(values.Row(before).begin(), values.Row(before).end());
      std::sort(row.begin(), row.end());
      if (first) {
        common = std::move(row);
        first = false;
      } else {
        std::vector<ValueId> kept;
        std::set_intersection(common.begin(), common.end(), row.begin(), row.end(),
                              std::back_inserter(kept));
        common = std::move(kept);
      }
    }
    // Unchanged hosts like them: every value all the changed hosts held before.
    std::fill(count.begin(), count.end(), 0);
    for (const ValueId v : common) {
      const EpochPosting& posting = fleet.posting(v);
      if (posting.is_bitset()) {
        for (size_t w = 0; w < posting.words().size(); ++w) {
          for (uint64_t bits = posting.words()[w]; bits != 0; bits &= bits - 1) {
            ++count[w * 64 + std::countr_zero(bits)];
          }
        }
      } else {
        for (const uint32_t e : posting.epochs()) ++count[e];
      }
    }
    std::vector<uint8_t> control_host(fleet.host_count(), 0);
    for (uint32_t e = 0; e < fleet.epoch_count(); ++e) {
      const uint32_t host = fleet.epoch_host(e);
      if (count[e] != common.size() || changed_host[host] != 0) continue;
      report.events_control += values.Events(e);
      report.exposure_control += exposure[e];
      report.control_hosts += control_host[host] == 0;
      control_host[host] = 1;
    }
    if (report.events_before + report.events_after + report.events_control == 0) continue;
    const FixTest test = TestFix(report.events_after, report.exposure_after,
                                 report.events_before + report.events_control,
                                 report.exposure_before + report.exposure_control, options);
    report.rate_ratio = test.rate_ratio;
    report.ci_low = test.ci_low;
    report.ci_high = test.ci_high;
    report.p_fixed = test.p_fixed;
    report.p_not_fixed = test.p_not_fixed;
    reports.push_back(std::move(report));
  }
  // Dozens of changes tested at 1 - confidence each would give some a verdict
  // by chance: each verdict's error rate is held across the changes tested.
  const std::vector<double> q_fixed = QValuesOf(reports, &ChangeReport::p_fixed);
  const std::vector<double> q_not_fixed = QValuesOf(reports, &ChangeReport::p_not_fixed);
  for (size_t i = 0; i < reports.size(); ++i) {
    ChangeReport& report = reports[i];
    report.q_fixed = q_fixed[i];
    report.q_not_fixed = q_not_fixed[i];
    report.verdict = VerdictOf(report.q_fixed, report.q_not_fixed, options);
    report.statement = Statement(report, options);
  }
  std::stable_sort(reports.begin(), reports.end(),
                   [](const ChangeReport& a, const ChangeReport& b) {
                     const uint64_t ea = a.events_before + a.events_control;
                     const uint64_t eb = b.events_before + b.events_control;
                     if (ea != eb) return ea > eb;
                     return a.hosts > b.hosts;
                   });
  if (reports.size() > options.max_changes) reports.resize(options.max_changes);
  return reports;
}

}  // namespace fscanary::analysis
