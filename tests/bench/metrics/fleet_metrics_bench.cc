// The collector's fleet metrics at fleet scale (issue 14): for a SQLite store
// of N hosts, what a refresh of the aggregates costs before (every epoch read
// and recomputed: ListEpochs + ComputeFleetAggregates, the path the collector
// ran every 30 s) and after (FleetMetrics::Refresh: only the hosts changed
// since the last refresh read, then recomputed), with a share of the hosts
// reporting between two refreshes; and what a scrape serves with every host's
// series (before) and with per-host series for the watched hosts only
// (after). Medians of --repetitions, the variants interleaved; one markdown
// table on stdout, progress on stderr.
//
//   fleet_metrics_bench [--hosts 10000,100000] [--changed 0.01,0.5]
//                       [--victims 0.001] [--repetitions 5] [--dir DIR]

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "collector/daemon/fleet_epochs.h"
#include "collector/daemon/fleet_metrics.h"
#include "metrics/text_format.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::collector {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kStart = 1'800'000'000 * kSecond;
constexpr size_t kCommitAgents = 1000;

struct Options {
  std::vector<size_t> hosts = {10000, 100000};
  std::vector<double> changed = {0.01, 0.5};
  double victims = 0.001;
  int repetitions = 5;
  std::string dir = std::filesystem::temp_directory_path().string();
};

std::string AgentId(size_t i) {
  char id[32];
  std::snprintf(id, sizeof id, "vm-%06zu", i);
  return id;
}

// Facts of a VM drawn from a few kernels and schedulers (the store tests'
// VM: a virtio disk, ext4, a kernel config shared by SHA-256).
v1::AgentMessage Hello(size_t i, int64_t at) {
  static const char* const kKernels[] = {"6.1.0-18-amd64", "6.1.0-21-amd64", "5.10.0-28-amd64",
                                         "6.6.13-amd64"};
  static const char* const kSchedulers[] = {"none", "mq-deadline", "bfq"};
  return store::testing::HelloMessage(store::testing::VmFacts(kKernels[i % 4], kSchedulers[i % 3]),
                                      at);
}

v1::AgentMessage Report(uint64_t sequence, int64_t at) {
  return store::testing::ReportRecord(sequence, at, 256 * 4096);
}

v1::AgentMessage Finding(uint64_t sequence, int64_t at) {
  return store::testing::FindingRecord(sequence, at, v1::LOST_WRITE);
}

// Stores `messages_of(i)` for each host in `hosts`, kCommitAgents a commit.
void StoreFor(store::Store& store, const std::vector<size_t>& hosts, int64_t at,
              const std::function<std::vector<v1::AgentMessage>(size_t)>& messages_of) {
  for (size_t begin = 0; begin < hosts.size(); begin += kCommitAgents) {
    const size_t end = std::min(hosts.size(), begin + kCommitAgents);
    std::vector<std::vector<v1::AgentMessage>> messages;
    std::vector<std::string> ids;
    for (size_t k = begin; k < end; ++k) {
      messages.push_back(messages_of(hosts[k]));
      ids.push_back(AgentId(hosts[k]));
    }
    std::vector<store::AgentBatch> batches;
    for (size_t k = 0; k < messages.size(); ++k) batches.push_back({ids[k], messages[k]});
    if (absl::Status stored = store.IngestBatches(batches, at).status(); !stored.ok()) {
      std::fprintf(stderr, "ingest: %s\n", stored.ToString().c_str());
      std::exit(1);
    }
  }
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

template <typename Body>
double SecondsOf(Body&& body) {
  const auto start = std::chrono::steady_clock::now();
  body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Scrape {
  double seconds = 0;
  size_t bytes = 0;
  size_t series = 0;
};

Scrape ScrapeOf(const FleetMetrics& fleet) {
  Scrape scrape;
  scrape.seconds = SecondsOf([&] {
    const std::vector<metrics::MetricFamily> families = fleet.Collect();
    for (const metrics::MetricFamily& family : families) scrape.series += family.series.size();
    scrape.bytes = metrics::SerializeText(families).text.size();
  });
  return scrape;
}

void Run(const Options& options, size_t hosts) {
  const std::string dir = options.dir + "/fscanary-fleet-bench-XXXXXX";
  std::string pattern = dir;
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  auto opened = store::OpenSqliteStore({.path = pattern + "/collector.db",
                                        .synchronous = store::SqliteOptions::Synchronous::kNormal});
  if (!opened.ok()) std::abort();
  store::Store& store = **opened;
  int64_t now = kStart;
  std::vector<size_t> all(hosts);
  for (size_t i = 0; i < hosts; ++i) all[i] = i;
  std::fprintf(stderr, "%zu hosts: storing hellos and a report each\n", hosts);
  std::map<size_t, uint64_t> sequence;
  StoreFor(store, all, now, [&](size_t i) {
    return std::vector<v1::AgentMessage>{Hello(i, now), Report(++sequence[i], now)};
  });
  // The victims: a finding each; their agents are the only ones silent.
  std::vector<size_t> victims;
  const size_t victim_count = std::max<size_t>(1, static_cast<size_t>(hosts * options.victims));
  for (size_t k = 0; k < victim_count; ++k) victims.push_back(k * (hosts / victim_count));
  StoreFor(store, victims, now,
           [&](size_t i) { return std::vector<v1::AgentMessage>{Finding(++sequence[i], now)}; });
  Sessions sessions;
  for (size_t i = 0; i < hosts; ++i) {
    if (!std::binary_search(victims.begin(), victims.end(), i)) sessions.Open(AgentId(i), 0, 0);
  }
  const std::function<int64_t()> clock = [&now] { return now; };
  FleetMetrics before_shape(store, sessions,
                            {.watch = {.all_hosts_up_to = SIZE_MAX}, .now_unix_nanos = clock});
  FleetMetrics after(store, sessions, {.now_unix_nanos = clock});
  if (!after.Refresh().ok() || !before_shape.Refresh().ok()) std::abort();

  FleetEpochs reader({.now_unix_nanos = clock});
  if (!reader.Refresh(store).ok()) std::abort();
  for (const double share : options.changed) {
    std::vector<double> full_seconds, incremental_seconds, ingest_seconds;
    std::vector<double> full_read_seconds, incremental_read_seconds;
    const size_t changed = std::max<size_t>(1, static_cast<size_t>(hosts * share));
    for (int round = 0; round < options.repetitions; ++round) {
      // The next 30 s: `changed` hosts report.
      now += 30 * kSecond;
      std::vector<size_t> reporting;
      for (size_t k = 0; k < changed; ++k) reporting.push_back((round * changed + k) % hosts);
      std::sort(reporting.begin(), reporting.end());
      ingest_seconds.push_back(SecondsOf([&] {
        StoreFor(store, reporting, now, [&](size_t i) {
          return std::vector<v1::AgentMessage>{Report(++sequence[i], now)};
        });
      }));
      now += kSecond;
      // Interleaved, alternating which goes first.
      auto full = [&] {
        absl::StatusOr<std::vector<store::EpochRecord>> epochs;
        full_read_seconds.push_back(SecondsOf([&] { epochs = store.ListEpochs(); }));
        if (!epochs.ok()) std::abort();
        full_seconds.push_back(full_read_seconds.back() + SecondsOf([&] {
                                 if (!ComputeFleetAggregates(*epochs, 10).ok()) std::abort();
                               }));
      };
      auto incremental = [&] {
        incremental_read_seconds.push_back(SecondsOf([&] {
          if (!reader.Refresh(store).ok()) std::abort();
        }));
        incremental_seconds.push_back(SecondsOf([&] {
          if (!after.Refresh().ok()) std::abort();
        }));
      };
      if (round % 2 == 0) {
        full();
        incremental();
      } else {
        incremental();
        full();
      }
    }
    const double full_median = Median(full_seconds);
    const double incremental_median = Median(incremental_seconds);
    const double full_read = Median(full_read_seconds);
    const double incremental_read = Median(incremental_read_seconds);
    std::printf("| %zu | %.0f%% (%zu) | read the epochs, s | %.3f | %.3f | %.3f |\n", hosts,
                share * 100, changed, full_read, incremental_read, incremental_read / full_read);
    std::printf("| %zu | %.0f%% (%zu) | refresh (read + compute), s | %.3f | %.3f | %.2f |\n",
                hosts, share * 100, changed, full_median, incremental_median,
                incremental_median / full_median);
    std::fprintf(stderr, "  ingest of %zu reports: %.3f s (median)\n", changed,
                 Median(ingest_seconds));
    std::fflush(stdout);
  }
  // Heartbeats: every agent but the victims' was heard just now.
  std::map<std::string, int64_t> heard;
  for (size_t i = 0; i < hosts; ++i) {
    if (!std::binary_search(victims.begin(), victims.end(), i)) heard[AgentId(i)] = now;
  }
  if (!store.TouchHosts(heard).ok()) std::abort();
  std::vector<Scrape> old_scrapes, new_scrapes;
  for (int round = 0; round < options.repetitions; ++round) {
    old_scrapes.push_back(ScrapeOf(before_shape));
    new_scrapes.push_back(ScrapeOf(after));
  }
  auto median_of = [](const std::vector<Scrape>& scrapes, auto field) {
    std::vector<double> values;
    for (const Scrape& scrape : scrapes) values.push_back(static_cast<double>(field(scrape)));
    return Median(values);
  };
  const double old_bytes = median_of(old_scrapes, [](const Scrape& s) { return s.bytes; });
  const double new_bytes = median_of(new_scrapes, [](const Scrape& s) { return s.bytes; });
  const double old_series = median_of(old_scrapes, [](const Scrape& s) { return s.series; });
  const double new_series = median_of(new_scrapes, [](const Scrape& s) { return s.series; });
  const double old_time = median_of(old_scrapes, [](const Scrape& s) { return s.seconds; });
  const double new_time = median_of(new_scrapes, [](const Scrape& s) { return s.seconds; });
  std::printf("| %zu | %zu victims | /metrics, MiB | %.2f | %.3f | %.4f |\n", hosts, victim_count,
              old_bytes / (1 << 20), new_bytes / (1 << 20), new_bytes / old_bytes);
  std::printf("| %zu | | /metrics series | %.0f | %.0f | %.4f |\n", hosts, old_series, new_series,
              new_series / old_series);
  std::printf("| %zu | | collect + serialise, s | %.3f | %.3f | %.3f |\n", hosts, old_time,
              new_time, new_time / old_time);
  std::fflush(stdout);
  opened->reset();
  std::error_code ignored;
  std::filesystem::remove_all(pattern, ignored);
}

template <typename T, typename Parse>
std::vector<T> List(const char* text, Parse parse) {
  std::vector<T> values;
  for (const absl::string_view item : absl::StrSplit(text, ',')) {
    T value{};
    if (!parse(item, &value)) {
      std::fprintf(stderr, "not a number: %s\n", std::string(item).c_str());
      std::exit(2);
    }
    values.push_back(value);
  }
  return values;
}

}  // namespace
}  // namespace fscanary::collector

int main(int argc, char** argv) {
  using namespace fscanary::collector;
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--hosts") {
      options.hosts = List<size_t>(
          argv[i + 1], [](absl::string_view s, size_t* v) { return absl::SimpleAtoi(s, v); });
    } else if (flag == "--changed") {
      options.changed = List<double>(
          argv[i + 1], [](absl::string_view s, double* v) { return absl::SimpleAtod(s, v); });
    } else if (flag == "--victims") {
      if (!absl::SimpleAtod(argv[i + 1], &options.victims)) return 2;
    } else if (flag == "--repetitions") {
      if (!absl::SimpleAtoi(argv[i + 1], &options.repetitions) || options.repetitions < 1) return 2;
    } else if (flag == "--dir") {
      options.dir = argv[i + 1];
    } else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::printf("| hosts | changed per refresh | measure | before | after | after/before |\n");
  std::printf("|---:|---:|---|---:|---:|---:|\n");
  for (const size_t hosts : options.hosts) Run(options, hosts);
  return 0;
}
