// The text exposition: exact output, number spelling, escaping, locale.

#include "metrics/text_format.h"

#include <clocale>
#include <cmath>
#include <cstring>
#include <locale>
#include <random>
#include <sstream>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "metrics/registry.h"
#include "tests/metrics/test_support.h"

namespace fscanary::metrics {
namespace {

using testing::SerializeChecked;

template <typename T>
T* Must(absl::StatusOr<T*> result) {
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : nullptr;
}

TEST(TextFormat, RegistryIsWrittenExactlyAsTheFormatSpecifies) {
  Registry registry;
  auto* findings =
      Must(registry.AddCounter("fscanary_findings_total", "Corruption findings by kind."));
  Must(findings->Add({{"kind", "misdirected_write"}}))->Increment();
  Counter* lost = Must(findings->Add({{"kind", "lost_write"}}));
  lost->Increment();
  lost->Increment();
  Must(Must(registry.AddGauge("fscanary_agents_connected", "Agents connected now."))->Add({}))
      ->Set(3);
  auto* latency = Must(registry.AddHistogram("fscanary_ingest_latency_seconds",
                                             "Time to ingest one report.", {0.005, 0.5, 1, 2.5}));
  Histogram* histogram = Must(latency->Add({}));
  for (double seconds : {0.00390625, 0.25, 0.5, 1.0, 3.0}) histogram->Observe(seconds);

  EXPECT_EQ(SerializeChecked(registry.Collect()),
            R"(# HELP fscanary_agents_connected Agents connected now.
# TYPE fscanary_agents_connected gauge
fscanary_agents_connected 3
# HELP fscanary_findings_total Corruption findings by kind.
# TYPE fscanary_findings_total counter
fscanary_findings_total{kind="lost_write"} 2
fscanary_findings_total{kind="misdirected_write"} 1
# HELP fscanary_ingest_latency_seconds Time to ingest one report.
# TYPE fscanary_ingest_latency_seconds histogram
fscanary_ingest_latency_seconds_bucket{le="0.005"} 1
fscanary_ingest_latency_seconds_bucket{le="0.5"} 3
fscanary_ingest_latency_seconds_bucket{le="1.0"} 4
fscanary_ingest_latency_seconds_bucket{le="2.5"} 4
fscanary_ingest_latency_seconds_bucket{le="+Inf"} 5
fscanary_ingest_latency_seconds_sum 4.75390625
fscanary_ingest_latency_seconds_count 5
)");
}

TEST(TextFormat, HistogramLabelsComeBeforeLeAndEachSeriesIsWrittenWhole) {
  MetricFamily family{.name = "fscanary_storage_latency_seconds",
                      .help = "Storage latency.",
                      .type = MetricType::kHistogram};
  family.series.push_back(
      {.labels = {{"op", "write"}}, .histogram = HistogramFromBucketCounts({0.1}, {0, 2}, 0.5)});
  family.series.push_back(
      {.labels = {{"op", "read"}}, .histogram = HistogramFromBucketCounts({0.1}, {3, 1}, 0.25)});
  EXPECT_EQ(SerializeChecked({family}),
            R"(# HELP fscanary_storage_latency_seconds Storage latency.
# TYPE fscanary_storage_latency_seconds histogram
fscanary_storage_latency_seconds_bucket{op="read",le="0.1"} 3
fscanary_storage_latency_seconds_bucket{op="read",le="+Inf"} 4
fscanary_storage_latency_seconds_sum{op="read"} 0.25
fscanary_storage_latency_seconds_count{op="read"} 4
fscanary_storage_latency_seconds_bucket{op="write",le="0.1"} 0
fscanary_storage_latency_seconds_bucket{op="write",le="+Inf"} 2
fscanary_storage_latency_seconds_sum{op="write"} 0.5
fscanary_storage_latency_seconds_count{op="write"} 2
)");
}

TEST(TextFormat, HistogramWithoutFiniteBoundsHasOnlyTheInfBucket) {
  MetricFamily family{.name = "x_seconds", .help = "x.", .type = MetricType::kHistogram};
  family.series.push_back({.histogram = {.count = 7, .sum = 1.5}});
  EXPECT_EQ(SerializeChecked({family}), R"(# HELP x_seconds x.
# TYPE x_seconds histogram
x_seconds_bucket{le="+Inf"} 7
x_seconds_sum 1.5
x_seconds_count 7
)");
}

TEST(TextFormat, HelpEscapesBackslashAndNewlineOnly) {
  MetricFamily family{.name = "x",
                      .help = "Path C:\\dir, \"quoted\",\nsecond line.",
                      .type = MetricType::kGauge,
                      .series = {Series{.value = 1}}};
  EXPECT_EQ(SerializeChecked({family}),
            "# HELP x Path C:\\\\dir, \"quoted\",\\nsecond line.\n# TYPE x gauge\nx 1\n");
}

TEST(TextFormat, LabelValuesEscapeBackslashQuoteAndNewline) {
  MetricFamily family{.name = "x", .help = "h", .type = MetricType::kGauge};
  family.series.push_back(
      {.labels = {{"path", "C:\\new \"dir\"\nnext"}, {"utf8", "caf\xc3\xa9 \xe2\x9c\x93"}}});
  EXPECT_EQ(SerializeChecked({family}),
            "# HELP x h\n# TYPE x gauge\n"
            "x{path=\"C:\\\\new \\\"dir\\\"\\nnext\",utf8=\"caf\xc3\xa9 \xe2\x9c\x93\"} 0\n");
}

TEST(TextFormat, LabelWithEmptyValueIsLeftOut) {
  MetricFamily family{.name = "x", .help = "h", .type = MetricType::kGauge};
  family.series.push_back({.labels = {{"a", ""}, {"b", "1"}}, .value = 2});
  EXPECT_EQ(SerializeChecked({family}), "# HELP x h\n# TYPE x gauge\nx{b=\"1\"} 2\n");
}

TEST(TextFormat, EmptyHelpWritesNoHelpLine) {
  MetricFamily family{.name = "x", .type = MetricType::kCounter, .series = {Series{.value = 1}}};
  EXPECT_EQ(SerializeChecked({family}), "# TYPE x counter\nx 1\n");
}

TEST(TextFormat, NothingToExposeIsTheEmptyString) {
  EXPECT_EQ(SerializeChecked({}), "");
  Registry registry;
  ASSERT_TRUE(registry.AddCounter("x_total", "x.").ok());  // No series yet.
  EXPECT_EQ(SerializeChecked(registry.Collect()), "");
}

TEST(TextFormat, SpecialValuesAreSpelledAsPrometheusExpects) {
  MetricFamily family{.name = "x", .help = "h", .type = MetricType::kGauge};
  family.series.push_back({.labels = {{"v", "nan"}}, .value = std::nan("")});
  family.series.push_back({.labels = {{"v", "neg"}}, .value = -INFINITY});
  family.series.push_back({.labels = {{"v", "pos"}}, .value = INFINITY});
  EXPECT_EQ(SerializeChecked({family}),
            "# HELP x h\n# TYPE x gauge\n"
            "x{v=\"nan\"} NaN\nx{v=\"neg\"} -Inf\nx{v=\"pos\"} +Inf\n");
}

TEST(FormatValue, MatchesTheGoClientsShortestForm) {
  const std::pair<double, const char*> cases[] = {
      {0, "0"},
      {-0.0, "-0"},
      {1, "1"},
      {-1, "-1"},
      {0.5, "0.5"},
      {0.1, "0.1"},
      {0.0001, "0.0001"},
      {0.00001, "1e-05"},
      {1.5e-7, "1.5e-07"},
      {100000, "100000"},
      {123456.5, "123456.5"},
      {1e6, "1e+06"},
      {1234567, "1.234567e+06"},
      {1700000000.5, "1.7000000005e+09"},
      {9007199254740993.0, "9.007199254740992e+15"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {5e-324, "5e-324"},
      {std::nan(""), "NaN"},
      {INFINITY, "+Inf"},
      {-INFINITY, "-Inf"},
  };
  for (const auto& [value, expected] : cases) EXPECT_EQ(FormatValue(value), expected) << value;
}

TEST(FormatBucketBound, WholeNumbersGetPointZeroLikeOpenMetrics) {
  const std::pair<double, const char*> cases[] = {
      {1, "1.0"},   {10, "10.0"},         {0, "0.0"},     {-1, "-1.0"},     {0.005, "0.005"},
      {2.5, "2.5"}, {100000, "100000.0"}, {1e6, "1e+06"}, {1e-05, "1e-05"}, {INFINITY, "+Inf"},
  };
  for (const auto& [bound, expected] : cases) EXPECT_EQ(FormatBucketBound(bound), expected);
}

// Parses `text` the way Prometheus does for the cases we write (Go's ParseFloat
// agrees with strtod in the C locale on these spellings).
double ParseAsPrometheus(const std::string& text) {
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  double value = 0;
  EXPECT_TRUE(absl::SimpleAtod(text, &value)) << text;
  return value;
}

TEST(FormatBucketBound, EveryBoundParsesBackToTheSameDouble) {
  std::vector<double> bounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  for (double bound = 1e-9; bound < 1e12; bound *= 1.7) bounds.push_back(bound);
  std::mt19937_64 random(42);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t bits = random();
    double value = 0;
    std::memcpy(&value, &bits, sizeof(value));
    if (std::isfinite(value)) bounds.push_back(value);
  }
  for (double bound : bounds) {
    EXPECT_EQ(ParseAsPrometheus(FormatBucketBound(bound)), bound) << FormatBucketBound(bound);
    EXPECT_EQ(ParseAsPrometheus(FormatValue(bound)), bound) << FormatValue(bound);
  }
}

// Turns the process into a comma-decimal one: the C++ global locale gets a
// numpunct with ',' (no such locale need be installed), and the C locale too
// when the system has one. Restores both on destruction.
class CommaDecimalLocale {
 public:
  CommaDecimalLocale()
      : previous_(std::locale::global(std::locale(std::locale::classic(), new CommaNumpunct))) {
    for (const char* name :
         {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "nl_NL.UTF-8", "ru_RU.UTF-8"}) {
      if (std::setlocale(LC_ALL, name) != nullptr) {
        c_locale_ = name;
        break;
      }
    }
  }
  ~CommaDecimalLocale() {
    std::setlocale(LC_ALL, "C");
    std::locale::global(previous_);
  }
  const char* c_locale() const { return c_locale_; }

 private:
  struct CommaNumpunct : std::numpunct<char> {
    char do_decimal_point() const override { return ','; }
    char do_thousands_sep() const override { return '.'; }
    std::string do_grouping() const override { return "\3"; }
  };
  std::locale previous_;
  const char* c_locale_ = nullptr;
};

TEST(TextFormat, NumbersDoNotFollowTheProcessLocale) {
  CommaDecimalLocale comma_decimal;
  // The environment is really comma-decimal for code that uses the locale.
  std::ostringstream naive;
  naive << 1234.5;
  ASSERT_EQ(naive.str(), "1.234,5");
  if (comma_decimal.c_locale() != nullptr) {
    char printed[32];
    std::snprintf(printed, sizeof(printed), "%g", 0.5);
    EXPECT_STREQ(printed, "0,5") << comma_decimal.c_locale();
  }

  MetricFamily gauge{.name = "g", .help = "h", .type = MetricType::kGauge};
  gauge.series.push_back({.value = 1234.5});
  MetricFamily histogram{.name = "h_seconds", .help = "h", .type = MetricType::kHistogram};
  histogram.series.push_back(
      {.histogram = HistogramFromBucketCounts({0.25, 1000}, {1, 0, 0}, 0.125)});
  EXPECT_EQ(SerializeChecked({gauge, histogram}),
            R"(# HELP g h
# TYPE g gauge
g 1234.5
# HELP h_seconds h
# TYPE h_seconds histogram
h_seconds_bucket{le="0.25"} 1
h_seconds_bucket{le="1000.0"} 1
h_seconds_bucket{le="+Inf"} 1
h_seconds_sum 0.125
h_seconds_count 1
)");
  EXPECT_EQ(FormatValue(1234567.5), "1.2345675e+06");
}

}  // namespace
}  // namespace fscanary::metrics
