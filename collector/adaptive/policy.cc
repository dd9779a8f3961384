#include "collector/adaptive/policy.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "collector/analysis/kernel_version.h"

namespace fscanary::adaptive {
namespace {

using analysis::AttributeValue;
using analysis::CompareKernelVersions;
using analysis::KernelVersion;
using analysis::ParseKernelVersion;

absl::Status Validate(const PolicyOptions& options) {
  if (!(options.max_factor >= 1) || !std::isfinite(options.max_factor)) {
    return absl::InvalidArgumentError("max_factor must be a finite number >= 1");
  }
  if (!(options.max_extra_io_share >= 0) || !std::isfinite(options.max_extra_io_share)) {
    return absl::InvalidArgumentError("max_extra_io_share must be a finite share >= 0");
  }
  if (!(options.victim_window_s >= 0) || !(options.fade_after_s >= 0)) {
    return absl::InvalidArgumentError("victim_window_s and fade_after_s must be >= 0");
  }
  if (!(options.confirmed_q > 0 && options.confirmed_q < 1) ||
      !(options.lead_p > 0 && options.lead_p < 1)) {
    return absl::InvalidArgumentError("confirmed_q and lead_p must be between 0 and 1");
  }
  return absl::OkStatus();
}

bool InKernelRange(const KernelVersion& kernel, std::string_view range) {
  const size_t dots = range.find("..");
  if (dots == std::string_view::npos) return false;
  const std::string_view first = range.substr(0, dots);
  const std::string_view last = range.substr(dots + 2);
  if (!first.empty()) {
    const std::optional<KernelVersion> from = ParseKernelVersion(first);
    if (!from.has_value() || CompareKernelVersions(kernel, *from) < 0) return false;
  }
  if (!last.empty()) {
    const std::optional<KernelVersion> to = ParseKernelVersion(last);
    if (!to.has_value() || CompareKernelVersions(kernel, *to) > 0) return false;
  }
  return true;
}

// Spreads `budget` of extra I/O over `hosts` at one common factor, at most
// `max_factor`, never lowering a factor already set. Returns what it spent.
double Boost(std::span<const size_t> hosts, double budget, const FleetNow& fleet, double max_factor,
             std::vector<double>& factors) {
  double io = 0;
  for (const size_t host : hosts) io += fleet.baseline_io(host);
  if (io <= 0 || budget <= 0) return 0;
  const double factor = std::min(max_factor, 1 + budget / io);
  double spent = 0;
  for (const size_t host : hosts) {
    if (factors[host] >= factor) continue;
    spent += (factor - factors[host]) * fleet.baseline_io(host);
    factors[host] = factor;
  }
  return spent;
}

}  // namespace

bool HostHolds(const FleetNow& fleet, size_t host, const AttributeValue& value,
               const PolicyOptions& options) {
  if (const std::optional<std::string_view> own = fleet.ValueOf(host, value.attribute)) {
    return *own == value.value;
  }
  const bool series = value.attribute == options.kernel_series_attribute;
  const bool range = value.attribute == options.kernel_range_attribute;
  if (!series && !range) return false;
  const std::optional<std::string_view> release = fleet.ValueOf(host, options.kernel_attribute);
  if (!release.has_value()) return false;
  const std::optional<KernelVersion> kernel = ParseKernelVersion(*release);
  if (!kernel.has_value()) return false;
  return series ? kernel->Series() == value.value : InKernelRange(*kernel, value.value);
}

absl::StatusOr<Decision> DecideBoosts(const FleetNow& fleet,
                                      std::span<const Corruption> corruptions,
                                      const analysis::AnalysisResult& analysis, double now_s,
                                      const PolicyOptions& options) {
  if (absl::Status valid = Validate(options); !valid.ok()) return valid;
  const size_t hosts = fleet.host_count();
  std::vector<double> last_corruption(hosts, -INFINITY);
  for (const Corruption& corruption : corruptions) {
    if (corruption.host >= hosts) {
      return absl::InvalidArgumentError(
          absl::StrCat("corruption on host ", corruption.host, " of a fleet of ", hosts, " hosts"));
    }
    last_corruption[corruption.host] =
        std::max(last_corruption[corruption.host], corruption.time_s);
  }

  Decision decision{.factors = std::vector<double>(hosts, 1.0)};
  double baseline = 0;
  for (size_t host = 0; host < hosts; ++host) baseline += fleet.baseline_io(host);
  double budget = options.max_extra_io_share * baseline;

  // Victims first: the host that saw corruption is the likeliest to see more.
  std::vector<size_t> victims;
  for (size_t host = 0; host < hosts; ++host) {
    if (now_s - last_corruption[host] <= options.victim_window_s) victims.push_back(host);
  }
  budget -= Boost(victims, budget, fleet, options.max_factor, decision.factors);
  decision.victims_boosted = victims.size();

  std::vector<size_t> sharers;  // hosts boosted for a lead and not as victims
  std::vector<bool> sharing(hosts, false);
  const size_t considered = std::min(options.leads, analysis.suspects.size());
  for (size_t rank = 0; rank < considered; ++rank) {
    const analysis::Suspect& suspect = analysis.suspects[rank];
    Lead lead{.attributes = suspect.attributes};
    std::vector<size_t> holders;
    double latest = -INFINITY;
    for (size_t host = 0; host < hosts; ++host) {
      const bool holds = std::all_of(
          suspect.attributes.begin(), suspect.attributes.end(),
          [&](const AttributeValue& value) { return HostHolds(fleet, host, value, options); });
      if (!holds) continue;
      holders.push_back(host);
      latest = std::max(latest, last_corruption[host]);
    }
    lead.hosts = holders.size();
    if (suspect.q_value < options.confirmed_q) {
      lead.state = LeadState::kConfirmed;
    } else if (suspect.p_value > options.lead_p) {
      lead.state = LeadState::kRefuted;
    } else if (now_s - latest > options.fade_after_s) {
      lead.state = LeadState::kFaded;
    } else {
      for (const size_t host : holders) {
        // A victim already has its boost.
        if (!sharing[host] && decision.factors[host] == 1) sharers.push_back(host);
        sharing[host] = true;
      }
    }
    decision.leads.push_back(std::move(lead));
  }
  std::sort(sharers.begin(), sharers.end());
  if (Boost(sharers, budget, fleet, options.max_factor, decision.factors) > 0) {
    decision.sharers_boosted = sharers.size();
  }

  double extra = 0;
  for (size_t host = 0; host < hosts; ++host) {
    extra += (decision.factors[host] - 1) * fleet.baseline_io(host);
  }
  decision.extra_io_share = baseline > 0 ? extra / baseline : 0;
  return decision;
}

}  // namespace fscanary::adaptive
