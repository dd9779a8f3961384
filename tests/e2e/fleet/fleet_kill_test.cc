// The real collector is SIGKILLed repeatedly under a simulated fleet: nothing
// lost or duplicated, on SQLite and on PostgreSQL.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "tests/e2e/fleet/fleet_collector.h"
#include "tests/e2e/fleet/fleet_sim.h"
#include "tests/e2e/fleet/fleet_store_check.h"
#include "tests/lib/postgres_server.h"
#include "tests/temp_dir.h"

namespace fscanary::e2e {
namespace {

enum class Backend { kSqlite, kPostgres };

// The run's size, CI-sized by default; FSCANARY_FLEET_* override it (README.md).
struct Params {
  int agents = 50;
  uint64_t records = 2000;
  int kills = 10;
  int min_kill_delay_ms = 200;
  int max_kill_delay_ms = 1500;
  // Records per second per agent; negative: chosen so that appending outlasts
  // the kills (K x 4 s, at least min_append_s: a kill takes at most 1.5 s plus a
  // restart); 0: unpaced.
  double rate = -1;
  double min_append_s = 20;
  int timeout_s = 300;
  uint64_t seed = 0;
};

// SQLite, the default store, gets the full CI size; PostgreSQL a smaller
// fleet and fewer kills (the same paths, a second engine under them).
Params DefaultParams(Backend backend) {
  if (backend == Backend::kSqlite) return Params{};
  return Params{.agents = 10, .records = 600, .kills = 3, .min_append_s = 12};
}

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

Params ParamsFromEnvironment(Backend backend) {
  Params params = DefaultParams(backend);
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
    const double append_seconds = std::max(params.min_append_s, 4.0 * params.kills);
    params.rate = static_cast<double>(params.records) / append_seconds;
  }
  return params;
}

// The collector's count of records it received again and did not store again.
std::optional<uint64_t> ScrapeDuplicates(int metrics_port) {
  const std::optional<double> value =
      ScrapeSeries(metrics_port, "fscanary_collector_records_total{outcome=\"duplicate\"}");
  if (!value) return std::nullopt;
  return static_cast<uint64_t>(*value);
}

class FleetKillTest : public ::testing::TestWithParam<Backend> {};

TEST_P(FleetKillTest, NothingLostNothingDuplicatedWhileTheCollectorIsKilled) {
  // The senders' reconnect warnings would drown the test's own output.
  spdlog::set_level(spdlog::level::err);
  const Backend backend = GetParam();
  const Params params = ParamsFromEnvironment(backend);
  std::cout << "fleet: " << params.agents << " agents x " << params.records << " records at "
            << params.rate << " records/s per agent, " << params.kills << " kills every "
            << params.min_kill_delay_ms << "-" << params.max_kill_delay_ms << " ms, seed "
            << params.seed << std::endl;

  testing::TempDir dir;
  fscanary::testing::PostgresServer* postgres = nullptr;
  std::string dsn;
  if (backend == Backend::kPostgres) {
    absl::StatusOr<fscanary::testing::PostgresServer*> server =
        fscanary::testing::SharedPostgresServer();
    ASSERT_TRUE(server.ok()) << server.status();
    postgres = *server;
    absl::StatusOr<std::string> created = postgres->CreateDatabase();
    ASSERT_TRUE(created.ok()) << created.status();
    dsn = *created;
  }
  absl::StatusOr<CollectorProcess> collector =
      CollectorProcess::Create({.dir = dir.path(), .postgres_dsn = dsn});
  ASSERT_TRUE(collector.ok()) << collector.status();
  const auto start_timeout = std::chrono::seconds(60);
  absl::Status started = collector->Start(Clock::now() + start_timeout);
  ASSERT_TRUE(started.ok()) << started;

  FleetOptions options{.collector = collector->address(),
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
    duplicates += ScrapeDuplicates(collector->metrics_port()).value_or(0);
    absl::StatusOr<int> killed = collector->Stop(SIGKILL);
    ASSERT_TRUE(killed.ok()) << killed.status();
    ASSERT_TRUE(WIFSIGNALED(*killed) && WTERMSIG(*killed) == SIGKILL)
        << "the collector ended before it was killed (status " << *killed << "):\n"
        << Tail(collector->log());
    ++kills;
    const Clock::time_point restart = Clock::now();
    started = collector->Start(Clock::now() + start_timeout);
    ASSERT_TRUE(started.ok()) << "restart after kill " << kills << ": " << started;
    slowest_restart =
        std::max<std::chrono::duration<double>>(slowest_restart, Clock::now() - restart);
  }
  const std::chrono::duration<double> kill_phase = Clock::now() - begin;

  absl::StatusOr<FleetResult> result =
      (*fleet)->Finish(begin + std::chrono::seconds(params.timeout_s));
  ASSERT_TRUE(result.ok()) << result.status() << "\ncollector log:\n" << Tail(collector->log());
  fleet->reset();

  duplicates += ScrapeDuplicates(collector->metrics_port()).value_or(0);
  absl::StatusOr<int> stopped = collector->Stop(SIGTERM);
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_TRUE(WIFEXITED(*stopped) && WEXITSTATUS(*stopped) == 0) << "status " << *stopped << ":\n"
                                                                 << Tail(collector->log());

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

  // Read back from the backend the test chose; on PostgreSQL the collector
  // must not have written a SQLite file on the side.
  const std::string sqlite_file = collector->state_dir() + "/collector.db";
  std::unique_ptr<StoredRows> db;
  if (backend == Backend::kPostgres) {
    EXPECT_FALSE(std::filesystem::exists(sqlite_file))
        << "store.backend is postgres, yet the collector wrote " << sqlite_file;
    db = PostgresRows(*postgres, dsn);
  } else {
    absl::StatusOr<std::unique_ptr<StoredRows>> opened = OpenSqliteRows(sqlite_file);
    ASSERT_TRUE(opened.ok()) << opened.status();
    db = *std::move(opened);
  }
  ExpectEveryRecordStoredOnce(*db, *result);
}

std::string BackendName(const ::testing::TestParamInfo<Backend>& backend) {
  return backend.param == Backend::kPostgres ? "postgres" : "sqlite";
}

INSTANTIATE_TEST_SUITE_P(Backends, FleetKillTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);

}  // namespace
}  // namespace fscanary::e2e
