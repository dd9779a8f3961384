// What the serializer does with collectables that misbehave: families merged
// and sorted, duplicates and malformed series dropped, never a broken
// exposition.

#include "metrics/normalize.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition_check.h"
#include "metrics/text_format.h"
#include "tests/metrics/test_support.h"

namespace fscanary::metrics {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

MetricFamily Gauge(std::string name, std::vector<std::pair<std::string, double>> hosts) {
  MetricFamily family{.name = std::move(name), .help = "h", .type = MetricType::kGauge};
  for (auto& [host, value] : hosts)
    family.series.push_back({.labels = {{"host", host}}, .value = value});
  return family;
}

// SerializeText, checked: whatever went in, what comes out passes the checker.
TextExposition Serialize(std::vector<MetricFamily> families) {
  TextExposition exposition = SerializeText(std::move(families));
  EXPECT_TRUE(CheckTextExposition(exposition.text).ok())
      << CheckTextExposition(exposition.text) << "\n"
      << exposition.text;
  return exposition;
}

TEST(Normalize, FamiliesComeOutSortedByName) {
  const TextExposition exposition = Serialize({Gauge("b", {{"h1", 1}}), Gauge("a", {{"h1", 2}})});
  EXPECT_EQ(exposition.text,
            "# HELP a h\n# TYPE a gauge\na{host=\"h1\"} 2\n"
            "# HELP b h\n# TYPE b gauge\nb{host=\"h1\"} 1\n");
}

TEST(Normalize, PartsOfOneFamilyFromTwoCollectablesAreMergedNotSplit) {
  const TextExposition exposition = Serialize(
      {Gauge("up", {{"h3", 1}}), Gauge("other", {{"h1", 5}}), Gauge("up", {{"h1", 0}, {"h2", 1}})});
  EXPECT_THAT(exposition.problems, IsEmpty());
  EXPECT_EQ(
      exposition.text,
      "# HELP other h\n# TYPE other gauge\nother{host=\"h1\"} 5\n"
      "# HELP up h\n# TYPE up gauge\nup{host=\"h1\"} 0\nup{host=\"h2\"} 1\nup{host=\"h3\"} 1\n");
}

TEST(Normalize, DuplicateSeriesIsDroppedAndReported) {
  const TextExposition exposition = Serialize({Gauge("up", {{"h1", 1}}), Gauge("up", {{"h1", 7}})});
  EXPECT_EQ(exposition.text, "# HELP up h\n# TYPE up gauge\nup{host=\"h1\"} 1\n");
  ASSERT_THAT(exposition.problems, SizeIs(1));
  EXPECT_THAT(exposition.problems[0], HasSubstr("duplicate series up{host=\"h1\"}"));
}

TEST(Normalize, EmptyLabelValueMakesTheSameSeriesAsNoLabel) {
  MetricFamily family{.name = "x", .help = "h", .type = MetricType::kGauge};
  family.series.push_back({.labels = {}, .value = 1});
  family.series.push_back({.labels = {{"kernel", ""}}, .value = 2});
  const TextExposition exposition = Serialize({family});
  EXPECT_EQ(exposition.text, "# HELP x h\n# TYPE x gauge\nx 1\n");
  EXPECT_THAT(exposition.problems, SizeIs(1));
}

TEST(Normalize, FamilyReportedWithAnotherTypeIsDropped) {
  MetricFamily counter{
      .name = "up", .help = "h", .type = MetricType::kCounter, .series = {Series{.value = 3}}};
  const TextExposition exposition = Serialize({Gauge("up", {{"h1", 1}}), counter});
  EXPECT_EQ(exposition.text, "# HELP up h\n# TYPE up gauge\nup{host=\"h1\"} 1\n");
  ASSERT_THAT(exposition.problems, SizeIs(1));
  EXPECT_THAT(exposition.problems[0], HasSubstr("reported as counter"));
}

TEST(Normalize, DifferingHelpKeepsTheFirstAndIsReported) {
  MetricFamily second = Gauge("up", {{"h2", 1}});
  second.help = "other";
  const TextExposition exposition = Serialize({Gauge("up", {{"h1", 1}}), second});
  EXPECT_THAT(exposition.text, HasSubstr("# HELP up h\n"));
  EXPECT_THAT(exposition.text, HasSubstr("up{host=\"h2\"} 1\n"));
  EXPECT_THAT(exposition.problems, SizeIs(1));
}

TEST(Normalize, MalformedHistogramsAreDroppedNotWritten) {
  MetricFamily family{.name = "lat_seconds", .help = "h", .type = MetricType::kHistogram};
  family.series.push_back(
      {.labels = {{"case", "good"}}, .histogram = HistogramFromBucketCounts({1, 2}, {1, 1, 1}, 3)});
  family.series.push_back({.labels = {{"case", "not_cumulative"}},
                           .histogram = {.buckets = {{1, 5}, {2, 3}}, .count = 5, .sum = 1}});
  family.series.push_back({.labels = {{"case", "unsorted"}},
                           .histogram = {.buckets = {{2, 1}, {1, 1}}, .count = 1, .sum = 1}});
  family.series.push_back({.labels = {{"case", "above_count"}},
                           .histogram = {.buckets = {{1, 4}}, .count = 3, .sum = 1}});
  family.series.push_back({.labels = {{"case", "nan_bound"}},
                           .histogram = {.buckets = {{NAN, 0}}, .count = 0, .sum = 0}});
  const TextExposition exposition = Serialize({family});
  EXPECT_THAT(exposition.problems, SizeIs(4));
  EXPECT_THAT(exposition.text, HasSubstr("case=\"good\""));
  EXPECT_THAT(exposition.text, Not(HasSubstr("not_cumulative")));
  EXPECT_THAT(exposition.text, Not(HasSubstr("unsorted")));
  EXPECT_THAT(exposition.text, Not(HasSubstr("above_count")));
  EXPECT_THAT(exposition.text, Not(HasSubstr("nan_bound")));
}

TEST(Normalize, NegativeCounterIsDropped) {
  MetricFamily counter{.name = "x_total", .help = "h", .type = MetricType::kCounter};
  counter.series.push_back({.labels = {{"host", "a"}}, .value = -1});
  counter.series.push_back({.labels = {{"host", "b"}}, .value = 2});
  const TextExposition exposition = Serialize({counter});
  EXPECT_EQ(exposition.text, "# HELP x_total h\n# TYPE x_total counter\nx_total{host=\"b\"} 2\n");
  EXPECT_THAT(exposition.problems, SizeIs(1));
}

TEST(Normalize, InvalidNamesFromACollectableAreDropped) {
  MetricFamily bad_name = Gauge("bad-name", {{"h1", 1}});
  MetricFamily bad_label{.name = "ok", .help = "h", .type = MetricType::kGauge};
  bad_label.series.push_back({.labels = {{"bad-label", "v"}}});
  bad_label.series.push_back({.labels = {{"good", "\xff"}}});
  bad_label.series.push_back({.labels = {{"good", "v"}}});
  MetricFamily histogram_le{.name = "lat", .help = "h", .type = MetricType::kHistogram};
  histogram_le.series.push_back({.labels = {{"le", "1"}}});
  const TextExposition exposition = Serialize({bad_name, bad_label, histogram_le});
  EXPECT_EQ(exposition.text, "# HELP ok h\n# TYPE ok gauge\nok{good=\"v\"} 0\n");
  EXPECT_THAT(exposition.problems, SizeIs(4));
}

TEST(Normalize, FamilyNamedLikeAHistogramSampleIsDropped) {
  MetricFamily histogram{.name = "lat",
                         .help = "h",
                         .type = MetricType::kHistogram,
                         .series = {Series{.histogram = {.count = 1, .sum = 1}}}};
  const TextExposition exposition = Serialize({histogram, Gauge("lat_count", {{"h1", 9}})});
  EXPECT_THAT(exposition.text, Not(HasSubstr("lat_count{host")));
  ASSERT_THAT(exposition.problems, SizeIs(1));
  EXPECT_THAT(exposition.problems[0], HasSubstr("lat_count"));
}

TEST(Normalize, SeriesAreSortedByLabels) {
  const NormalizedFamilies normalized =
      NormalizeFamilies({Gauge("up", {{"h3", 3}, {"h1", 1}, {"h2", 2}})});
  ASSERT_THAT(normalized.families, SizeIs(1));
  std::vector<double> values;
  for (const Series& series : normalized.families[0].series) values.push_back(series.value);
  EXPECT_THAT(values, ElementsAre(1, 2, 3));
}

}  // namespace
}  // namespace fscanary::metrics
