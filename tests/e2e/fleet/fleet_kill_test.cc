// The real collector is SIGKILLed repeatedly under a simulated fleet: nothing lost or duplicated.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "tests/e2e/fleet/fleet_sim.h"
#include "tests/temp_dir.h"

#ifndef FSCANARY_COLLECTOR
#error "FSCANARY_COLLECTOR must name the fscanary-collector binary"
#endif

namespace fscanary::e2e {
namespace {

using Clock = std::chrono::steady_clock;

// AgentMessage body numbers, as the records ledger stores them in `kind`.
constexpr int64_t kReportKind = 11;
constexpr int64_t kFindingKind = 12;

// The run's size, CI-sized by default; FSCANARY_FLEET_* override it (README.md).
struct Params {
  int agents = 50;
  uint64_t records = 2000;
  int kills = 10;
  int min_kill_delay_ms = 200;
  int max_kill_delay_ms = 1500;
  // Records per second per agent; negative: chosen so that appending outlasts
  // the kills (K x 4 s, at least 20 s: a kill takes at most 1.5 s plus a restart); 0: unpaced.
  double rate = -1;
  int timeout_s = 300;
  uint64_t seed = 0;
};

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

template <typename T>
void ReadEnv(const char* name, T& value) {
  const std::string text = Env(name);
  if (text.empty()) return;
  if constexpr (std::is_floating_point_v<T>) {
    if (!absl::SimpleAtod(text, &value)) ADD_FAILURE() << name << "=" << text << " is no number";
  } else {
    if (!absl::SimpleAtoi(text, &value)) ADD_FAILURE() << name << "=" << text << " is no integer";
  }
}

Params ParamsFromEnvironment() {
  Params params;
  ReadEnv("FSCANARY_FLEET_AGENTS", params.agents);
  ReadEnv("FSCANARY_FLEET_RECORDS", params.records);
  ReadEnv("FSCANARY_FLEET_KILLS", params.kills);
  ReadEnv("FSCANARY_FLEET_RATE", params.rate);
  ReadEnv("FSCANARY_FLEET_TIMEOUT_S", params.timeout_s);
  ReadEnv("FSCANARY_FLEET_SEED", params.seed);
  if (const std::string delays = Env("FSCANARY_FLEET_KILL_DELAY_MS"); !delays.empty()) {
    const std::vector<std::string> parts = absl::StrSplit(delays, '-');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &params.min_kill_delay_ms) ||
        !absl::SimpleAtoi(parts[1], &params.max_kill_delay_ms) ||
        params.min_kill_delay_ms > params.max_kill_delay_ms) {
      ADD_FAILURE() << "FSCANARY_FLEET_KILL_DELAY_MS=" << delays << " is not MIN-MAX";
    }
  }
  if (params.seed == 0) params.seed = std::random_device()();
  if (params.rate < 0) {
    const double append_seconds = std::max(20.0, 4.0 * params.kills);
    params.rate = static_cast<double>(params.records) / append_seconds;
  }
  return params;
}

// A port nobody listens on now (the kernel does not hand it out again soon).
absl::StatusOr<int> FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return absl::InternalError("bind/getsockname failed");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool Listening(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

// The collector's count of records it received again and did not store
// again (fscanary_collector_records_total{outcome="duplicate"}), from its
// metrics endpoint; nullopt if it cannot be read.
std::optional<uint64_t> ScrapeDuplicates(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A collector that stops answering must not hang the test.
  const timeval timeout{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      ssize_t got;
      while ((got = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) {
        response.append(buffer, static_cast<size_t>(got));
      }
    }
  }
  ::close(fd);
  constexpr std::string_view kSeries = "fscanary_collector_records_total{outcome=\"duplicate\"} ";
  const size_t at = response.find(kSeries);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + kSeries.size();
  double value = 0;
  if (!absl::SimpleAtod(response.substr(begin, response.find('\n', begin) - begin), &value)) {
    return std::nullopt;
  }
  return static_cast<uint64_t>(value);
}

std::string Tail(const std::string& path, size_t bytes = 4000) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  const std::string all = text.str();
  return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

// fscanary-collector --config <config>, stdout and stderr appended to a log
// file (a pipe nobody reads would fill up and stall it). Killed and reaped on
// destruction; dies with this thread (PR_SET_PDEATHSIG).
class Collector {
 public:
  Collector(std::string config, std::string log, int port, int metrics_port)
      : config_(std::move(config)),
        log_(std::move(log)),
        port_(port),
        metrics_port_(metrics_port) {}
  ~Collector() {
    if (pid_ > 0) (void)Stop(SIGKILL);
  }

  // Starts it and waits until it accepts connections.
  absl::Status Start(Clock::time_point deadline) {
    // Everything the child needs is made before fork: it may not allocate.
    const std::string binary = FSCANARY_COLLECTOR;
    std::vector<std::string> args = {binary, "--config", config_};
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) return absl::InternalError("cannot open " + log_);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(log_fd);
      ::close(null_fd);
      return absl::InternalError("fork failed");
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(null_fd, 0);
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    ::close(null_fd);
    pid_ = pid;
    // Polls a TCP connect: the port is bound only once the store is open and
    // the gRPC server started; the metrics endpoint comes right after.
    while (!Listening(port_) || !Listening(metrics_port_)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return absl::InternalError(absl::StrCat("fscanary-collector exited (status ", status,
                                                ") before listening:\n", Tail(log_)));
      }
      if (Clock::now() >= deadline) {
        return absl::DeadlineExceededError("fscanary-collector does not listen:\n" + Tail(log_));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return absl::OkStatus();
  }

  // Sends `signal` and reaps it; the wait status.
  absl::StatusOr<int> Stop(int signal, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    if (pid_ <= 0) return absl::FailedPreconditionError("not running");
    ::kill(pid_, signal);
    const auto deadline = Clock::now() + timeout;
    int status = 0;
    while (true) {
      const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
      if (reaped == pid_) break;
      if (reaped < 0 && errno != EINTR) return absl::InternalError("waitpid failed");
      if (Clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return absl::DeadlineExceededError(
            absl::StrCat("fscanary-collector ignored signal ", signal, ":\n", Tail(log_)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return status;
  }

  const std::string& log() const { return log_; }

 private:
  const std::string config_;
  const std::string log_;
  const int port_;
  const int metrics_port_;
  pid_t pid_ = -1;
};

// A read-only look at the collector's database (after it exited).
class Database {
 public:
  static absl::StatusOr<Database> Open(const std::string& path) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      const std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      return absl::InternalError("cannot open " + path + ": " + message);
    }
    return Database(db);
  }
  Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  ~Database() { sqlite3_close(db_); }

  // Calls `row` for every row of `sql`.
  absl::Status ForEach(const std::string& sql, const std::function<void(sqlite3_stmt*)>& row) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      return absl::InternalError(sql + ": " + sqlite3_errmsg(db_));
    }
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) row(statement);
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) return absl::InternalError(sql + ": " + sqlite3_errmsg(db_));
    return absl::OkStatus();
  }

  // host_id -> the first column (an integer) of every row of `sql` whose
  // second column is that host_id. One scan, however many hosts.
  absl::StatusOr<std::map<int64_t, std::vector<uint64_t>>> ByHost(const std::string& sql) {
    std::map<int64_t, std::vector<uint64_t>> values;
    absl::Status scanned = ForEach(sql, [&values](sqlite3_stmt* statement) {
      values[sqlite3_column_int64(statement, 1)].push_back(
          static_cast<uint64_t>(sqlite3_column_int64(statement, 0)));
    });
    if (!scanned.ok()) return scanned;
    return values;
  }

  // The integer columns of the only row of `sql`.
  absl::StatusOr<std::vector<int64_t>> Row(const std::string& sql) {
    std::vector<int64_t> values;
    absl::Status scanned = ForEach(sql, [&values](sqlite3_stmt* statement) {
      values.clear();
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        values.push_back(sqlite3_column_int64(statement, i));
      }
    });
    if (!scanned.ok()) return scanned;
    return values;
  }

  absl::StatusOr<std::string> Text(const std::string& sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      return absl::InternalError(sql + ": " + sqlite3_errmsg(db_));
    }
    std::string text;
    if (sqlite3_step(statement) == SQLITE_ROW) {
      const unsigned char* value = sqlite3_column_text(statement, 0);
      if (value != nullptr) text = reinterpret_cast<const char*>(value);
    }
    sqlite3_finalize(statement);
    return text;
  }

  // agent_id -> host_id.
  absl::StatusOr<std::map<std::string, int64_t>> Hosts() {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT agent_id, host_id FROM hosts", -1, &statement, nullptr) !=
        SQLITE_OK) {
      return absl::InternalError(sqlite3_errmsg(db_));
    }
    std::map<std::string, int64_t> hosts;
    while (sqlite3_step(statement) == SQLITE_ROW) {
      hosts[reinterpret_cast<const char*>(sqlite3_column_text(statement, 0))] =
          sqlite3_column_int64(statement, 1);
    }
    sqlite3_finalize(statement);
    return hosts;
  }

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

// How `stored` differs from `appended` (both as multisets): empty if equal.
std::string Difference(std::vector<uint64_t> appended, std::vector<uint64_t> stored) {
  std::sort(appended.begin(), appended.end());
  std::sort(stored.begin(), stored.end());
  if (appended == stored) return "";
  std::vector<uint64_t> missing;
  std::vector<uint64_t> extra;  // duplicates and sequences never appended
  std::set_difference(appended.begin(), appended.end(), stored.begin(), stored.end(),
                      std::back_inserter(missing));
  std::set_difference(stored.begin(), stored.end(), appended.begin(), appended.end(),
                      std::back_inserter(extra));
  auto first = [](std::vector<uint64_t> values) {
    const size_t count = values.size();
    if (values.size() > 10) values.resize(10);
    return absl::StrCat(count, " [", absl::StrJoin(values, ","), count > 10 ? ",...]" : "]");
  };
  return absl::StrCat("appended ", appended.size(), ", stored ", stored.size(), "; lost ",
                      first(missing), "; duplicated or unexpected ", first(extra));
}

TEST(FleetKillTest, NothingLostNothingDuplicatedWhileTheCollectorIsKilled) {
  // The senders' reconnect warnings would drown the test's own output.
  spdlog::set_level(spdlog::level::err);
  const Params params = ParamsFromEnvironment();
  std::cout << "fleet: " << params.agents << " agents x " << params.records << " records at "
            << params.rate << " records/s per agent, " << params.kills << " kills every "
            << params.min_kill_delay_ms << "-" << params.max_kill_delay_ms << " ms, seed "
            << params.seed << std::endl;

  testing::TempDir dir;
  absl::StatusOr<int> port = FreePort();
  ASSERT_TRUE(port.ok()) << port.status();
  absl::StatusOr<int> metrics_port = FreePort();
  ASSERT_TRUE(metrics_port.ok()) << metrics_port.status();
  const std::string state_dir = dir.Join("collector");
  {
    std::ofstream config(dir.Join("collector.yaml"));
    config << "listen: \"127.0.0.1:" << *port << "\"\n"
           << "state_dir: \"" << state_dir << "\"\n"
           << "log_level: info\n"
           << "metrics:\n  listen: \"127.0.0.1:" << *metrics_port << "\"\n";
    ASSERT_TRUE(config.good());
  }
  Collector collector(dir.Join("collector.yaml"), dir.Join("collector.log"), *port, *metrics_port);
  const auto start_timeout = std::chrono::seconds(60);
  absl::Status started = collector.Start(Clock::now() + start_timeout);
  ASSERT_TRUE(started.ok()) << started;

  FleetOptions options{.collector = absl::StrCat("127.0.0.1:", *port),
                       .agents = params.agents,
                       .records = params.records,
                       .directory = dir.Join("spools"),
                       .rate = params.rate,
                       .seed = params.seed};
  const Clock::time_point begin = Clock::now();
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(options);
  ASSERT_TRUE(fleet.ok()) << fleet.status();

  std::mt19937_64 random(params.seed);
  std::uniform_int_distribution<int> delay_ms(params.min_kill_delay_ms, params.max_kill_delay_ms);
  int kills = 0;
  int kills_under_load = 0;
  // Resent records the collector recognised, summed over its lives (each
  // life's count is read just before it ends, so this is a lower bound).
  uint64_t duplicates = 0;
  std::chrono::duration<double> slowest_restart{};
  for (int k = 0; k < params.kills; ++k) {
    // A random moment, not a synchronisation point.
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    if (!(*fleet)->appending_done() || (*fleet)->Backlog() > 0) ++kills_under_load;
    duplicates += ScrapeDuplicates(*metrics_port).value_or(0);
    absl::StatusOr<int> killed = collector.Stop(SIGKILL);
    ASSERT_TRUE(killed.ok()) << killed.status();
    ASSERT_TRUE(WIFSIGNALED(*killed) && WTERMSIG(*killed) == SIGKILL)
        << "the collector ended before it was killed (status " << *killed << "):\n"
        << Tail(collector.log());
    ++kills;
    const Clock::time_point restart = Clock::now();
    started = collector.Start(Clock::now() + start_timeout);
    ASSERT_TRUE(started.ok()) << "restart after kill " << kills << ": " << started;
    slowest_restart =
        std::max<std::chrono::duration<double>>(slowest_restart, Clock::now() - restart);
  }
  const std::chrono::duration<double> kill_phase = Clock::now() - begin;

  absl::StatusOr<FleetResult> result =
      (*fleet)->Finish(begin + std::chrono::seconds(params.timeout_s));
  ASSERT_TRUE(result.ok()) << result.status() << "\ncollector log:\n" << Tail(collector.log());
  fleet->reset();

  duplicates += ScrapeDuplicates(*metrics_port).value_or(0);
  absl::StatusOr<int> stopped = collector.Stop(SIGTERM);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << "status " << *stopped << ":\n"
                                                                 << Tail(collector.log());

  const double elapsed = result->elapsed.count();
  const uint64_t appended = result->appended();
  const double records_per_second = static_cast<double>(appended) / elapsed;
  std::cout << "fleet: " << appended << " records appended by " << result->agents.size()
            << " agents in " << result->append_elapsed.count() << " s, all acknowledged after "
            << elapsed << " s (" << records_per_second << " records/s); " << kills << " kills ("
            << kills_under_load << " while the fleet appended or held a backlog) in "
            << kill_phase.count() << " s, slowest restart " << slowest_restart.count()
            << " s; at least " << duplicates
            << " resent records recognised as already stored; spool losses " << result->losses()
            << std::endl;
  RecordProperty("agents", params.agents);
  RecordProperty("records", static_cast<int64_t>(appended));
  RecordProperty("kills", kills);
  RecordProperty("kills_under_load", kills_under_load);
  RecordProperty("elapsed_seconds", absl::StrCat(elapsed));
  RecordProperty("records_per_second", absl::StrCat(records_per_second));
  RecordProperty("slowest_restart_seconds", absl::StrCat(slowest_restart.count()));
  RecordProperty("duplicates_recognised", static_cast<int64_t>(duplicates));
  RecordProperty("seed", absl::StrCat(params.seed));

  EXPECT_EQ(kills, params.kills);
  EXPECT_EQ(kills_under_load, params.kills)
      << "some kills came after the fleet had delivered everything; raise "
         "FSCANARY_FLEET_RECORDS or lower FSCANARY_FLEET_RATE";
  EXPECT_EQ(appended, static_cast<uint64_t>(params.agents) * params.records);
  EXPECT_EQ(result->losses(), 0u) << result->ToJson();

  const Clock::time_point verify_start = Clock::now();
  const auto verify_timer = [verify_start] {
    return std::chrono::duration<double>(Clock::now() - verify_start).count();
  };
  absl::StatusOr<Database> db = Database::Open(state_dir + "/collector.db");
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<std::string> integrity = db->Text("PRAGMA integrity_check");
  ASSERT_TRUE(integrity.ok()) << integrity.status();
  EXPECT_EQ(*integrity, "ok");
  absl::StatusOr<std::map<std::string, int64_t>> hosts = db->Hosts();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  EXPECT_EQ(hosts->size(), result->agents.size());

  // One scan per table (reports has no index by host).
  auto reports = db->ByHost("SELECT sequence, host_id FROM reports");
  ASSERT_TRUE(reports.ok()) << reports.status();
  auto findings = db->ByHost("SELECT sequence, host_id FROM findings");
  ASSERT_TRUE(findings.ok()) << findings.status();
  auto ledger_reports =
      db->ByHost(absl::StrCat("SELECT sequence, host_id FROM records WHERE kind = ", kReportKind));
  ASSERT_TRUE(ledger_reports.ok()) << ledger_reports.status();
  auto ledger_findings =
      db->ByHost(absl::StrCat("SELECT sequence, host_id FROM records WHERE kind = ", kFindingKind));
  ASSERT_TRUE(ledger_findings.ok()) << ledger_findings.status();
  auto ledger_all = db->ByHost("SELECT sequence, host_id FROM records");
  ASSERT_TRUE(ledger_all.ok()) << ledger_all.status();
  auto epoch_reports = db->ByHost("SELECT sum(reports), host_id FROM epochs GROUP BY host_id");
  ASSERT_TRUE(epoch_reports.ok()) << epoch_reports.status();
  auto epoch_bytes = db->ByHost("SELECT sum(bytes_verified), host_id FROM epochs GROUP BY host_id");
  ASSERT_TRUE(epoch_bytes.ok()) << epoch_bytes.status();
  auto spool_losses = db->ByHost("SELECT sequence, host_id FROM spool_losses");
  ASSERT_TRUE(spool_losses.ok()) << spool_losses.status();
  const auto of = [](const std::map<int64_t, std::vector<uint64_t>>& by_host, int64_t host_id) {
    const auto it = by_host.find(host_id);
    return it == by_host.end() ? std::vector<uint64_t>() : it->second;
  };

  uint64_t reports_appended = 0;
  uint64_t findings_appended = 0;
  for (const AgentResult& agent : result->agents) {
    SCOPED_TRACE(agent.agent_id);
    EXPECT_EQ(agent.losses(), 0u);
    EXPECT_EQ(agent.spool.records, 0u);
    reports_appended += agent.report_sequences.size();
    findings_appended += agent.finding_sequences.size();
    const auto host = hosts->find(agent.agent_id);
    ASSERT_NE(host, hosts->end()) << "never stored";
    const int64_t host_id = host->second;

    EXPECT_EQ(Difference(agent.report_sequences, of(*reports, host_id)), "") << "reports";
    EXPECT_EQ(Difference(agent.finding_sequences, of(*findings, host_id)), "") << "findings";
    // The ledger holds each sequence once (its primary key) with its kind.
    EXPECT_EQ(Difference(agent.report_sequences, of(*ledger_reports, host_id)), "") << "ledger";
    EXPECT_EQ(Difference(agent.finding_sequences, of(*ledger_findings, host_id)), "") << "ledger";
    EXPECT_EQ(of(*ledger_all, host_id).size(), agent.appended()) << "ledger";
    // The epochs' exposure sums count every report once.
    EXPECT_EQ(of(*epoch_reports, host_id), std::vector<uint64_t>{agent.report_sequences.size()})
        << "sum(epochs.reports)";
    EXPECT_EQ(of(*epoch_bytes, host_id), std::vector<uint64_t>{agent.bytes_verified})
        << "sum(epochs.bytes_verified)";
    EXPECT_EQ(of(*spool_losses, host_id), std::vector<uint64_t>()) << "spool_losses rows";
  }
  // Nothing stored for anyone else, and the totals agree.
  absl::StatusOr<std::vector<int64_t>> totals = db->Row(
      "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM findings), "
      "(SELECT count(*) FROM records), (SELECT count(*) FROM spool_losses)");
  ASSERT_TRUE(totals.ok()) << totals.status();
  ASSERT_EQ(totals->size(), 4u);
  // Stopped cleanly: every stream was closed, despite the connects counted by
  // the lives that were killed (a restart resets them).
  absl::StatusOr<std::vector<int64_t>> connected =
      db->Row("SELECT count(*) FROM hosts WHERE connected != 0");
  ASSERT_TRUE(connected.ok()) << connected.status();
  EXPECT_EQ(*connected, std::vector<int64_t>{0}) << "hosts still marked connected";
  EXPECT_EQ(static_cast<uint64_t>((*totals)[0]), reports_appended);
  EXPECT_EQ(static_cast<uint64_t>((*totals)[1]), findings_appended);
  EXPECT_EQ(static_cast<uint64_t>((*totals)[2]), appended);
  EXPECT_EQ((*totals)[3], 0);
  std::cout << "fleet: stored " << (*totals)[0] << " reports and " << (*totals)[1]
            << " findings, each once; database checked in " << verify_timer() << " s" << std::endl;
}

}  // namespace
}  // namespace fscanary::e2e
