// Shared by the end-to-end tests: the daemons on loopback, their clients, corruption.
#pragma once
// fscanary-collector and fscanary-agent run as daemons on 127.0.0.1 only with
// their logs in files; the collector's Query service and /metrics are read from
// outside; blocks of the agent's scratch target are corrupted behind its back.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fscanary/v1/query.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/run_process.h"
#include "tests/temp_dir.h"

namespace fscanary::e2e {

using namespace std::chrono_literals;

// The agent's scratch target: 16 MiB of 4096-byte blocks after the label. Its
// first write round (64 blocks) runs at start; the next only after an hour,
// so no later write of the agent's can undo a corruption a test injects.
inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint64_t kTargetSize = uint64_t{16} << 20;
inline constexpr char kTargetName[] = "scratch";
// Every written block is scrubbed (read back and checked) this often.
inline constexpr auto kScrubInterval = 2s;

// How long a test waits for what should take a few seconds (a daemon
// starting, a scrub finding a corruption, a record reaching the collector);
// generous because the machine may be busy.
inline constexpr auto kEventTimeout = 30s;

// Polls `condition` every `interval` until it holds; false if it still does
// not after `timeout`. The condition is checked once more at the deadline.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = 100ms);

// A daemon started for a test: stdout and stderr go to a log file, so a long
// run never blocks on a full pipe and the test can read the log while it runs.
// Killed (SIGKILL) on destruction if still running.
class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Start(const std::vector<std::string>& argv,
                                                       const std::string& log_path);

  pid_t pid() const { return child_.pid(); }
  const std::string& log_path() const { return log_path_; }
  // Everything logged so far.
  std::string Log() const;
  // Waits until the log matches `pattern` (ECMAScript); returns the first
  // capture group (the whole match if there is none). Nullopt at the timeout,
  // or at once if the daemon ended.
  std::optional<std::string> WaitForLog(const std::string& pattern,
                                        std::chrono::milliseconds timeout);
  bool running();
  void Signal(int signal);
  // Waits for the daemon to end; nullopt if it still runs after `timeout`.
  std::optional<testing::ProcessResult> WaitForExit(std::chrono::milliseconds timeout);

 private:
  Daemon(testing::Child child, std::string log_path)
      : child_(std::move(child)), log_path_(std::move(log_path)) {}

  testing::Child child_;
  std::string log_path_;
};

// absl::Status of a gRPC status (the codes are the same numbers).
absl::Status FromGrpc(const grpc::Status& status);

// The operator token the collector of a test accepts for queries on its
// listener (its operator_tokens_file names it "e2e-operator").
inline constexpr char kOperatorToken[] = "e2e-operator-token-0123456789abcdef";

// Where a test's collector stores what it ingests (store.backend).
enum class Backend { kSqlite, kPostgres };

// "sqlite" or "postgres": the suffix of a parameterized test's name.
std::string BackendName(Backend backend);
std::string BackendTestName(const ::testing::TestParamInfo<Backend>& info);

struct CollectorOptions {
  // The ingest and query port; 0: one the kernel picks (read from the log).
  int port = 0;
  // Empty: SQLite in the state directory. Otherwise store.backend: postgres
  // with this libpq connection string and a store.postgres.password_file.
  std::string postgres_dsn;
  // Write an operator_tokens_file holding kOperatorToken into the config (the
  // Query calls below send it); false: the test configures operators itself.
  bool operator_tokens = true;
  // Top-level YAML appended to the config (tokens_file, limits, ...).
  std::string extra_yaml;
};

// fscanary-collector with its state under `dir`/collector (kept across
// restarts in the same `dir`), its metrics on a port of its own choosing.
class Collector {
 public:
  // Writes the config, starts the daemon and waits until it serves.
  static absl::StatusOr<std::unique_ptr<Collector>> Start(const std::string& dir,
                                                          const CollectorOptions& options = {});

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  Daemon& daemon() { return *daemon_; }

  // The Query service on the listener, as the operator (each call: a 10 s
  // deadline, kOperatorToken).
  absl::StatusOr<v1::ListHostsResponse> ListHosts() const;
  absl::StatusOr<std::vector<v1::StoredFinding>> ListFindings(const std::string& agent_id) const;
  absl::StatusOr<v1::GetHostResponse> GetHost(const std::string& agent_id) const;
  // The host's summary from ListHosts; nullopt if not (yet) listed or on error.
  std::optional<v1::HostSummary> FindHost(const std::string& agent_id) const;

  // The body of GET /metrics.
  absl::StatusOr<std::string> ScrapeMetrics() const;

  // Closes this test's Query connection. gRPC polls an idle client channel
  // only while it has a call, so the collector's GOAWAY at shutdown would go
  // unanswered and hold the collector for its whole shutdown grace (5 s): a
  // stop test closes it first to time the collector, not this client.
  void CloseQueryConnection();

 private:
  Collector() = default;

  std::unique_ptr<Daemon> daemon_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Query::Stub> query_;
};

struct AgentOptions {
  std::string agent_id = "e2e-agent";
  // host:port of the collector.
  std::string collector_address;
  // Several collectors (collector.addresses), in failover order; when not
  // empty, collector_address is not used.
  std::vector<std::string> collector_addresses;
  // A file holding the agent's token; empty: none.
  std::string token_file;
  // Off unless a test is about it: the machine's kernel log (its boot
  // backlog, lines other tests write) would add findings to exact counts.
  bool kernel_log = false;
  // The checkers of the scratch file target, and its size.
  std::string checkers = "[block]";
  uint64_t target_size = kTargetSize;
  // Added to the agent's targets list as is (YAML list items, 2-space indent).
  std::string extra_targets_yaml;
  // Added to the agent's budget section as is (keys at a 2-space indent).
  std::string budget_yaml;
  // Top-level YAML added to the agent's config (metrics, ...).
  std::string extra_yaml;
};

// `fscanary-agent run` with its state and scratch target under `dir`/agent.
class Agent {
 public:
  static absl::StatusOr<std::unique_ptr<Agent>> Start(const std::string& dir,
                                                      const AgentOptions& options);

  const std::string& agent_id() const { return agent_id_; }
  const std::string& target() const { return target_; }
  // The agent's home directory: its state, target and config are under it.
  const std::string& home() const { return home_; }
  const std::string& state_dir() const { return state_dir_; }
  Daemon& daemon() { return *daemon_; }

 private:
  Agent() = default;

  std::string agent_id_;
  std::string target_;
  std::string home_;
  std::string state_dir_;
  std::unique_ptr<Daemon> daemon_;
};

// One sample of a Prometheus text exposition.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::vector<Sample> ParseExposition(std::string_view text);

// The value of the first sample named `name` whose labels include `labels`;
// nullopt if there is none.
std::optional<double> SampleValue(std::string_view exposition, std::string_view name,
                                  const std::map<std::string, std::string>& labels = {});
// The sum of every sample named `name` whose labels include `labels`; 0 if
// there is none.
double SampleSum(std::string_view exposition, std::string_view name,
                 const std::map<std::string, std::string>& labels = {});

// GET `path` from 127.0.0.1:`port` (HTTP/1.0); the body of a 200 answer.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

// Blocks of the agent's target that hold a durable generation (read from the
// agent's state file under `agent_state_dir`).
absl::StatusOr<std::vector<uint64_t>> DurableBlocks(const std::string& agent_state_dir);

// Flips payload bytes of sector 1 of `block` behind the agent's back (O_DIRECT
// read, modify, write, fdatasync): a checksum mismatch. Returns the block's
// byte offset in the target, as findings report it.
absl::StatusOr<uint64_t> CorruptPayload(const std::string& target, uint64_t block);

// Evidence directories the agent saved for the block at `offset`: one per
// time a pass found it bad.
int EvidenceCount(const std::string& agent_state_dir, uint64_t offset);

// The mount (point and filesystem type, from /proc/self/mountinfo) that holds `path`.
struct Mount {
  std::string mount_point;
  std::string fs_type;
};
absl::StatusOr<Mount> MountOf(const std::string& path);

// A fresh database on the PostgreSQL server of the test run (the ctest
// fixture `postgres`, else one this process starts); its connection string.
absl::StatusOr<std::string> CreatePostgresDatabase();
// The rows of `sql` in the database `dsn` names, each value as text.
absl::StatusOr<std::vector<std::vector<std::string>>> QueryPostgres(const std::string& dsn,
                                                                    const std::string& sql);

// A collector and an agent in one scratch directory; on failure the test's
// output ends with the tail of every daemon log. The collector stores in
// `backend_` (SQLite unless a test sets it; BackendE2eTest runs each test on
// both), one fresh PostgreSQL database per test, kept across restarts.
class E2eTest : public ::testing::Test {
 protected:
  // Checks that what the test's collectors stored is in the backend the test
  // chose, and nowhere else; then, on failure, prints the daemon logs.
  void TearDown() override;

  // Starts the collector (ASSERT-style: fails the test on error) on the
  // test's backend.
  void StartCollector(const CollectorOptions& options = {});
  // The test's PostgreSQL database (created at the first call).
  const std::string& PostgresDsn();
  // Starts an agent reporting to the running collector.
  void StartAgent(AgentOptions options = {});
  // Waits until the host is connected and has verified bytes.
  void WaitUntilVerifying(const std::string& agent_id);

  Backend backend_ = Backend::kSqlite;
  testing::TempDir dir_;
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<Agent> agent_;

 private:
  // Hosts stored in the chosen backend, and no SQLite file beside PostgreSQL.
  void ExpectStoredInBackend();

  std::string postgres_dsn_;
};

// An E2eTest fixture on the backend of the test's parameter: instantiate
// with INSTANTIATE_TEST_SUITE_P(Backends, Suite, kBothBackends, BackendTestName).
template <typename Fixture>
class OnBackend : public Fixture, public ::testing::WithParamInterface<Backend> {
 protected:
  OnBackend() { this->backend_ = this->GetParam(); }
};
using BackendE2eTest = OnBackend<E2eTest>;
inline const auto kBothBackends = ::testing::Values(Backend::kSqlite, Backend::kPostgres);

}  // namespace fscanary::e2e
