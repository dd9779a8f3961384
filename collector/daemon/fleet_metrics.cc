#include "collector/daemon/fleet_metrics.h"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "collector/analysis/analysis.h"
#include "collector/fleet/host_attributes.h"
#include "collector/fleet/known_bug_exposure.h"
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

// Labels whose values come from what agents sent, in the order the
// label-folding gauge lists them.
constexpr const char* kAgentDerivedLabels[] = {
    "host",   "kernel",         "blk_mq",        "scheduler",  "driver",  "fs",
    "distro", "virtualization", "agent_version", "attributes", "checker", "target"};

// A suspect's conjunction is up to four attribute=value items.
constexpr size_t kConjunctionBytesPerLabel = 4;

Labels FoldedLabels(Labels labels, const LabelFolder& folder) {
  for (auto& [name, value] : labels) value = folder.Fold(name, value);
  return labels;
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
    const std::vector<store::EpochRecord>& epochs, size_t max_suspects, const LabelLimits& limits) {
  // Which label values keep their name: weighed by hosts, so one agent's
  // many epochs (one per facts change) count once.
  LabelFolder folder(limits);
  {
    const std::string* agent = nullptr;
    absl::flat_hash_set<std::pair<std::string, std::string>> offered;
    for (const store::EpochRecord& epoch : epochs) {
      if (agent == nullptr || *agent != epoch.agent_id) offered.clear();
      agent = &epoch.agent_id;
      for (auto& [name, value] : AttributeLabels(fleet::PrimaryLabelsOf(epoch.facts))) {
        if (offered.emplace(name, value).second) folder.Offer(name, value);
      }
    }
  }
  folder.Decide();
  // Sums keyed by label set: several epochs (hosts) share one series.
  SeriesMerger verified(Merge::kSum);
  SeriesMerger written(Merge::kSum);
  SeriesMerger findings(Merge::kSum);
  FleetAggregates aggregates;
  for (const store::EpochRecord& epoch : epochs) {
    const Labels labels =
        FoldedLabels(AttributeLabels(fleet::PrimaryLabelsOf(epoch.facts)), folder);
    verified.Add(labels, static_cast<double>(epoch.exposure.bytes_verified));
    written.Add(labels, static_cast<double>(epoch.exposure.bytes_written));
    for (const auto& [kind, count] : epoch.findings_by_kind) {
      Labels with_kind = labels;
      with_kind["kind"] = fleet::KindName(kind);
      findings.Add(std::move(with_kind), static_cast<double>(count));
    }
    aggregates.corruption_findings += CorruptionFindings(epoch.findings_by_kind);
  }
  aggregates.folded_label_values = folder.FoldedCounts();
  MetricFamily verified_family =
      Family("fscanary_verified_bytes_total", "Bytes read back and verified, by host attributes.",
             MetricType::kCounter);
  std::move(verified).AppendTo(verified_family);
  MetricFamily written_family = Family("fscanary_written_bytes_total",
                                       "Bytes written, by host attributes.", MetricType::kCounter);
  std::move(written).AppendTo(written_family);
  MetricFamily findings_family = Family(
      "fscanary_findings_total", "Findings by kind and host attributes.", MetricType::kCounter);
  std::move(findings).AppendTo(findings_family);
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
    std::string attributes = ConjunctionLabel(suspect.attributes);
    if (!IsAcceptableLabelValue(attributes, kConjunctionBytesPerLabel * limits.max_value_bytes)) {
      attributes = kFoldedLabelValue;
      ++aggregates.folded_label_values["attributes"];
    }
    const Labels labels = {{"rank", absl::StrCat(i + 1)}, {"attributes", std::move(attributes)}};
    AddSeries(ratio, labels, suspect.rate_ratio);
    AddSeries(ci_low, labels, suspect.ci_low);
    AddSeries(ci_high, labels, suspect.ci_high);
    AddSeries(q_value, labels, suspect.q_value);
    AddSeries(events, labels, static_cast<double>(suspect.events));
  }
  for (MetricFamily* family : {&ratio, &ci_low, &ci_high, &q_value, &events}) {
    aggregates.families.push_back(std::move(*family));
  }
  // Every bug of the table and both verdicts, 0 included: an alert sees the
  // first host that moves onto an affected configuration. Bug ids are the
  // table's own (bounded, safe label values), never agents' data.
  MetricFamily known_bugs =
      Family("fscanary_known_bug_hosts",
             "Hosts whose current epoch runs a configuration a known corruption bug needs "
             "(verdict affected), or may (possibly_affected: the patch level or a condition is "
             "not known); see fscanary known-bugs.",
             MetricType::kGauge);
  for (const fleet::KnownBugExposure& exposure : fleet::KnownBugExposureOf(epochs)) {
    const std::string bug(exposure.bug->id);
    AddSeries(known_bugs, {{"bug", bug}, {"verdict", "affected"}},
              static_cast<double>(exposure.affected));
    AddSeries(known_bugs, {{"bug", bug}, {"verdict", "possibly_affected"}},
              static_cast<double>(exposure.possibly_affected));
  }
  aggregates.families.push_back(std::move(known_bugs));
  return aggregates;
}

FleetMetrics::FleetMetrics(store::Store& store, const Sessions& sessions,
                           FleetMetricsOptions options)
    : store_(store),
      sessions_(sessions),
      options_(std::move(options)),
      epochs_({.now_unix_nanos = options_.now_unix_nanos}) {}

absl::Status FleetMetrics::Refresh() {
  std::lock_guard refreshing(refresh_mutex_);
  ASSIGN_OR_RETURN(const FleetEpochsRead read, epochs_.Refresh(store_));
  {
    // The aggregates are a function of the epochs alone.
    std::lock_guard lock(mutex_);
    if (aggregates_ != nullptr && !read.full && read.hosts == 0) {
      ReadAllIfBehind();
      return absl::OkStatus();
    }
  }
  ASSIGN_OR_RETURN(
      FleetAggregates aggregates,
      ComputeFleetAggregates(epochs_.epochs(), options_.max_suspects, options_.labels));
  auto shared = std::make_shared<const FleetAggregates>(std::move(aggregates));
  std::lock_guard lock(mutex_);
  aggregates_ = std::move(shared);
  if (!read.full) ReadAllIfBehind();
  return absl::OkStatus();
}

void FleetMetrics::ReadAllIfBehind() {
  // A corruption the scrapes see and the copy of the epochs does not: a
  // change stamped before a commit that came later than the overlap. Read
  // everything next time rather than missing it until the hourly full read.
  if (aggregates_->corruption_findings != scraped_corruption_findings_) epochs_.ReadAllNext();
}

bool FleetMetrics::AggregatesBehind() const {
  std::lock_guard lock(mutex_);
  return aggregates_ == nullptr || aggregates_->corruption_findings != scraped_corruption_findings_;
}

absl::StatusOr<FleetMetrics::HostSeries> FleetMetrics::HostFamilies() const {
  ASSIGN_OR_RETURN(const std::vector<store::HostActivity> hosts, store_.ListHostActivity());
  const std::map<std::string, SessionState> sessions = sessions_.Snapshot();
  const int64_t now = options_.now_unix_nanos ? options_.now_unix_nanos()
                                              : static_cast<int64_t>(io::WallClockNanos());

  struct Live {
    const store::HostActivity* host;
    const SessionState* session;  // null: no stream open
    bool up;
    uint32_t watched;  // WatchReason bits; 0: counted by attributes only
    Labels info;       // the host's attribute labels, unfolded
  };
  std::vector<Live> live;
  uint64_t known = 0;
  uint64_t connected = 0;
  uint64_t stale = 0;
  uint64_t corruption_findings = 0;
  uint64_t spooled_records = 0;
  for (const store::HostActivity& host : hosts) {
    corruption_findings += CorruptionFindings(host.findings_by_kind);
    const auto session = sessions.find(host.agent_id);
    const SessionState* state = session == sessions.end() ? nullptr : &session->second;
    // Connected to this collector, or to any other sharing the store.
    const bool is_up = host.connected || (state != nullptr && state->streams > 0);
    const int64_t silent_nanos = now - host.last_seen_unix_nanos;
    if (!is_up && silent_nanos > options_.host_expiry_nanos) continue;
    ++known;
    if (is_up) ++connected;
    if (!is_up && silent_nanos > options_.stale_after_nanos) ++stale;
    if (state != nullptr) spooled_records += state->spooled_records;
    const fleet::PrimaryLabels primary = fleet::PrimaryLabelsOf(host.facts);
    Labels info = AttributeLabels(primary);
    info["distro"] = primary.distro;
    info["virtualization"] = primary.virtualization;
    info["agent_version"] = host.agent_version.empty() ? "unknown" : host.agent_version;
    live.push_back({.host = &host,
                    .session = state,
                    .up = is_up,
                    .watched = WhyWatched(host, state, is_up, now, options_.watch),
                    .info = std::move(info)});
  }
  {
    std::lock_guard lock(mutex_);
    scraped_corruption_findings_ = corruption_findings;
  }
  if (live.size() <= options_.watch.all_hosts_up_to) {
    for (Live& entry : live) {
      if (entry.watched == 0) entry.watched = kWatchSmallFleet;
    }
  }

  // The hosts known longest keep their name, so new hosts (a flood of them)
  // cannot push out the ones already watched; attribute values on the most
  // hosts keep theirs.
  LabelFolder folder(options_.labels);
  {
    std::vector<const Live*> by_age;
    by_age.reserve(live.size());
    for (const Live& entry : live) by_age.push_back(&entry);
    std::sort(by_age.begin(), by_age.end(), [](const Live* a, const Live* b) {
      return std::tie(a->host->first_seen_unix_nanos, a->host->agent_id) <
             std::tie(b->host->first_seen_unix_nanos, b->host->agent_id);
    });
    for (const Live* entry : by_age) {
      for (const auto& [name, value] : entry->info) folder.Offer(name, value);
      if (entry->watched == 0) continue;
      folder.Offer("host", entry->host->agent_id);
      for (const store::CheckerHealth& checker : entry->host->checkers) {
        folder.Offer("checker", checker.checker);
        folder.Offer("target", checker.target);
      }
    }
  }
  folder.Decide();

  // Hosts folded into host="other" merge so that the alerts still see them:
  // counts add up, the newest finding is the latest of theirs, and up, last
  // seen and last verified are the worst of theirs.
  SeriesMerger up(Merge::kMin);
  SeriesMerger last_seen(Merge::kMin);
  SeriesMerger last_verified(Merge::kMin);
  SeriesMerger host_findings(Merge::kSum);
  SeriesMerger last_finding(Merge::kMax);
  SeriesMerger spool(Merge::kSum);
  SeriesMerger spool_lost(Merge::kSum);
  SeriesMerger info(Merge::kSum);
  SeriesMerger checker_failing(Merge::kMax);
  SeriesMerger checker_failed_steps(Merge::kSum);
  SeriesMerger by_attributes(Merge::kSum);
  std::map<std::string_view, uint64_t> watched_by_reason;
  for (const Live& entry : live) {
    by_attributes.Add(FoldedLabels(entry.info, folder), 1);
    for (const auto& [reason, name] : kWatchReasonNames) {
      if ((entry.watched & reason) != 0) ++watched_by_reason[name];
    }
    if (entry.watched == 0) continue;
    const store::HostActivity& host = *entry.host;
    const std::string host_name = folder.Fold("host", host.agent_id);
    const Labels host_label = {{"host", host_name}};
    up.Add(host_label, entry.up ? 1 : 0);
    last_seen.Add(host_label, Seconds(host.last_seen_unix_nanos));
    last_verified.Add(host_label, Seconds(host.last_verified_unix_nanos));
    host_findings.Add(host_label, static_cast<double>(CorruptionFindings(host.findings_by_kind)));
    last_finding.Add(host_label, Seconds(host.last_corruption_received_unix_nanos));
    spool.Add(host_label,
              entry.session == nullptr ? 0 : static_cast<double>(entry.session->spooled_records));
    const std::pair<const char*, uint64_t> losses[] = {
        {"reports_summarised", host.spool_loss.reports_summarised()},
        {"reports_dropped", host.spool_loss.reports_dropped()},
        {"findings_dropped", host.spool_loss.findings_dropped()},
        {"damaged", host.spool_loss.damaged_records_skipped()},
    };
    for (const auto& [what, count] : losses) {
      spool_lost.Add({{"host", host_name}, {"what", what}}, static_cast<double>(count));
    }
    // One info series for every host in "other", however many attributes
    // they have between them.
    Labels info_labels = FoldedLabels(entry.info, folder);
    if (host_name != host.agent_id) {
      for (auto& [name, value] : info_labels) value = kFoldedLabelValue;
    }
    info_labels["host"] = host_name;
    info.Add(std::move(info_labels), 1);
    for (const store::CheckerHealth& checker : host.checkers) {
      const Labels labels = {{"host", host_name},
                             {"checker", folder.Fold("checker", checker.checker)},
                             {"target", folder.Fold("target", checker.target)}};
      checker_failing.Add(labels, checker.consecutive_failures > 0 ? 1 : 0);
      checker_failed_steps.Add(labels, static_cast<double>(checker.failed_steps));
    }
  }

  MetricFamily up_family =
      Family("fscanary_host_up", "1 while the host's agent has a stream open.", MetricType::kGauge);
  std::move(up).AppendTo(up_family);
  MetricFamily last_seen_family =
      Family("fscanary_host_last_seen_timestamp_seconds",
             "When the collector last heard from the host's agent.", MetricType::kGauge);
  std::move(last_seen).AppendTo(last_seen_family);
  MetricFamily last_verified_family =
      Family("fscanary_host_last_verified_timestamp_seconds",
             "End of the host's newest report that verified bytes (0: never).", MetricType::kGauge);
  std::move(last_verified).AppendTo(last_verified_family);
  MetricFamily host_findings_family =
      Family("fscanary_host_findings_total",
             "Corruption findings of the host (all corruption kinds), 0 from when it registers.",
             MetricType::kCounter);
  std::move(host_findings).AppendTo(host_findings_family);
  MetricFamily last_finding_family =
      Family("fscanary_host_last_finding_timestamp_seconds",
             "When the collector received the host's newest corruption finding (0: none).",
             MetricType::kGauge);
  std::move(last_finding).AppendTo(last_finding_family);
  MetricFamily spool_family =
      Family("fscanary_host_spool_records",
             "Records the host's agent holds unacknowledged, as it last said.", MetricType::kGauge);
  std::move(spool).AppendTo(spool_family);
  MetricFamily spool_lost_family = Family(
      "fscanary_host_spool_lost_records_total",
      "Records the host's spool could not keep, by what happened to them.", MetricType::kCounter);
  std::move(spool_lost).AppendTo(spool_lost_family);
  MetricFamily info_family =
      Family("fscanary_host_info", "1 per host, labelled with the attributes of its current epoch.",
             MetricType::kGauge);
  std::move(info).AppendTo(info_family);
  MetricFamily checker_failing_family =
      Family("fscanary_host_checker_failing",
             "1 while the checker's steps keep failing (its newest report ended on a failed "
             "step): it verifies nothing there.",
             MetricType::kGauge);
  std::move(checker_failing).AppendTo(checker_failing_family);
  MetricFamily checker_failed_steps_family = Family(
      "fscanary_host_checker_failed_steps_total",
      "Steps of the checker that failed (the step itself, not a finding).", MetricType::kCounter);
  std::move(checker_failed_steps).AppendTo(checker_failed_steps_family);
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
  MetricFamily by_attributes_family = Family(
      "fscanary_hosts_by_attributes",
      "Hosts known and not expired, by the attributes of their current epoch.", MetricType::kGauge);
  std::move(by_attributes).AppendTo(by_attributes_family);
  MetricFamily watched_family =
      Family("fscanary_hosts_watched",
             "Hosts exported with per-host series, by why (a host may have several reasons).",
             MetricType::kGauge);
  for (const auto& [reason, name] : kWatchReasonNames) {
    AddSeries(watched_family, {{"reason", std::string(name)}},
              static_cast<double>(watched_by_reason[name]));
  }
  MetricFamily spooled_family =
      Family("fscanary_agents_spool_records",
             "Records the agents hold unacknowledged, as they last said, summed over hosts.",
             MetricType::kGauge);
  AddSeries(spooled_family, {}, static_cast<double>(spooled_records));

  HostSeries result;
  for (MetricFamily* family :
       {&up_family, &last_seen_family, &last_verified_family, &host_findings_family,
        &last_finding_family, &spool_family, &spool_lost_family, &info_family,
        &checker_failing_family, &checker_failed_steps_family, &hosts_family, &connected_family,
        &stale_family, &by_attributes_family, &watched_family, &spooled_family}) {
    result.families.push_back(std::move(*family));
  }
  result.folded_label_values = folder.FoldedCounts();
  return result;
}

std::vector<MetricFamily> FleetMetrics::Collect() const {
  std::vector<MetricFamily> families;
  std::map<std::string, uint64_t> folded;
  if (absl::StatusOr<HostSeries> hosts = HostFamilies(); hosts.ok()) {
    families = std::move(hosts->families);
    folded = std::move(hosts->folded_label_values);
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
    // The same label folds in the per-host series and in the aggregates (over
    // every epoch); the larger count stands for both.
    for (const auto& [label, count] : aggregates->folded_label_values) {
      folded[label] = std::max(folded[label], count);
    }
  }
  MetricFamily folded_family =
      Family("fscanary_collector_label_values_folded",
             "Distinct values of a label derived from agents' data shown as \"other\": beyond "
             "the label's limit of values, too long, or with characters outside the label set.",
             MetricType::kGauge);
  for (const char* label : kAgentDerivedLabels) {
    const auto it = folded.find(label);
    AddSeries(folded_family, {{"label", label}},
              it == folded.end() ? 0 : static_cast<double>(it->second));
  }
  families.push_back(std::move(folded_family));
  return families;
}

}  // namespace fscanary::collector
