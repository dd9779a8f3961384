// The checker must catch each defect promtool lets through, and pass good text.

#include "metrics/exposition_check.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fscanary::metrics {
namespace {

using ::testing::HasSubstr;

constexpr char kGood[] = R"(# HELP a_total Things.
# TYPE a_total counter
a_total{kind="x"} 1
a_total{kind="y"} 0
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{op="read",le="0.5"} 1
lat_seconds_bucket{op="read",le="1.0"} 2
lat_seconds_bucket{op="read",le="+Inf"} 3
lat_seconds_sum{op="read"} 4.5
lat_seconds_count{op="read"} 3
# TYPE z gauge
z{path="C:\\dir \"q\"\nx"} -1.5e-07
)";

void ExpectDefect(const std::string& text, const std::string& message) {
  const absl::Status status = CheckTextExposition(text);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_THAT(std::string(status.message()), HasSubstr(message)) << text;
}

TEST(CheckTextExposition, AcceptsWellFormedText) {
  EXPECT_TRUE(CheckTextExposition(kGood).ok()) << CheckTextExposition(kGood);
  EXPECT_TRUE(CheckTextExposition("").ok());
}

TEST(CheckTextExposition, FlagsAMissingFinalNewline) {
  ExpectDefect("# TYPE a gauge\na 1", "does not end in a newline");
}

TEST(CheckTextExposition, FlagsUnsortedBuckets) {
  ExpectDefect(R"(# TYPE h histogram
h_bucket{le="1.0"} 1
h_bucket{le="0.5"} 1
h_bucket{le="+Inf"} 1
h_sum 1
h_count 1
)",
               "not sorted by le");
}

TEST(CheckTextExposition, FlagsNonCumulativeBuckets) {
  ExpectDefect(R"(# TYPE h histogram
h_bucket{le="0.5"} 2
h_bucket{le="1.0"} 1
h_bucket{le="+Inf"} 2
h_sum 1
h_count 2
)",
               "not cumulative");
}

TEST(CheckTextExposition, FlagsInfBucketDifferentFromCount) {
  ExpectDefect(R"(# TYPE h histogram
h_bucket{le="+Inf"} 3
h_sum 1
h_count 4
)",
               "le=\"+Inf\" counts 3 but _count is 4");
}

TEST(CheckTextExposition, FlagsHistogramWithoutInfBucketCountOrSum) {
  ExpectDefect("# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_sum 1\nh_count 1\n",
               "no le=\"+Inf\" bucket");
  ExpectDefect("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n", "no _count");
  ExpectDefect("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", "no _sum");
  ExpectDefect("# TYPE h histogram\nh_sum 1\nh_count 1\n", "has no buckets");
}

TEST(CheckTextExposition, FlagsBoundsNotWrittenCanonically) {
  ExpectDefect(R"(# TYPE h histogram
h_bucket{le="1"} 1
h_bucket{le="+Inf"} 1
h_sum 1
h_count 1
)",
               "write le=\"1.0\"");
}

TEST(CheckTextExposition, FlagsFractionalOrNegativeCounts) {
  ExpectDefect("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1.5\nh_sum 1\nh_count 1.5\n",
               "not a whole count");
  ExpectDefect("# TYPE c_total counter\nc_total -1\n", "negative");
}

TEST(CheckTextExposition, FlagsDuplicateSeriesWhateverTheLabelOrder) {
  ExpectDefect("# TYPE g gauge\ng{a=\"1\",b=\"2\"} 1\ng{b=\"2\",a=\"1\"} 1\n", "duplicate series");
  // An empty label value is the same as no label.
  ExpectDefect("# TYPE g gauge\ng 1\ng{a=\"\"} 1\n", "duplicate series");
  ExpectDefect("# TYPE g gauge\ng{a=\"1\",a=\"2\"} 1\n", "appears twice");
}

TEST(CheckTextExposition, FlagsASplitFamily) {
  ExpectDefect("# TYPE a gauge\na{x=\"1\"} 1\n# TYPE b gauge\nb 1\na{x=\"2\"} 1\n", "split");
}

TEST(CheckTextExposition, FlagsUnsortedFamilies) {
  ExpectDefect("# TYPE b gauge\nb 1\n# TYPE a gauge\na 1\n", "not sorted");
}

TEST(CheckTextExposition, FlagsBadEscapesInLabelValuesAndHelp) {
  ExpectDefect("# TYPE g gauge\ng{a=\"tab\\there\"} 1\n", "invalid escape");
  ExpectDefect("# TYPE g gauge\ng{a=\"un\"quoted\"} 1\n", "expected , or }");
  ExpectDefect("# TYPE g gauge\ng{a=\"open} 1\n", "not closed");
  ExpectDefect("# HELP g ends in \\\n# TYPE g gauge\ng 1\n", "HELP of g has an invalid escape");
  ExpectDefect("# HELP g C:\\dir\n# TYPE g gauge\ng 1\n", "HELP of g has an invalid escape");
}

TEST(CheckTextExposition, FlagsNumbersSpelledByALocaleOrByC) {
  ExpectDefect("# TYPE g gauge\ng 0,5\n", "not a number");
  ExpectDefect("# TYPE g gauge\ng inf\n", "not a number");
  ExpectDefect("# TYPE g gauge\ng nan\n", "not a number");
  ExpectDefect("# TYPE g gauge\ng 1 2 3\n", "timestamp");
}

TEST(CheckTextExposition, FlagsMissingOrMisplacedTypeAndHelp) {
  ExpectDefect("g 1\n", "has no TYPE line");
  ExpectDefect("# TYPE g gauge\ng 1\n# TYPE g gauge\n", "second TYPE");
  ExpectDefect("# TYPE g gauge\ng 1\n# HELP g late\n", "HELP for g after its samples");
  ExpectDefect("# TYPE g gaug\ng 1\n", "unknown TYPE");
}

TEST(CheckTextExposition, FlagsGrammarTheSerializerNeverWrites) {
  ExpectDefect("# TYPE g gauge\n\ng 1\n", "empty line");
  ExpectDefect("# TYPE g gauge\ng{a=\"1\",} 1\n", "trailing comma");
  ExpectDefect("# TYPE g gauge\ng  1\n", "not a number");
  ExpectDefect("# TYPE g gauge\ng{1a=\"1\"} 1\n", "invalid label name");
  ExpectDefect("# TYPE g gauge\ng \xff\n", "UTF-8");
}

TEST(CheckTextExposition, NamesTheLineOfTheDefect) {
  ExpectDefect("# TYPE g gauge\ng 1\ng 2\n", "line 3:");
}

}  // namespace
}  // namespace fscanary::metrics
