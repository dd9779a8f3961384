// The hot paths of fscanary::metrics: what an increment, a labelled lookup and
// an observation cost, and how long a scrape of 10,000 series takes to
// serialise. Run with --benchmark_repetitions to get medians.

#include <string>

#include "benchmark/benchmark.h"
#include "metrics/registry.h"
#include "metrics/text_format.h"

namespace fscanary::metrics {
namespace {

void BM_CounterIncrement(benchmark::State& state) {
  static Registry registry;
  static Counter* counter = *(*registry.AddCounter("bench_increments_total", "h"))->Add({});
  for (auto _ : state) counter->Increment();
}
BENCHMARK(BM_CounterIncrement)->Threads(1)->Threads(2);

void BM_CounterIncrementFractional(benchmark::State& state) {
  static Registry registry;
  static Counter* counter = *(*registry.AddCounter("bench_seconds_total", "h"))->Add({});
  for (auto _ : state) counter->Increment(0.25);
}
BENCHMARK(BM_CounterIncrementFractional)->Threads(1)->Threads(2);

// Add() of a series that exists, with the label set the collector uses for
// findings; the cost a caller pays when it does not keep the pointer.
void BM_LabelledLookup(benchmark::State& state) {
  Registry registry;
  Family<Counter>* family = *registry.AddCounter("bench_findings_total", "h");
  for (int i = 0; i < 1000; ++i) {
    (void)family->Add({{"kind", "kind" + std::to_string(i % 10)},
                       {"kernel", "6.1." + std::to_string(i)},
                       {"fs", "ext4"}});
  }
  const Labels labels = {{"kind", "kind3"}, {"kernel", "6.1.503"}, {"fs", "ext4"}};
  for (auto _ : state) (*family->Add(labels))->Increment();
}
BENCHMARK(BM_LabelledLookup);

void BM_HistogramObserve(benchmark::State& state) {
  Registry registry;
  Histogram* histogram =
      *(*registry.AddHistogram("bench_latency_seconds", "h", DefaultLatencyBounds()))->Add({});
  double value = 0;
  for (auto _ : state) {
    histogram->Observe(value);
    value = value < 12 ? value + 0.0137 : 0;  // Walks every bucket.
  }
}
BENCHMARK(BM_HistogramObserve);

// A scrape: Collect() and SerializeText() of 10,000 series as Prometheus
// counts them: 8,800 counters with three labels, and 100 histograms of 10
// buckets, each 12 series (_bucket x10, _sum, _count).
void BM_Serialize10kSeries(benchmark::State& state) {
  Registry registry;
  Family<Counter>* counters = *registry.AddCounter("bench_bytes_verified_total", "h");
  for (int i = 0; i < 8800; ++i) {
    (*counters->Add({{"kernel", "6.1." + std::to_string(i / 100)},
                     {"scheduler", i % 2 ? "none" : "mq-deadline"},
                     {"driver", "virtio_blk" + std::to_string(i % 100)}}))
        ->Increment(i * 4096.0);
  }
  Family<Histogram>* histograms =
      *registry.AddHistogram("bench_storage_latency_seconds", "h", ExponentialBounds(0.001, 2, 9));
  for (int i = 0; i < 100; ++i) {
    Histogram* histogram = *histograms->Add({{"shard", std::to_string(i)}});
    for (int k = 0; k < 100; ++k) histogram->Observe(k * 0.003);
  }
  size_t bytes = 0;
  for (auto _ : state) {
    const TextExposition exposition = SerializeText(registry.Collect());
    bytes = exposition.text.size();
    benchmark::DoNotOptimize(exposition.text.data());
  }
  state.counters["exposition_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Serialize10kSeries)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace fscanary::metrics

BENCHMARK_MAIN();
