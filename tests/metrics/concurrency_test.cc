// Many threads updating series while scrapes run: totals are exact and every
// exposition taken meanwhile is well formed (+Inf equals _count throughout).

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/exposition_check.h"
#include "metrics/registry.h"
#include "metrics/text_format.h"

namespace fscanary::metrics {
namespace {

constexpr int kThreads = 8;
constexpr int kIterations = 50000;

TEST(Concurrency, CountersUpdatedFromManyThreadsCountExactly) {
  Registry registry;
  Family<Counter>* family = *registry.AddCounter("x_total", "h");
  Counter* shared = *family->Add({{"kind", "shared"}});
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Counter* own = *family->Add({{"thread", std::to_string(t)}});
      for (int i = 0; i < kIterations; ++i) {
        shared->Increment();
        own->Increment(0.5);
        if (i % 100 == 0) (*family->Add({{"kind", "looked_up"}}))->Increment();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(shared->Value(), kThreads * kIterations);
  EXPECT_EQ((*family->Add({{"kind", "looked_up"}}))->Value(), kThreads * (kIterations / 100));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ((*family->Add({{"thread", std::to_string(t)}}))->Value(), kIterations * 0.5);
  }
}

TEST(Concurrency, FamiliesAndSeriesAddedFromManyThreadsAllAppear) {
  Registry registry;
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto family = registry.AddGauge("g" + std::to_string(t), "h");
      if (!family.ok()) ++failures;
      for (int i = 0; i < 200 && family.ok(); ++i)
        (*(*family)->Add({{"i", std::to_string(i)}}))->Set(i);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);
  const std::vector<MetricFamily> families = registry.Collect();
  ASSERT_EQ(families.size(), static_cast<size_t>(kThreads));
  for (const MetricFamily& family : families) EXPECT_EQ(family.series.size(), 200u);
}

TEST(Concurrency, ScrapesDuringUpdatesAreWellFormedAndNeverGoBack) {
  Registry registry;
  Counter* counter = *(*registry.AddCounter("x_total", "h"))->Add({});
  Histogram* histogram = *(*registry.AddHistogram("y_seconds", "h", {0.25, 0.5, 0.75}))->Add({});
  std::atomic<int> writers_left = kThreads;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&] {
      for (int i = 0; i < kIterations; ++i) {
        counter->Increment();
        histogram->Observe((i % 4) * 0.25 + 0.125);  // One in each bucket, +Inf included.
      }
      --writers_left;
    });
  }
  int scrapes = 0;
  double last_count = 0;
  uint64_t last_histogram_count = 0;
  // Scrape until every writer is done, then once more.
  for (bool last = false; !last;) {
    last = writers_left == 0;
    const TextExposition exposition = SerializeText(registry.Collect());
    ASSERT_TRUE(CheckTextExposition(exposition.text).ok())
        << CheckTextExposition(exposition.text) << "\n"
        << exposition.text;
    const std::vector<MetricFamily> families = registry.Collect();
    EXPECT_GE(families[0].series[0].value, last_count);
    EXPECT_GE(families[1].series[0].histogram.count, last_histogram_count);
    last_count = families[0].series[0].value;
    last_histogram_count = families[1].series[0].histogram.count;
    ++scrapes;
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_GE(scrapes, 1);
  EXPECT_EQ(counter->Value(), kThreads * kIterations);
  const HistogramData data = histogram->Snapshot();
  EXPECT_EQ(data.count, static_cast<uint64_t>(kThreads * kIterations));
  ASSERT_EQ(data.buckets.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(data.buckets[i].cumulative_count, (i + 1) * kThreads * kIterations / 4);
  }
  EXPECT_EQ(data.sum, kThreads * (kIterations / 4) * (0.125 + 0.375 + 0.625 + 0.875));
}

}  // namespace
}  // namespace fscanary::metrics
