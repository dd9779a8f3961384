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
  if (options.independent_victims < 1) {
    return absl::InvalidArgumentError("independent_victims must be at least 1");
  }
  if (!(options.lone_victim_factor >= 1) || !std::isfinite(options.lone_victim_factor)) {
    return absl::InvalidArgumentError("lone_victim_factor must be a finite number >= 1");
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

// The host's value for an attribute, the kernel series derived when not given.
std::optional<std::string> ValueFor(const FleetNow& fleet, size_t host, std::string_view attribute,
                                    const PolicyOptions& options) {
  if (const std::optional<std::string_view> own = fleet.ValueOf(host, attribute)) {
    return std::string(*own);
  }
  if (attribute != options.kernel_series_attribute) return std::nullopt;
  const std::optional<std::string_view> release = fleet.ValueOf(host, options.kernel_attribute);
  if (!release.has_value()) return std::nullopt;
  const std::optional<KernelVersion> kernel = ParseKernelVersion(*release);
  if (!kernel.has_value()) return std::nullopt;
  return kernel->Series();
}

std::vector<size_t> Holders(const FleetNow& fleet, std::span<const AttributeValue> values,
                            const PolicyOptions& options) {
  std::vector<size_t> holders;
  for (size_t host = 0; host < fleet.host_count(); ++host) {
    if (std::all_of(values.begin(), values.end(), [&](const AttributeValue& value) {
          return HostHolds(fleet, host, value, options);
        })) {
      holders.push_back(host);
    }
  }
  return holders;
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

  // Then groups of hosts in order of corruptions per host: where the next
  // corruption is likeliest per byte verified. A lead's group holds its
  // events; a victim's neighbourhood, the recent victims in it.
  struct Group {
    double density = 0;
    std::vector<size_t> hosts;
    bool lead = false;
    size_t victims = 0;  // distinct hosts in it that reported the corruptions counted
  };
  const auto victims_among = [&](std::span<const size_t> holders, double since_s) {
    return static_cast<size_t>(std::count_if(holders.begin(), holders.end(), [&](size_t host) {
      return std::isfinite(last_corruption[host]) && now_s - last_corruption[host] <= since_s;
    }));
  };
  std::vector<Group> groups;
  const size_t considered = std::min(options.leads, analysis.suspects.size());
  for (size_t rank = 0; rank < considered; ++rank) {
    const analysis::Suspect& suspect = analysis.suspects[rank];
    std::vector<size_t> holders = Holders(fleet, suspect.attributes, options);
    double latest = -INFINITY;
    for (const size_t host : holders) latest = std::max(latest, last_corruption[host]);
    Lead lead{.attributes = suspect.attributes, .hosts = holders.size()};
    if (suspect.q_value < options.confirmed_q) {
      lead.state = LeadState::kConfirmed;
    } else if (suspect.p_value > options.lead_p) {
      lead.state = LeadState::kRefuted;
    } else if (now_s - latest > options.fade_after_s) {
      lead.state = LeadState::kFaded;
    } else if (!holders.empty()) {
      const double density = static_cast<double>(suspect.events) / holders.size();
      const size_t victims_in_it = victims_among(holders, INFINITY);
      groups.push_back({.density = density,
                        .hosts = std::move(holders),
                        .lead = true,
                        .victims = victims_in_it});
    }
    decision.leads.push_back(std::move(lead));
  }
  std::vector<std::vector<AttributeValue>> profiles;
  for (const std::vector<std::string>& neighbourhood : options.neighbourhoods) {
    for (const size_t victim : victims) {
      std::vector<AttributeValue> profile;
      for (const std::string& attribute : neighbourhood) {
        std::optional<std::string> value = ValueFor(fleet, victim, attribute, options);
        if (!value.has_value()) break;
        profile.push_back({attribute, *std::move(value)});
      }
      if (profile.empty() || profile.size() != neighbourhood.size()) continue;
      if (std::find(profiles.begin(), profiles.end(), profile) != profiles.end()) continue;
      std::vector<size_t> holders = Holders(fleet, profile, options);
      const size_t in_it = victims_among(holders, options.victim_window_s);
      groups.push_back({.density = static_cast<double>(in_it) / holders.size(),
                        .hosts = std::move(holders),
                        .victims = in_it});
      profiles.push_back(std::move(profile));
    }
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const Group& a, const Group& b) { return a.density > b.density; });
  for (const Group& group : groups) {
    std::vector<size_t> fresh;  // not boosted yet, as a victim or by a denser group
    for (const size_t host : group.hosts) {
      if (decision.factors[host] == 1) fresh.push_back(host);
    }
    const bool trusted = group.victims >= options.independent_victims;
    const double ceiling =
        trusted ? options.max_factor : std::min(options.max_factor, options.lone_victim_factor);
    const double spent = Boost(fresh, budget, fleet, ceiling, decision.factors);
    if (spent <= 0) continue;
    budget -= spent;
    decision.groups_capped += trusted ? 0 : 1;
    (group.lead ? decision.sharers_boosted : decision.neighbours_boosted) += fresh.size();
  }

  double extra = 0;
  for (size_t host = 0; host < hosts; ++host) {
    extra += (decision.factors[host] - 1) * fleet.baseline_io(host);
  }
  decision.extra_io_share = baseline > 0 ? extra / baseline : 0;
  return decision;
}

}  // namespace fscanary::adaptive
