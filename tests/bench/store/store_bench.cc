// Ingest throughput of the store on each backend (SQLite, PostgreSQL), in
// records per second and time per group commit: one agent's batch of 1, 16
// or 256 records; group commits of 50 or 500 agents with one report each
// (the fleet's shape: a report a minute per agent, the committer's batch
// filling up under load); and 50 or 500 streams opening then closing
// (Store::RecordSessions, a reconnect storm).
//
// SQLite commits are durable (synchronous=FULL: an fsync of the WAL), so its
// numbers follow the flush latency of FSCANARY_BENCH_DIR's disk (default the
// system temporary directory; /dev/shm takes the disk out). PostgreSQL is a
// private server on /dev/shm with fsync off (tests/lib/postgres_server.h; or
// the one $FSCANARY_TEST_POSTGRES names): what it measures is the store's
// statements and round trips, not a disk. Each run opens a fresh database.
//
// Exits non-zero when a write fails or a record is not reported stored, so a
// broken store cannot show up as a fast one (bench.store_small runs it in CI).

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "tests/lib/postgres_server.h"

namespace fscanary::store {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int kSqlite = 0;
constexpr int kPostgres = 1;

std::atomic<bool> failed{false};

void Fail(benchmark::State& state, const std::string& what) {
  failed = true;
  state.SkipWithError(what.c_str());
}

// A routine interval report as an agent sends it: two checkers with latency
// histograms.
v1::AgentMessage Report(uint64_t sequence) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(static_cast<int64_t>(sequence) * kSecond);
  v1::IntervalReport& report = *message.mutable_report();
  report.set_start_unix_nanos(static_cast<int64_t>(sequence - 1) * kSecond);
  report.set_end_unix_nanos(static_cast<int64_t>(sequence) * kSecond);
  for (const char* checker : {"block", "page_cache"}) {
    v1::CheckerInterval& interval = *report.add_checkers();
    interval.set_checker(checker);
    interval.set_target("scratch");
    interval.set_blocks_verified(256);
    interval.set_bytes_verified(256 * 4096);
    for (double bound : {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0}) {
      interval.add_latency_bounds_seconds(bound);
      interval.add_latency_counts(100);
    }
    interval.set_latency_sum_seconds(0.42);
  }
  return message;
}

// A Hello as an agent sends it on connecting: the same facts every time, so
// a reconnect continues the host's epoch.
v1::AgentMessage Hello(const std::string& agent_id) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(kSecond);
  v1::Hello& hello = *message.mutable_hello();
  hello.set_agent_id(agent_id);
  hello.set_agent_version("bench");
  hello.mutable_config()->set_config_sha256(std::string(64, 'c'));
  v1::HostFacts& facts = *hello.mutable_facts();
  facts.set_hostname(agent_id);
  facts.set_kernel_release("6.1.0-13-amd64");
  facts.set_kernel_version("#1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29)");
  facts.set_distro_id("debian");
  facts.set_distro_version("12");
  facts.set_virtualization("kvm");
  facts.set_cpu_model("AMD EPYC");
  facts.set_cpu_count(2);
  v1::BlockDeviceFacts& device = *facts.add_devices();
  device.set_name("vda");
  device.set_type("disk");
  device.set_driver("virtio_blk");
  device.set_blk_mq("on");
  device.set_scheduler("mq-deadline");
  return message;
}

// A fresh store of `backend` (kSqlite, kPostgres), removed afterwards (the
// PostgreSQL database stays on its throwaway server).
class ScratchStore {
 public:
  explicit ScratchStore(int backend) {
    absl::StatusOr<std::unique_ptr<Store>> store = absl::UnknownError("no backend");
    if (backend == kPostgres) {
      absl::StatusOr<testing::PostgresServer*> server = testing::SharedPostgresServer();
      if (!server.ok()) {
        error_ = std::string(server.status().message());
        return;
      }
      absl::StatusOr<std::string> dsn = (*server)->CreateDatabase();
      store = dsn.ok() ? OpenPostgresStore({.dsn = *dsn}) : dsn.status();
    } else {
      const char* base = getenv("FSCANARY_BENCH_DIR");
      std::string pattern =
          (std::filesystem::path(base != nullptr ? base
                                                 : std::filesystem::temp_directory_path().c_str()) /
           "fscanary-store-bench-XXXXXX")
              .string();
      if (mkdtemp(pattern.data()) == nullptr) std::abort();
      directory_ = pattern;
      store = OpenSqliteStore({.path = directory_ + "/collector.db"});
    }
    if (store.ok()) {
      store_ = *std::move(store);
    } else {
      error_ = std::string(store.status().message());
    }
  }
  ~ScratchStore() {
    store_.reset();
    std::error_code ignored;
    if (!directory_.empty()) std::filesystem::remove_all(directory_, ignored);
  }
  // Null when it could not be opened (error() says why).
  Store* store() { return store_.get(); }
  const std::string& error() const { return error_; }

 private:
  std::string directory_;
  std::string error_;
  std::unique_ptr<Store> store_;
};

// Whether every record of `stored` is kStored; fails the run if not.
bool AllStored(benchmark::State& state,
               const absl::StatusOr<std::vector<std::vector<RecordResult>>>& stored) {
  if (!stored.ok()) {
    Fail(state, std::string(stored.status().message()));
    return false;
  }
  for (const std::vector<RecordResult>& agent : *stored) {
    for (const RecordResult& result : agent) {
      if (result.outcome != RecordResult::Outcome::kStored) {
        Fail(state, "a record was not stored: " + std::string(result.error.message()));
        return false;
      }
    }
  }
  return true;
}

// Group commits of range(1) agents with range(2) records each.
void IngestGroups(benchmark::State& state) {
  const int backend = static_cast<int>(state.range(0));
  const auto agents = static_cast<size_t>(state.range(1));
  const auto per_agent = static_cast<uint64_t>(state.range(2));
  ScratchStore scratch(backend);
  if (scratch.store() == nullptr) return Fail(state, scratch.error());
  uint64_t next_sequence = 1;
  std::vector<std::vector<v1::AgentMessage>> messages(agents,
                                                      std::vector<v1::AgentMessage>(per_agent));
  std::vector<AgentBatch> batches(agents);
  for (size_t a = 0; a < agents; ++a) batches[a].agent_id = "agent-" + std::to_string(a);
  const auto next_group = [&] {
    for (size_t a = 0; a < agents; ++a) {
      for (uint64_t i = 0; i < per_agent; ++i) messages[a][i] = Report(next_sequence + i);
      batches[a].messages = messages[a];
    }
    next_sequence += per_agent;
  };
  // The hosts and their first epochs exist before the clock runs: measured
  // is the steady state of a fleet that reports.
  next_group();
  if (!AllStored(state, scratch.store()->IngestBatches(batches, 1))) return;
  for (auto _ : state) {
    state.PauseTiming();
    next_group();
    state.ResumeTiming();
    if (!AllStored(state, scratch.store()->IngestBatches(batches, 1))) return;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(agents * per_agent));
  state.counters["commits_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_IngestBatch(benchmark::State& state) { IngestGroups(state); }
BENCHMARK(BM_IngestBatch)
    ->ArgNames({"pg", "agents", "records"})
    ->Args({kSqlite, 1, 1})
    ->Args({kSqlite, 1, 16})
    ->Args({kSqlite, 1, 256})
    ->Args({kPostgres, 1, 1})
    ->Args({kPostgres, 1, 16})
    ->Args({kPostgres, 1, 256})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

void BM_GroupCommit(benchmark::State& state) { IngestGroups(state); }
BENCHMARK(BM_GroupCommit)
    ->ArgNames({"pg", "agents", "records"})
    ->Args({kSqlite, 50, 1})
    ->Args({kSqlite, 500, 1})
    ->Args({kPostgres, 50, 1})
    ->Args({kPostgres, 500, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// range(1) streams opening (each with its Hello) in one RecordSessions, then
// closing in another: a reconnect storm's session changes.
void BM_Sessions(benchmark::State& state) {
  const int backend = static_cast<int>(state.range(0));
  const auto streams = static_cast<size_t>(state.range(1));
  ScratchStore scratch(backend);
  if (scratch.store() == nullptr) return Fail(state, scratch.error());
  std::vector<v1::AgentMessage> hellos;
  std::vector<SessionChange> opens;
  std::vector<SessionChange> closes;
  hellos.reserve(streams);
  for (size_t s = 0; s < streams; ++s) hellos.push_back(Hello("agent-" + std::to_string(s)));
  for (size_t s = 0; s < streams; ++s) {
    opens.push_back({.agent_id = hellos[s].hello().agent_id(), .hello = &hellos[s]});
    closes.push_back({.agent_id = hellos[s].hello().agent_id()});
  }
  int64_t now = kSecond;
  const auto apply = [&](std::span<const SessionChange> changes) {
    absl::StatusOr<std::vector<absl::Status>> applied =
        scratch.store()->RecordSessions(changes, now++);
    if (!applied.ok()) {
      Fail(state, std::string(applied.status().message()));
      return false;
    }
    for (const absl::Status& status : *applied) {
      if (!status.ok()) {
        Fail(state, std::string(status.message()));
        return false;
      }
    }
    return true;
  };
  // The hosts exist before the clock runs: measured are reconnects.
  if (!apply(opens) || !apply(closes)) return;
  for (auto _ : state) {
    if (!apply(opens) || !apply(closes)) return;
  }
  state.SetItemsProcessed(state.iterations() * 2 * static_cast<int64_t>(streams));
}
BENCHMARK(BM_Sessions)
    ->ArgNames({"pg", "streams"})
    ->Args({kSqlite, 50})
    ->Args({kSqlite, 500})
    ->Args({kPostgres, 50})
    ->Args({kPostgres, 500})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fscanary::store

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return fscanary::store::failed ? 1 : 0;
}
