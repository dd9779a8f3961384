#include "collector/daemon/fleet_metrics.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "collector/analysis/analysis.h"
#include "collector/fleet/host_attributes.h"
#include "common/status.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {
namespace {

using metrics::Labels;
using metrics::MetricFamily;
using metrics::MetricType;

constexpr double kNanosPerSecond = 1e9;

double Seconds(int64_t unix_nanos) { return static_cast<double>(unix_nanos) / kNanosPerSecond; }

Labels AttributeLabels(const fleet::PrimaryLabels& primary) {
  return {{"kernel", primary.kernel},
          {"blk_mq", primary.blk_mq},
          {"scheduler", primary.scheduler},
          {"driver", primary.driver},
          {"fs", primary.fs}};
}

MetricFamily Family(std::string name, std::string help, MetricType type) {
  return MetricFamily{.name = std::move(name), .help = std::move(help), .type = type};
}

void AddSeries(MetricFamily& family, Labels labels, double value) {
  family.series.push_back({.labels = std::move(labels), .value = value});
}

uint64_t CorruptionFindings(const std::map<v1::FindingKind, uint64_t>& by_kind) {
  uint64_t total = 0;
  for (const auto& [kind, count] : by_kind) {
    if (store::IsCorruption(kind)) total += count;
  }
  return total;
}

// "scheduler=none,blk_mq=on", by attribute name.
std::string ConjunctionLabel(std::vector<analysis::AttributeValue> attributes) {
  std::sort(attributes.begin(), attributes.end(),
            [](const auto& a, const auto& b) { return a.attribute < b.attribute; });
  std::string text;
  for (const analysis::AttributeValue& item : attributes) {
    if (!text.empty()) text += ',';
    absl::StrAppend(&text, item.attribute, "=", item.value);
  }
  return text;
}

}  // namespace

absl::StatusOr<FleetAggregates> ComputeFleetAggregates(
    const std::vector<store::EpochRecord>& epochs, size_t max_suspects) {
  // Sums keyed by label set: several epochs (hosts) share one series.
  std::map<Labels, double> verified;
  std::map<Labels, double> written;
  std::map<Labels, double> findings;
  FleetAggregates aggregates;
  for (const store::EpochRecord& epoch : epochs) {
    const Labels labels = AttributeLabels(fleet::PrimaryLabelsOf(epoch.facts));
    verified[labels] += static_cast<double>(epoch.exposure.bytes_verified);
    written[labels] += static_cast<double>(epoch.exposure.bytes_written);
    for (const auto& [kind, count] : epoch.findings_by_kind) {
      Labels with_kind = labels;
      with_kind["kind"] = fleet::KindName(kind);
      findings[with_kind] += static_cast<double>(count);
    }
    aggregates.corruption_findings += CorruptionFindings(epoch.findings_by_kind);
  }
  MetricFamily verified_family =
      Family("fscanary_verified_bytes_total", "Bytes read back and verified, by host attributes.",
             MetricType::kCounter);
  for (auto& [labels, value] : verified) AddSeries(verified_family, labels, value);
  MetricFamily written_family = Family("fscanary_written_bytes_total",
                                       "Bytes written, by host attributes.", MetricType::kCounter);
  for (auto& [labels, value] : written) AddSeries(written_family, labels, value);
  MetricFamily findings_family = Family(
      "fscanary_findings_total", "Findings by kind and host attributes.", MetricType::kCounter);
  for (auto& [labels, value] : findings) AddSeries(findings_family, labels, value);
  aggregates.families.push_back(std::move(verified_family));
  aggregates.families.push_back(std::move(written_family));
  aggregates.families.push_back(std::move(findings_family));

  MetricFamily ratio = Family("fscanary_suspect_rate_ratio",
                              "Correlation engine: corruption rate ratio of the rank-th suspect.",
                              MetricType::kGauge);
  MetricFamily ci_low =
      Family("fscanary_suspect_ci_low", "Lower end of the suspect's 95% rate-ratio interval.",
             MetricType::kGauge);
  MetricFamily ci_high =
      Family("fscanary_suspect_ci_high", "Upper end of the suspect's 95% rate-ratio interval.",
             MetricType::kGauge);
  MetricFamily q_value = Family("fscanary_suspect_q_value",
                                "Benjamini-Hochberg q-value of the suspect.", MetricType::kGauge);
  MetricFamily events =
      Family("fscanary_suspect_events", "Corruption events on hosts with the suspect's attributes.",
             MetricType::kGauge);
  ASSIGN_OR_RETURN(const fleet::BuiltFleet built, fleet::BuildFleet(epochs));
  if (!built.skipped.empty()) {
    spdlog::warn("fleet aggregates: {} host epochs left out of the correlation (first: {})",
                 built.skipped.size(), built.skipped.front());
  }
  MetricFamily skipped =
      Family("fscanary_analysis_skipped_epochs",
             "Host epochs the latest correlation left out because their facts could not be turned "
             "into attributes.",
             MetricType::kGauge);
  AddSeries(skipped, {}, static_cast<double>(built.skipped.size()));
  aggregates.families.push_back(std::move(skipped));
  analysis::AnalysisOptions options;
  options.max_suspects = max_suspects;
  ASSIGN_OR_RETURN(const analysis::AnalysisResult result,
                   analysis::AnalyzeFleet(built.fleet, options));
  for (size_t i = 0; i < result.suspects.size() && i < max_suspects; ++i) {
    const analysis::Suspect& suspect = result.suspects[i];
    const Labels labels = {{"rank", absl::StrCat(i + 1)},
                           {"attributes", ConjunctionLabel(suspect.attributes)}};
    AddSeries(ratio, labels, suspect.rate_ratio);
    AddSeries(ci_low, labels, suspect.ci_low);
    AddSeries(ci_high, labels, suspect.ci_high);
    AddSeries(q_value, labels, suspect.q_value);
    AddSeries(events, labels, static_cast<double>(suspect.events));
  }
  for (MetricFamily* family : {&ratio, &ci_low, &ci_high, &q_value, &events}) {
    aggregates.families.push_back(std::move(*family));
  }
  return aggregates;
}

FleetMetrics::FleetMetrics(store::Store& store, const Sessions& sessions,
                           FleetMetricsOptions options)
    : store_(store), sessions_(sessions), options_(std::move(options)) {}

absl::Status FleetMetrics::Refresh() {
  ASSIGN_OR_RETURN(const std::vector<store::EpochRecord> epochs, store_.ListEpochs());
  ASSIGN_OR_RETURN(FleetAggregates aggregates,
                   ComputeFleetAggregates(epochs, options_.max_suspects));
  auto shared = std::make_shared<const FleetAggregates>(std::move(aggregates));
  std::lock_guard lock(mutex_);
  aggregates_ = std::move(shared);
  return absl::OkStatus();
}

bool FleetMetrics::AggregatesBehind() const {
  std::lock_guard lock(mutex_);
  return aggregates_ == nullptr || aggregates_->corruption_findings != scraped_corruption_findings_;
}

absl::StatusOr<std::vector<MetricFamily>> FleetMetrics::HostFamilies() const {
  ASSIGN_OR_RETURN(const std::vector<store::HostActivity> hosts, store_.ListHostActivity());
  const std::map<std::string, SessionState> sessions = sessions_.Snapshot();
  const int64_t now = options_.now_unix_nanos ? options_.now_unix_nanos()
                                              : static_cast<int64_t>(io::WallClockNanos());

  MetricFamily up =
      Family("fscanary_host_up", "1 while the host's agent has a stream open.", MetricType::kGauge);
  MetricFamily last_seen =
      Family("fscanary_host_last_seen_timestamp_seconds",
             "When the collector last heard from the host's agent.", MetricType::kGauge);
  MetricFamily last_verified =
      Family("fscanary_host_last_verified_timestamp_seconds",
             "End of the host's newest report that verified bytes (0: never).", MetricType::kGauge);
  MetricFamily host_findings =
      Family("fscanary_host_findings_total",
             "Corruption findings of the host (all corruption kinds), 0 from when it registers.",
             MetricType::kCounter);
  MetricFamily last_finding =
      Family("fscanary_host_last_finding_timestamp_seconds",
             "When the collector received the host's newest corruption finding (0: none).",
             MetricType::kGauge);
  MetricFamily spool =
      Family("fscanary_host_spool_records",
             "Records the host's agent holds unacknowledged, as it last said.", MetricType::kGauge);
  MetricFamily spool_lost = Family(
      "fscanary_host_spool_lost_records_total",
      "Records the host's spool could not keep, by what happened to them.", MetricType::kCounter);
  MetricFamily info =
      Family("fscanary_host_info", "1 per host, labelled with the attributes of its current epoch.",
             MetricType::kGauge);
  uint64_t known = 0;
  uint64_t connected = 0;
  uint64_t stale = 0;
  uint64_t corruption_findings = 0;
  for (const store::HostActivity& host : hosts) {
    corruption_findings += CorruptionFindings(host.findings_by_kind);
    const auto session = sessions.find(host.agent_id);
    const bool is_up = session != sessions.end() && session->second.streams > 0;
    const int64_t silent_nanos = now - host.last_seen_unix_nanos;
    if (!is_up && silent_nanos > options_.host_expiry_nanos) continue;
    ++known;
    if (is_up) ++connected;
    if (!is_up && silent_nanos > options_.stale_after_nanos) ++stale;

    const Labels host_label = {{"host", host.agent_id}};
    AddSeries(up, host_label, is_up ? 1 : 0);
    AddSeries(last_seen, host_label, Seconds(host.last_seen_unix_nanos));
    AddSeries(last_verified, host_label, Seconds(host.last_verified_unix_nanos));
    const uint64_t host_corruptions = CorruptionFindings(host.findings_by_kind);
    AddSeries(host_findings, host_label, static_cast<double>(host_corruptions));
    AddSeries(last_finding, host_label, Seconds(host.last_corruption_received_unix_nanos));
    AddSeries(spool, host_label,
              session == sessions.end() ? 0 : static_cast<double>(session->second.spooled_records));
    const std::pair<const char*, uint64_t> losses[] = {
        {"reports_summarised", host.spool_loss.reports_summarised()},
        {"reports_dropped", host.spool_loss.reports_dropped()},
        {"findings_dropped", host.spool_loss.findings_dropped()},
        {"damaged", host.spool_loss.damaged_records_skipped()},
    };
    for (const auto& [what, count] : losses) {
      AddSeries(spool_lost, {{"host", host.agent_id}, {"what", what}}, static_cast<double>(count));
    }
    const fleet::PrimaryLabels primary = fleet::PrimaryLabelsOf(host.facts);
    Labels info_labels = AttributeLabels(primary);
    info_labels["host"] = host.agent_id;
    info_labels["distro"] = primary.distro;
    info_labels["virtualization"] = primary.virtualization;
    info_labels["agent_version"] = host.agent_version.empty() ? "unknown" : host.agent_version;
    AddSeries(info, std::move(info_labels), 1);
  }
  {
    std::lock_guard lock(mutex_);
    scraped_corruption_findings_ = corruption_findings;
  }
  MetricFamily hosts_family =
      Family("fscanary_hosts", "Hosts known to the collector and not expired.", MetricType::kGauge);
  AddSeries(hosts_family, {}, static_cast<double>(known));
  MetricFamily connected_family =
      Family("fscanary_agents_connected", "Agents with a stream open to this collector.",
             MetricType::kGauge);
  AddSeries(connected_family, {}, static_cast<double>(connected));
  MetricFamily stale_family =
      Family("fscanary_agents_stale", "Hosts not connected and silent for longer than stale_after.",
             MetricType::kGauge);
  AddSeries(stale_family, {}, static_cast<double>(stale));

  std::vector<MetricFamily> families;
  for (MetricFamily* family :
       {&up, &last_seen, &last_verified, &host_findings, &last_finding, &spool, &spool_lost, &info,
        &hosts_family, &connected_family, &stale_family}) {
    families.push_back(std::move(*family));
  }
  return families;
}

std::vector<MetricFamily> FleetMetrics::Collect() const {
  std::vector<MetricFamily> families;
  if (absl::StatusOr<std::vector<MetricFamily>> hosts = HostFamilies(); hosts.ok()) {
    families = *std::move(hosts);
  } else {
    spdlog::error("fleet metrics: reading the hosts failed: {}", hosts.status().ToString());
  }
  std::shared_ptr<const FleetAggregates> aggregates;
  {
    std::lock_guard lock(mutex_);
    aggregates = aggregates_;
  }
  if (aggregates != nullptr) {
    families.insert(families.end(), aggregates->families.begin(), aggregates->families.end());
  }
  return families;
}

}  // namespace fscanary::collector
