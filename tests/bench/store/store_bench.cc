// Ingest throughput of the SQLite store, in records per second, for batch
// sizes 1, 16 and 256 of one agent, and for group commits of 50 agents.
// Every commit is durable (synchronous=FULL: an fsync of the WAL), so the
// numbers depend on the disk's flush latency: run it on the disk the
// collector's state directory will live on (FSCANARY_BENCH_DIR, default the
// system temporary directory). Reports the median of 5 repetitions.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "collector/store/store.h"

namespace fscanary::store {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

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

// A fresh database in its own directory, removed afterwards.
class ScratchStore {
 public:
  ScratchStore() {
    const char* base = getenv("FSCANARY_BENCH_DIR");
    std::string pattern =
        (std::filesystem::path(base != nullptr ? base
                                               : std::filesystem::temp_directory_path().c_str()) /
         "fscanary-store-bench-XXXXXX")
            .string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    directory_ = pattern;
    absl::StatusOr<std::unique_ptr<Store>> store =
        OpenSqliteStore({.path = directory_ + "/collector.db"});
    if (!store.ok()) std::abort();
    store_ = *std::move(store);
  }
  ~ScratchStore() {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }
  Store& store() { return *store_; }

 private:
  std::string directory_;
  std::unique_ptr<Store> store_;
};

void BM_IngestBatch(benchmark::State& state) {
  const auto batch_size = static_cast<uint64_t>(state.range(0));
  ScratchStore scratch;
  uint64_t next_sequence = 1;
  std::vector<v1::AgentMessage> batch(batch_size);
  for (auto _ : state) {
    state.PauseTiming();
    for (v1::AgentMessage& message : batch) message = Report(next_sequence++);
    state.ResumeTiming();
    absl::StatusOr<std::vector<RecordResult>> stored =
        scratch.store().IngestBatch("agent", batch, 1);
    if (!stored.ok()) {
      state.SkipWithError(std::string(stored.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch_size));
}
BENCHMARK(BM_IngestBatch)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// One group commit holding `range(0)` records from each of 50 agents.
void BM_IngestBatches50Agents(benchmark::State& state) {
  constexpr int kAgents = 50;
  const auto per_agent = static_cast<uint64_t>(state.range(0));
  ScratchStore scratch;
  uint64_t next_sequence = 1;
  std::vector<std::vector<v1::AgentMessage>> messages(kAgents,
                                                      std::vector<v1::AgentMessage>(per_agent));
  std::vector<AgentBatch> batches(kAgents);
  for (int a = 0; a < kAgents; ++a) {
    batches[a].agent_id = "agent-" + std::to_string(a);
  }
  for (auto _ : state) {
    state.PauseTiming();
    for (int a = 0; a < kAgents; ++a) {
      for (uint64_t i = 0; i < per_agent; ++i) messages[a][i] = Report(next_sequence + i);
      batches[a].messages = messages[a];
    }
    next_sequence += per_agent;
    state.ResumeTiming();
    if (auto stored = scratch.store().IngestBatches(batches, 1); !stored.ok()) {
      state.SkipWithError(std::string(stored.status().message()).c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kAgents * static_cast<int64_t>(per_agent));
}
BENCHMARK(BM_IngestBatches50Agents)
    ->Arg(1)
    ->Arg(16)
    ->Repetitions(5)
    ->ReportAggregatesOnly(true)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace fscanary::store

BENCHMARK_MAIN();
