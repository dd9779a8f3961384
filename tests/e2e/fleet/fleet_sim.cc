// The simulated fleet of fleet_sim.h: per agent a spool, a sender and a thread that appends.
#include "tests/e2e/fleet/fleet_sim.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "fscanary/v1/ingest.pb.h"
#include "io/posix.h"
#include "nlohmann/json.hpp"

namespace fscanary::e2e {
namespace {

constexpr int64_t kSecondNanos = 1'000'000'000;
constexpr v1::FindingKind kKinds[] = {
    v1::CHECKSUM_MISMATCH, v1::MISDIRECTED_WRITE, v1::LOST_WRITE, v1::TORN_WRITE, v1::ZEROED,
    v1::FOREIGN_DATA};

// Folds interval reports into one, as the agent's summariser does. The fleet
// never wants it to run: a summary counts as loss in the kill test.
std::string SumReports(std::span<const spool::Record> routine) {
  v1::AgentMessage sum;
  v1::IntervalReport* report = sum.mutable_report();
  v1::CheckerInterval* total = report->add_checkers();
  uint32_t represented = 0;
  for (const spool::Record& record : routine) {
    v1::AgentMessage message;
    if (!message.ParseFromString(record.payload) || !message.has_report()) continue;
    const v1::IntervalReport& part = message.report();
    if (report->start_unix_nanos() == 0) report->set_start_unix_nanos(part.start_unix_nanos());
    report->set_end_unix_nanos(std::max(report->end_unix_nanos(), part.end_unix_nanos()));
    sum.set_created_unix_nanos(std::max(sum.created_unix_nanos(), message.created_unix_nanos()));
    for (const v1::CheckerInterval& checker : part.checkers()) {
      total->set_checker(checker.checker());
      total->set_target(checker.target());
      total->set_bytes_verified(total->bytes_verified() + checker.bytes_verified());
      total->set_blocks_verified(total->blocks_verified() + checker.blocks_verified());
    }
    represented += std::max<uint32_t>(part.summarised_reports(), 1);
  }
  report->set_summarised_reports(represented);
  return sum.SerializeAsString();
}

}  // namespace

std::string AgentId(int index) { return absl::StrFormat("fleet-%04d", index); }

uint64_t FleetResult::appended() const {
  uint64_t total = 0;
  for (const AgentResult& agent : agents) total += agent.appended();
  return total;
}

uint64_t FleetResult::acknowledged() const {
  uint64_t total = 0;
  for (const AgentResult& agent : agents) total += agent.acknowledged;
  return total;
}

uint64_t FleetResult::losses() const {
  uint64_t total = 0;
  for (const AgentResult& agent : agents) total += agent.losses();
  return total;
}

std::string FleetResult::ToJson() const {
  nlohmann::ordered_json per_agent = nlohmann::ordered_json::array();
  nlohmann::ordered_json losses = {{"reports_summarised", 0},
                                   {"reports_dropped", 0},
                                   {"findings_dropped", 0},
                                   {"damaged_records_skipped", 0}};
  for (const AgentResult& agent : agents) {
    std::vector<uint64_t> all = agent.report_sequences;
    all.insert(all.end(), agent.finding_sequences.begin(), agent.finding_sequences.end());
    const auto [first, last] = std::minmax_element(all.begin(), all.end());
    per_agent.push_back({{"agent_id", agent.agent_id},
                         {"appended", agent.appended()},
                         {"reports", agent.report_sequences.size()},
                         {"findings", agent.finding_sequences.size()},
                         {"first_sequence", all.empty() ? 0 : *first},
                         {"last_sequence", all.empty() ? 0 : *last},
                         {"acknowledged", agent.acknowledged},
                         {"unacknowledged", agent.spool.records},
                         {"spool_losses", agent.losses()}});
    losses["reports_summarised"] =
        losses["reports_summarised"].get<uint64_t>() + agent.spool.reports_summarised;
    losses["reports_dropped"] =
        losses["reports_dropped"].get<uint64_t>() + agent.spool.reports_dropped;
    losses["findings_dropped"] =
        losses["findings_dropped"].get<uint64_t>() + agent.spool.findings_dropped;
    losses["damaged_records_skipped"] =
        losses["damaged_records_skipped"].get<uint64_t>() + agent.spool.damaged_records_skipped;
  }
  const double seconds = elapsed.count();
  const nlohmann::ordered_json summary = {
      {"agents", agents.size()},
      {"appended", appended()},
      {"acknowledged", acknowledged()},
      {"elapsed_seconds", seconds},
      {"append_seconds", append_elapsed.count()},
      {"records_per_second", seconds > 0 ? static_cast<double>(appended()) / seconds : 0.0},
      {"spool_losses", losses},
      {"per_agent", per_agent}};
  return summary.dump(2);
}

struct Fleet::Agent {
  int index = 0;
  std::string id;
  std::unique_ptr<spool::Spool> spool;
  std::unique_ptr<transport::Sender> sender;
  std::thread appender;
  // Written by the appender thread only; read once it was joined.
  AgentResult result;
  absl::Status error;
  std::chrono::steady_clock::time_point appended_at;
  std::atomic<bool> done{false};
};

Fleet::Fleet(FleetOptions options) : options_(std::move(options)) {}

Fleet::~Fleet() {
  stopping_ = true;
  for (const std::unique_ptr<Agent>& agent : agents_) {
    if (agent->appender.joinable()) agent->appender.join();
  }
  for (const std::unique_ptr<Agent>& agent : agents_) {
    if (agent->sender != nullptr) agent->sender->Stop();
  }
}

absl::StatusOr<std::unique_ptr<Fleet>> Fleet::Start(const FleetOptions& options) {
  if (options.agents < 1 || options.agents > 9999) {
    return absl::InvalidArgumentError(absl::StrCat("agents must be 1-9999, not ", options.agents));
  }
  if (options.directory.empty()) return absl::InvalidArgumentError("no spool directory given");
  if (options.rate < 0) return absl::InvalidArgumentError("rate must not be negative");
  if (options.finding_fraction < 0 || options.finding_fraction > 1) {
    return absl::InvalidArgumentError("finding_fraction must be between 0 and 1");
  }
  std::error_code error;
  std::filesystem::create_directories(options.directory, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", options.directory, ": ", error.message()));
  }
  std::unique_ptr<Fleet> fleet(new Fleet(options));
  for (int i = 1; i <= options.agents; ++i) {
    auto agent = std::make_unique<Agent>();
    agent->index = i;
    agent->id = AgentId(i);
    agent->result.agent_id = agent->id;
    spool::SpoolOptions spool_options{.directory = options.directory + "/" + agent->id,
                                      .max_bytes = options.spool_max_bytes};
    absl::StatusOr<std::unique_ptr<spool::Spool>> opened =
        spool::Spool::Open(spool_options, SumReports);
    if (!opened.ok()) {
      return absl::Status(opened.status().code(),
                          absl::StrCat("spool of ", agent->id, ": ", opened.status().message()));
    }
    agent->spool = *std::move(opened);
    fleet->agents_.push_back(std::move(agent));
  }
  fleet->start_ = std::chrono::steady_clock::now();
  for (const std::unique_ptr<Agent>& agent : fleet->agents_) {
    spool::Spool& agent_spool = *agent->spool;
    const std::string id = agent->id;
    const int index = agent->index;
    transport::HelloBuilder hello = [&agent_spool, id, index] {
      v1::Hello message;
      message.set_agent_id(id);
      message.set_agent_version("fleet-ingest");
      message.mutable_facts()->set_hostname(absl::StrCat("fleet-host-", index));
      message.mutable_facts()->set_kernel_release(index % 2 == 0 ? "6.1.0-fleet" : "6.8.0-fleet");
      const spool::SpoolStats stats = agent_spool.Stats();
      message.set_spooled_records(stats.records);
      message.set_spooled_bytes(stats.bytes);
      return message;
    };
    transport::SenderOptions sender_options{.address = options.collector,
                                            .backoff_initial_ms = options.backoff_initial_ms,
                                            .backoff_max_ms = options.backoff_max_ms,
                                            .heartbeat_interval_ms = options.heartbeat_interval_ms};
    agent->sender =
        std::make_unique<transport::Sender>(sender_options, agent_spool, std::move(hello));
    agent->sender->Start();
  }
  for (const std::unique_ptr<Agent>& agent : fleet->agents_) {
    Agent* raw = agent.get();
    ++fleet->appenders_running_;
    agent->appender = std::thread([fleet_ptr = fleet.get(), raw] { fleet_ptr->AppendLoop(*raw); });
  }
  return fleet;
}

void Fleet::AppendLoop(Agent& agent) {
  std::mt19937_64 random(options_.seed * 1'000'003 + static_cast<uint64_t>(agent.index));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<uint64_t> bytes(4096, uint64_t{64} << 20);
  using Clock = std::chrono::steady_clock;
  const auto period = options_.rate > 0 ? std::chrono::duration<double>(1.0 / options_.rate)
                                        : std::chrono::duration<double>(0);
  // Agents start at different offsets within one period, as a real fleet would.
  const Clock::time_point first =
      start_ + std::chrono::duration_cast<Clock::duration>(period * unit(random));
  for (uint64_t i = 0; i < options_.records && !stopping_; ++i) {
    if (options_.rate > 0) {
      std::this_thread::sleep_until(
          first + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(i)));
    }
    const int64_t now = static_cast<int64_t>(io::WallClockNanos());
    v1::AgentMessage message;
    message.set_created_unix_nanos(now);
    const bool finding = unit(random) < options_.finding_fraction;
    uint64_t verified = 0;
    if (finding) {
      v1::Finding* found = message.mutable_finding();
      found->set_checker("fleet");
      found->set_target("fleet-target");
      found->set_target_path("/var/lib/fscanary/fleet-target");
      found->set_target_id("00000000000000ff");
      found->set_kind(kKinds[random() % std::size(kKinds)]);
      found->set_block_size(4096);
      found->set_offset((random() % (uint64_t{1} << 20)) * 4096);
      found->set_bytes_read(4096);
      found->set_detected_unix_nanos(now);
      found->set_engine("psync");
      found->set_evidence_summary(absl::StrCat("simulated finding of ", agent.id, " #", i));
    } else {
      verified = bytes(random);
      v1::IntervalReport* report = message.mutable_report();
      report->set_start_unix_nanos(now - kSecondNanos);
      report->set_end_unix_nanos(now);
      v1::CheckerInterval* checker = report->add_checkers();
      checker->set_checker("fleet");
      checker->set_target("fleet-target");
      checker->set_bytes_verified(verified);
      checker->set_blocks_verified(verified / 4096);
    }
    absl::StatusOr<uint64_t> sequence =
        agent.spool->Append(finding ? spool::RecordClass::kFinding : spool::RecordClass::kRoutine,
                            message.SerializeAsString());
    if (!sequence.ok()) {
      agent.error = absl::Status(
          sequence.status().code(),
          absl::StrCat(agent.id, ": append ", i, " failed: ", sequence.status().message()));
      break;
    }
    (finding ? agent.result.finding_sequences : agent.result.report_sequences).push_back(*sequence);
    agent.result.bytes_verified += verified;
  }
  agent.appended_at = Clock::now();
  agent.done = true;
  --appenders_running_;
}

bool Fleet::appending_done() const { return appenders_running_.load() == 0; }

uint64_t Fleet::Backlog() const {
  uint64_t records = 0;
  for (const std::unique_ptr<Agent>& agent : agents_) records += agent->spool->Stats().records;
  return records;
}

absl::StatusOr<FleetResult> Fleet::Finish(std::chrono::steady_clock::time_point deadline) {
  using Clock = std::chrono::steady_clock;
  // Polls: neither the spool nor the sender signals "everything acknowledged".
  constexpr auto kPoll = std::chrono::milliseconds(20);
  Clock::time_point drained_at;
  while (true) {
    if (appending_done() && Backlog() == 0) {
      drained_at = Clock::now();
      break;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  const bool drained = drained_at != Clock::time_point();
  stopping_ = true;
  FleetResult result;
  Clock::time_point appended_at = start_;
  std::vector<std::string> holding;
  absl::Status first_error;
  for (const std::unique_ptr<Agent>& agent : agents_) {
    if (agent->appender.joinable()) agent->appender.join();
    agent->sender->Stop();
    agent->result.acknowledged = agent->sender->acknowledged();
    agent->result.spool = agent->spool->Stats();
    appended_at = std::max(appended_at, agent->appended_at);
    if (agent->result.spool.records > 0) {
      holding.push_back(absl::StrCat(agent->id, " (", agent->result.spool.records, ")"));
    }
    if (first_error.ok() && !agent->error.ok()) first_error = agent->error;
    result.agents.push_back(agent->result);
  }
  result.elapsed = (drained ? drained_at : Clock::now()) - start_;
  result.append_elapsed = appended_at - start_;
  if (!first_error.ok()) return first_error;
  if (!drained) {
    if (holding.size() > 10) holding.resize(10);
    return absl::DeadlineExceededError(absl::StrCat("after ", result.elapsed.count(),
                                                    " s, agents still hold unacknowledged ",
                                                    "records: ", absl::StrJoin(holding, ", ")));
  }
  return result;
}

}  // namespace fscanary::e2e
