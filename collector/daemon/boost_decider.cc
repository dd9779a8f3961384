#include "collector/daemon/boost_decider.h"

#include <algorithm>
#include <cstdlib>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collector/fleet/host_attributes.h"
#include "common/status.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {
namespace {

constexpr double kNanosPerSecond = 1e9;

// Each host's newest epoch, as the policy sees the fleet.
class StoredFleetNow final : public adaptive::FleetNow {
 public:
  struct Host {
    std::string agent_id;
    std::map<std::string, std::string, std::less<>> attributes;
    double baseline_io = 0;
  };
  explicit StoredFleetNow(std::vector<Host> hosts) : hosts_(std::move(hosts)) {}

  size_t host_count() const override { return hosts_.size(); }
  double baseline_io(size_t host) const override { return hosts_[host].baseline_io; }
  std::optional<std::string_view> ValueOf(size_t host, std::string_view attribute) const override {
    const auto& attributes = hosts_[host].attributes;
    const auto it = attributes.find(attribute);
    if (it == attributes.end()) return std::nullopt;
    return it->second;
  }
  const std::string& agent_id(size_t host) const { return hosts_[host].agent_id; }

 private:
  std::vector<Host> hosts_;
};

// Bytes verified per second over the epoch: what the host does at the rate it
// ran at (a boosted epoch overstates it, which only makes the budget
// stricter). At least 1, so that a host not heard from yet can be boosted too.
double VerifiedPerSecond(const store::Exposure& exposure) {
  if (exposure.observed_nanos <= 0) return 1;
  return std::max(1.0, static_cast<double>(exposure.bytes_verified) /
                           (static_cast<double>(exposure.observed_nanos) / kNanosPerSecond));
}

// A host's baseline is what its agent says it verified: one agent reporting
// an enormous rate would grow the fleet's extra-I/O budget without bound (and,
// a victim itself, take the victims' share). No host counts for more than
// kMaxBaselineOverMedian times the fleet's median.
constexpr double kMaxBaselineOverMedian = 10;

void ClampBaselines(std::vector<StoredFleetNow::Host>& hosts) {
  if (hosts.empty()) return;
  std::vector<double> baselines;
  baselines.reserve(hosts.size());
  for (const StoredFleetNow::Host& host : hosts) baselines.push_back(host.baseline_io);
  const auto middle = baselines.begin() + static_cast<std::ptrdiff_t>(baselines.size() / 2);
  std::nth_element(baselines.begin(), middle, baselines.end());
  const double ceiling = kMaxBaselineOverMedian * *middle;
  for (StoredFleetNow::Host& host : hosts) host.baseline_io = std::min(host.baseline_io, ceiling);
}

// The one series of a family just added. The names are constants of this
// file: a failure is a programming error.
template <typename Metric>
Metric* OnlySeries(absl::StatusOr<metrics::Family<Metric>*> family) {
  absl::StatusOr<Metric*> series =
      family.ok() ? (*family)->Add({}) : absl::StatusOr<Metric*>(family.status());
  if (!series.ok()) {
    spdlog::critical("metric registration failed: {}", series.status().ToString());
    std::abort();
  }
  return *series;
}

// "lead kernel=4.19.2 ∧ scheduler=none on 40 hosts: boosted", for the log.
std::string DescribeLeads(const adaptive::Decision& decision) {
  if (decision.leads.empty()) return "no suspect";
  std::vector<std::string> leads;
  for (const adaptive::Lead& lead : decision.leads) {
    std::vector<std::string> values;
    for (const analysis::AttributeValue& value : lead.attributes) {
      values.push_back(value.attribute + "=" + value.value);
    }
    constexpr const char* kStates[] = {"boosted", "confirmed", "refuted", "faded"};
    leads.push_back(absl::StrCat("lead ", absl::StrJoin(values, " ∧ "), " on ", lead.hosts,
                                 " hosts: ", kStates[static_cast<int>(lead.state)]));
  }
  return absl::StrJoin(leads, "; ");
}

// The newest corruption finding among the newest findings stored, as
// "agent/sequence"; empty when there is none. Only a corruption decides
// anything: other findings (I/O errors, kernel reports) must not make every
// collector re-run the analysis at each poll.
absl::StatusOr<std::string> NewestCorruption(store::Store& store) {
  v1::ListFindingsRequest request;
  request.set_page_size(64);
  ASSIGN_OR_RETURN(const v1::ListFindingsResponse listed, store.ListFindings(request));
  for (const v1::StoredFinding& stored : listed.findings()) {
    if (!store::IsCorruption(stored.finding().kind())) continue;
    return stored.agent_id() + "/" + std::to_string(stored.sequence());
  }
  return std::string();
}

}  // namespace

absl::StatusOr<DecidedBoosts> DecideFromStore(store::Store& store, int64_t now_unix_nanos,
                                              const BoostDeciderOptions& options) {
  ASSIGN_OR_RETURN(const std::vector<store::EpochRecord> epochs, store.ListEpochs());
  ASSIGN_OR_RETURN(const fleet::BuiltFleet built, fleet::BuildFleet(epochs));
  ASSIGN_OR_RETURN(const analysis::AnalysisResult analysis,
                   analysis::AnalyzeFleet(built.fleet, options.analysis));

  // Each agent's newest epoch is the host as it is now.
  std::map<std::string, const store::EpochRecord*> newest;
  for (const store::EpochRecord& epoch : epochs) {
    const store::EpochRecord*& kept = newest[epoch.agent_id];
    if (kept == nullptr || epoch.epoch > kept->epoch) kept = &epoch;
  }
  std::vector<StoredFleetNow::Host> hosts;
  std::map<std::string, size_t> host_of;
  for (const auto& [agent_id, epoch] : newest) {
    StoredFleetNow::Host host{.agent_id = agent_id,
                              .baseline_io = VerifiedPerSecond(epoch->exposure)};
    for (auto& [name, value] : fleet::EpochAttributes(*epoch)) {
      host.attributes.emplace(std::move(name), std::move(value));
    }
    host_of[agent_id] = hosts.size();
    hosts.push_back(std::move(host));
  }
  ClampBaselines(hosts);
  const StoredFleetNow fleet_now(std::move(hosts));

  // Corruptions recent enough to matter to a victim or a lead, on the
  // collector's clock (when they arrived).
  const double window_s = std::max(options.policy.victim_window_s, options.policy.fade_after_s);
  std::vector<adaptive::Corruption> corruptions;
  v1::ListFindingsRequest request;
  request.set_since_unix_nanos(now_unix_nanos - static_cast<int64_t>(window_s * kNanosPerSecond));
  request.set_page_size(1000);
  while (true) {
    ASSIGN_OR_RETURN(const v1::ListFindingsResponse page, store.ListFindings(request));
    for (const v1::StoredFinding& stored : page.findings()) {
      if (!store::IsCorruption(stored.finding().kind())) continue;
      const auto host = host_of.find(stored.agent_id());
      if (host == host_of.end()) continue;  // a host without an epoch: nothing to boost
      corruptions.push_back(
          {.host = host->second,
           .time_s = static_cast<double>(stored.received_unix_nanos()) / kNanosPerSecond});
    }
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }

  DecidedBoosts decided;
  ASSIGN_OR_RETURN(decided.decision,
                   adaptive::DecideBoosts(fleet_now, corruptions, analysis,
                                          static_cast<double>(now_unix_nanos) / kNanosPerSecond,
                                          options.policy));
  for (size_t host = 0; host < fleet_now.host_count(); ++host) {
    if (decided.decision.factors[host] > 1) {
      decided.boosts[fleet_now.agent_id(host)] = decided.decision.factors[host];
    }
  }
  return decided;
}

BoostDecider::BoostDecider(store::Store& store, adaptive::HintBoard& board,
                           metrics::Registry& registry, BoostDeciderOptions options)
    : store_(store), board_(board), options_(std::move(options)) {
  boosted_ =
      OnlySeries(registry.AddGauge("fscanary_collector_adaptive_boosts",
                                   "Agents asked to verify faster now (adaptive verification)."));
  decisions_ =
      OnlySeries(registry.AddCounter("fscanary_collector_adaptive_decisions_total",
                                     "Times the adaptive-verification boosts were decided."));
  thread_ = std::thread([this] { Loop(); });
}

BoostDecider::~BoostDecider() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void BoostDecider::Decide() {
  const int64_t now = static_cast<int64_t>(io::WallClockNanos());
  absl::StatusOr<DecidedBoosts> decided = DecideFromStore(store_, now, options_);
  if (!decided.ok()) {
    spdlog::error("adaptive verification: {}", decided.status().ToString());
    return;
  }
  const uint64_t version = board_.version();
  board_.Publish(decided->boosts);
  decisions_->Increment();
  boosted_->Set(static_cast<double>(board_.boosts_in_force()));
  if (board_.version() != version) {
    const adaptive::Decision& decision = decided->decision;
    spdlog::info(
        "adaptive verification: {} agents boosted ({} victims, {} sharing a lead, {} "
        "neighbours), {:.1f}% extra verification I/O; {}",
        decided->boosts.size(), decision.victims_boosted, decision.sharers_boosted,
        decision.neighbours_boosted, 100 * decision.extra_io_share, DescribeLeads(decision));
  }
}

void BoostDecider::Loop() {
  using Clock = std::chrono::steady_clock;
  auto next_decision = Clock::now();
  // A decision reads every epoch and runs the analysis: corruptions arriving
  // one after another are decided on together, at most once per gap.
  const auto gap = std::min<Clock::duration>(std::chrono::minutes(1), options_.decide_interval);
  auto earliest_decision = Clock::now();
  std::string newest_seen;
  bool arrived = false;  // a corruption not decided on yet
  std::unique_lock lock(mutex_);
  while (!stop_) {
    lock.unlock();
    // A new finding is a newest one other than the last seen: one indexed
    // row per poll. One stored while a decision runs is seen at the next.
    if (absl::StatusOr<std::string> newest = NewestCorruption(store_); !newest.ok()) {
      spdlog::error("adaptive verification: {}", newest.status().ToString());
    } else if (*newest != newest_seen) {
      arrived = true;
      newest_seen = *std::move(newest);
    }
    const auto now = Clock::now();
    if ((arrived && now >= earliest_decision) || now >= next_decision) {
      Decide();
      arrived = false;
      next_decision = Clock::now() + options_.decide_interval;
      earliest_decision = Clock::now() + gap;
    }
    lock.lock();
    wake_.wait_for(lock, options_.poll_interval, [this] { return stop_; });
  }
}

}  // namespace fscanary::collector
