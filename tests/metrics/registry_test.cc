// Registration and label validation: bad names are refused with a status when
// they are registered, never at scrape time.

#include "metrics/registry.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/names.h"

namespace fscanary::metrics {
namespace {

using ::testing::HasSubstr;

MATCHER_P(HasCode, code, "") { return arg.code() == code; }

TEST(Names, MetricNamesFollowThePrometheusDataModel) {
  for (const char* good : {"a", "_a", "a:b", "fscanary_findings_total", "A1_b2:c3"}) {
    EXPECT_TRUE(ValidateMetricName(good).ok()) << good;
  }
  for (const char* bad : {"", "1a", "a-b", "a b", "a.b", "caf\xc3\xa9", "a{b}"}) {
    EXPECT_THAT(ValidateMetricName(bad), HasCode(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(Names, LabelNamesFollowThePrometheusDataModelAndLeaveDoubleUnderscoreToIt) {
  for (const char* good : {"a", "_a", "kernel", "blk_mq", "A1"}) {
    EXPECT_TRUE(ValidateLabelName(good).ok()) << good;
  }
  for (const char* bad : {"", "1a", "a-b", "a:b", "__name__", "__x", "a b"}) {
    EXPECT_THAT(ValidateLabelName(bad), HasCode(absl::StatusCode::kInvalidArgument)) << bad;
  }
}

TEST(Names, Utf8IsValidatedStrictly) {
  EXPECT_TRUE(ValidateUtf8("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", "x").ok());
  for (const char* bad : {"\xff", "\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
    EXPECT_FALSE(ValidateUtf8(bad, "x").ok()) << bad;
  }
}

TEST(Registry, RefusesBadOrMisleadingFamilyNames) {
  Registry registry;
  EXPECT_THAT(registry.AddCounter("bad-name_total", "h").status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.AddCounter("fscanary_findings", "h").status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.AddGauge("fscanary_hosts_total", "h").status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.AddGauge("fscanary_hosts", "").status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.AddGauge("fscanary_hosts", "bad \xff").status(),
              HasCode(absl::StatusCode::kInvalidArgument));
}

TEST(Registry, RefusesANameTakenByAnotherFamilyOrByAHistogramsSamples) {
  Registry registry;
  ASSERT_TRUE(registry.AddGauge("fscanary_hosts", "h").ok());
  EXPECT_THAT(registry.AddGauge("fscanary_hosts", "h").status(),
              HasCode(absl::StatusCode::kAlreadyExists));
  ASSERT_TRUE(registry.AddHistogram("fscanary_latency_seconds", "h", {1}).ok());
  EXPECT_THAT(registry.AddGauge("fscanary_latency_seconds_count", "h").status(),
              HasCode(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(registry.AddGauge("fscanary_latency_seconds", "h").status(),
              HasCode(absl::StatusCode::kAlreadyExists));
}

TEST(Registry, RefusesHistogramBoundsThatAreNotFiniteAndIncreasing) {
  Registry registry;
  EXPECT_THAT(registry.AddHistogram("a_seconds", "h", {1, 0.5}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.AddHistogram("b_seconds", "h", {1, 1}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.AddHistogram("c_seconds", "h", {NAN}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(registry.AddHistogram("d_seconds", "h", {-INFINITY, 1}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  // A trailing +Inf is the bucket every histogram has anyway.
  auto family = registry.AddHistogram("e_seconds", "h", {1, INFINITY});
  ASSERT_TRUE(family.ok());
  Histogram* histogram = *(*family)->Add({});
  histogram->Observe(5);
  EXPECT_EQ(histogram->Snapshot().buckets.size(), 1u);
}

TEST(Family, AddRefusesBadLabelsWithAStatus) {
  Registry registry;
  Family<Counter>* counters = *registry.AddCounter("x_total", "h");
  Family<Histogram>* histograms = *registry.AddHistogram("y_seconds", "h", {1});
  EXPECT_THAT(counters->Add({{"__reserved", "v"}}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(counters->Add({{"bad-name", "v"}}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(counters->Add({{"kind", "\xff"}}).status(),
              HasCode(absl::StatusCode::kInvalidArgument));
  const absl::Status le = histograms->Add({{"le", "1"}}).status();
  EXPECT_THAT(le, HasCode(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(le.message()), HasSubstr("y_seconds"));
  // "le" means nothing special outside histograms.
  EXPECT_TRUE(counters->Add({{"le", "1"}}).ok());
}

TEST(Family, AddReturnsTheSameSeriesForTheSameLabelsWhileOthersAreAdded) {
  Registry registry;
  Family<Counter>* family = *registry.AddCounter("x_total", "h");
  Counter* first = *family->Add({{"kind", "lost_write"}, {"fs", "ext4"}});
  first->Increment();
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(family->Add({{"kind", std::to_string(i)}}).ok());
  Counter* again = *family->Add({{"fs", "ext4"}, {"kind", "lost_write"}});
  EXPECT_EQ(again, first);
  EXPECT_EQ(again->Value(), 1);
}

TEST(Family, EmptyLabelValueAddressesTheSeriesWithoutThatLabel) {
  Registry registry;
  Family<Gauge>* family = *registry.AddGauge("x", "h");
  EXPECT_EQ(*family->Add({{"scheduler", ""}}), *family->Add({}));
}

TEST(Family, RemoveForgetsASeries) {
  Registry registry;
  Family<Gauge>* family = *registry.AddGauge("x", "h");
  (*family->Add({{"host", "a"}}))->Set(1);
  (*family->Add({{"host", "b"}}))->Set(2);
  EXPECT_TRUE(family->Remove({{"host", "a"}}));
  EXPECT_FALSE(family->Remove({{"host", "a"}}));
  const std::vector<MetricFamily> collected = family->Collect();
  ASSERT_EQ(collected.size(), 1u);
  ASSERT_EQ(collected[0].series.size(), 1u);
  EXPECT_EQ(collected[0].series[0].labels, (Labels{{"host", "b"}}));
  EXPECT_EQ((*family->Add({{"host", "a"}}))->Value(), 0);
}

TEST(Counter, CountsWholeAndFractionalIncrementsAndNeverGoesDown) {
  Counter counter;
  counter.Increment();
  counter.Increment(2);
  counter.Increment(0.25);
  counter.Increment(-5);
  counter.Increment(NAN);
  counter.Increment(0);
  EXPECT_EQ(counter.Value(), 3.25);
}

TEST(Gauge, SetsIncrementsDecrementsAndTakesTheTime) {
  Gauge gauge;
  gauge.Set(5);
  gauge.Increment();
  gauge.Decrement(2.5);
  EXPECT_EQ(gauge.Value(), 3.5);
  const double before =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  gauge.SetToCurrentTime();
  const double after =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GE(gauge.Value(), before);
  EXPECT_LE(gauge.Value(), after);
}

TEST(Histogram, ValueOnABoundCountsInThatBucket) {
  Histogram histogram({.upper_bounds = std::make_shared<const std::vector<double>>(
                           std::vector<double>{0.5, 1, 2})});
  for (double value : {-1.0, 0.5, 0.75, 1.0, 2.0, 2.5, std::nan("")}) histogram.Observe(value);
  const HistogramData data = histogram.Snapshot();
  ASSERT_EQ(data.buckets.size(), 3u);
  EXPECT_EQ(data.buckets[0].cumulative_count, 2u);  // -1, 0.5
  EXPECT_EQ(data.buckets[1].cumulative_count, 4u);  // 0.75, 1
  EXPECT_EQ(data.buckets[2].cumulative_count, 5u);  // 2
  EXPECT_EQ(data.count, 7u);                        // 2.5 and NaN only in +Inf
  EXPECT_TRUE(std::isnan(data.sum));
}

TEST(Histogram, BoundHelpersMakeTheExpectedBounds) {
  EXPECT_EQ(ExponentialBounds(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_TRUE(ExponentialBounds(0, 2, 4).empty());
  EXPECT_TRUE(CheckedBucketBounds(DefaultLatencyBounds()).ok());
}

TEST(HistogramFromBucketCounts, AccumulatesPerBucketCounts) {
  const HistogramData data = HistogramFromBucketCounts({1, 2}, {3, 0, 4}, 9.5);
  ASSERT_EQ(data.buckets.size(), 2u);
  EXPECT_EQ(data.buckets[0].cumulative_count, 3u);
  EXPECT_EQ(data.buckets[1].cumulative_count, 3u);
  EXPECT_EQ(data.count, 7u);
  EXPECT_EQ(data.sum, 9.5);
}

}  // namespace
}  // namespace fscanary::metrics
