#include "collector/service/analysis_cache.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "collector/analysis/analysis.h"
#include "collector/analysis/analyze_output.h"
#include "collector/fleet/known_bug_exposure.h"
#include "common/status.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {
namespace {

absl::StatusOr<analysis::AnalysisOptions> AnalysisOptionsOf(const v1::AnalyzeRequest& request) {
  analysis::AnalysisOptions options;
  if (!request.kind().empty()) options.kind = request.kind();
  if (request.max_order() != 0) {
    if (request.max_order() > 4) return absl::InvalidArgumentError("max_order must be 1 to 4");
    options.max_order = static_cast<int>(request.max_order());
  }
  if (request.min_events() != 0) options.min_events = request.min_events();
  if (request.min_hosts() != 0) options.min_event_hosts = request.min_hosts();
  if (request.min_epochs() != 0) options.min_epochs = request.min_epochs();
  if (request.min_support() != 0) {
    if (!(request.min_support() > 0 && request.min_support() < 1)) {
      return absl::InvalidArgumentError("min_support must be in (0, 1)");
    }
    options.min_support = request.min_support();
  }
  if (request.top() != 0) {
    if (request.top() > 1000) return absl::InvalidArgumentError("top must be 1 to 1000");
    options.max_suspects = request.top();
  }
  if (request.alpha() != 0) {
    if (!(request.alpha() >= 1e-12 && request.alpha() <= 0.5)) {
      return absl::InvalidArgumentError("alpha must be in [1e-12, 0.5]");
    }
    options.productive_alpha = request.alpha();
  }
  if (request.exposure() == "seconds") {
    options.exposure = analysis::ExposureUnit::kSeconds;
  } else if (!request.exposure().empty() && request.exposure() != "bytes") {
    return absl::InvalidArgumentError("exposure must be \"bytes\" or \"seconds\"");
  }
  return options;
}

std::string Key(const v1::AnalyzeRequest& request) {
  std::string key;
  request.SerializePartialToString(&key);
  return key;
}

}  // namespace

AnalysisCache::AnalysisCache(store::Store& store, metrics::Registry& registry,
                             AnalysisCacheOptions options)
    : store_(store), options_(options) {
  absl::StatusOr<metrics::Family<metrics::Counter>*> family = registry.AddCounter(
      "fscanary_collector_analyses_computed_total",
      "Correlation analyses computed for Analyze queries (the rest were served from a result "
      "computed in the same interval).");
  absl::StatusOr<metrics::Counter*> counter =
      family.ok() ? (*family)->Add({}) : absl::StatusOr<metrics::Counter*>(family.status());
  if (!counter.ok()) {
    // The name is a constant of this file: a failure is a programming error.
    spdlog::critical("metric registration failed: {}", counter.status().ToString());
    std::abort();
  }
  computed_ = *counter;
}

absl::StatusOr<std::shared_ptr<const AnalysisCache::FleetRead>> AnalysisCache::Fleet(
    std::chrono::steady_clock::time_point now) {
  if (fleet_ != nullptr && now - fleet_read_ < options_.interval) return fleet_;
  ASSIGN_OR_RETURN(std::vector<store::EpochRecord> epochs, store_.ListEpochs());
  ASSIGN_OR_RETURN(fleet::BuiltFleet built, fleet::BuildFleet(epochs));
  fleet_ = std::make_shared<const FleetRead>(
      FleetRead{.epochs = std::move(epochs), .built = std::move(built)});
  fleet_read_ = now;
  return fleet_;
}

absl::StatusOr<v1::KnownBugsResponse> AnalysisCache::KnownBugs() {
  constexpr size_t kMaxHostsPerBug = 1000;
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (known_bugs_ && now - known_bugs_computed_ < options_.interval) return *known_bugs_;
  ASSIGN_OR_RETURN(const std::shared_ptr<const FleetRead> read, Fleet(now));
  v1::KnownBugsResponse response;
  for (const fleet::KnownBugExposure& exposure : fleet::KnownBugExposureOf(read->epochs)) {
    v1::KnownBugExposure& bug = *response.add_bugs();
    bug.set_bug(std::string(exposure.bug->id));
    bug.set_title(std::string(exposure.bug->title));
    bug.set_fix_commit(std::string(exposure.bug->fix_commit));
    for (const knownbugs::Source& source : exposure.bug->sources) {
      bug.add_sources(absl::StrCat(std::string(source.kind), ": ", std::string(source.reference)));
    }
    bug.set_affected(exposure.affected);
    bug.set_possibly_affected(exposure.possibly_affected);
    for (size_t i = 0; i < exposure.hosts.size() && i < kMaxHostsPerBug; ++i) {
      const fleet::KnownBugHost& match = exposure.hosts[i];
      v1::KnownBugHost& host = *bug.add_hosts();
      host.set_agent_id(match.agent_id);
      host.set_verdict(match.verdict == knownbugs::Verdict::kAffected ? "affected"
                                                                      : "possibly_affected");
      for (const std::string& why : match.why) host.add_why(why);
    }
  }
  response.set_computed_unix_nanos(static_cast<int64_t>(io::WallClockNanos()));
  known_bugs_ = response;
  known_bugs_computed_ = now;
  return response;
}

absl::StatusOr<v1::AnalyzeResponse> AnalysisCache::Analyze(const v1::AnalyzeRequest& request) {
  ASSIGN_OR_RETURN(const analysis::AnalysisOptions options, AnalysisOptionsOf(request));
  const std::string key = Key(request);
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (now - it->second.computed < options_.interval) return it->second.response;
    entries_.erase(it);
  }
  ASSIGN_OR_RETURN(const std::shared_ptr<const FleetRead> read, Fleet(now));
  const fleet::BuiltFleet* built = &read->built;
  // As `fscanary analyze --input` does: the suspects, then fix confirmation
  // for every change of attributes between a host's epochs.
  ASSIGN_OR_RETURN(analysis::AnalyzeOutcome outcome,
                   analysis::AnalyzeWithChanges(built->fleet, options));
  computed_->Increment();
  analysis::AnalysisResult& result = outcome.result;
  for (analysis::Suspect& suspect : result.suspects) {
    for (const std::string& line : fleet::KnownBugsOfSuspect(suspect, read->epochs)) {
      absl::StrAppend(&suspect.explanation, suspect.explanation.empty() ? "" : " ",
                      "Known bug: ", line, ".");
    }
  }
  v1::AnalyzeResponse response;
  response.set_report(request.json() ? analysis::FormatAnalyzeJson(outcome)
                                     : analysis::FormatAnalyzeText(outcome));
  for (const std::string& note : result.notes) response.add_notes(note);
  for (const std::string& skipped : built->skipped) {
    response.add_notes("left out of the analysis: " + skipped);
  }
  response.set_hosts(result.hosts);
  response.set_epochs(result.epochs);
  response.set_events(result.events);
  response.set_computed_unix_nanos(static_cast<int64_t>(io::WallClockNanos()));
  while (!entries_.empty() && entries_.size() >= options_.max_entries) {
    auto oldest = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.computed < oldest->second.computed) oldest = it;
    }
    entries_.erase(oldest);
  }
  entries_[key] = Entry{.computed = now, .response = response};
  return response;
}

}  // namespace fscanary::collector
