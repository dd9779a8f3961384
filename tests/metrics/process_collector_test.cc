// The standard process metrics and fscanary_build_info.

#include "metrics/process_collector.h"

#include <chrono>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/build_info.h"
#include "metrics/registry.h"
#include "tests/metrics/test_support.h"

namespace fscanary::metrics {
namespace {

using ::testing::HasSubstr;

TEST(ParseProcStat, CountsFieldsFromTheLastParenthesis) {
  // A command name with spaces and a ')' inside must not shift the fields.
  const char stat[] =
      "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 500 0 0 0 "
      "150 25 0 0 20 0 3 0 98765 123456789 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 "
      "17 1 0 0 0 0 0\n";
  const std::optional<ProcStat> parsed = ParseProcStat(stat);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->user_ticks, 150u);
  EXPECT_EQ(parsed->system_ticks, 25u);
  EXPECT_EQ(parsed->start_ticks_after_boot, 98765u);
  EXPECT_EQ(parsed->virtual_memory_bytes, 123456789u);
  EXPECT_EQ(parsed->resident_pages, 2048u);
}

TEST(ParseProcStat, RefusesTextInAnotherFormat) {
  EXPECT_FALSE(ParseProcStat("").has_value());
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2 3").has_value());
  EXPECT_FALSE(ParseProcStat("no parenthesis at all").has_value());
}

TEST(ProcessCollector, ReportsThisProcessInBaseUnits) {
  std::map<std::string, MetricFamily> families;
  for (MetricFamily& family : ProcessCollector().Collect()) {
    families[family.name] = std::move(family);
  }
  ASSERT_EQ(families.size(), 6u);
  EXPECT_EQ(families["process_cpu_seconds_total"].type, MetricType::kCounter);
  EXPECT_GE(families["process_cpu_seconds_total"].series[0].value, 0);
  EXPECT_GT(families["process_resident_memory_bytes"].series[0].value, 1 << 20);
  EXPECT_GE(families["process_virtual_memory_bytes"].series[0].value,
            families["process_resident_memory_bytes"].series[0].value);
  EXPECT_GE(families["process_open_fds"].series[0].value, 3);
  EXPECT_GE(families["process_max_fds"].series[0].value,
            families["process_open_fds"].series[0].value);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double started = families["process_start_time_seconds"].series[0].value;
  EXPECT_LE(started, now + 1);
  EXPECT_GT(started, now - 3600);
  std::vector<MetricFamily> all;
  for (auto& [name, family] : families) all.push_back(family);
  testing::SerializeChecked(std::move(all));
}

TEST(BuildInfo, IsAConstantOneLabelledByVersionAndRevision) {
  Registry registry;
  ASSERT_TRUE(RegisterBuildInfo(registry, "0.1.0", "").ok());
  EXPECT_EQ(RegisterBuildInfo(registry, "0.1.0", "x").code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(testing::SerializeChecked(registry.Collect()),
              HasSubstr("# TYPE fscanary_build_info gauge\n"
                        "fscanary_build_info{revision=\"unknown\",version=\"0.1.0\"} 1\n"));
}

}  // namespace
}  // namespace fscanary::metrics
