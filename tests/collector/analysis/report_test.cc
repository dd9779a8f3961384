#include "collector/analysis/report.h"

#include <limits>
#include <set>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace fscanary::analysis {
namespace {

AnalysisResult Example() {
  AnalysisResult result;
  result.hosts = 2500;
  result.epochs = 3000;
  result.events = 12;
  Suspect suspect{.attributes = {{"scheduler", "none"}, {"blk_mq", "on"}},
                  .aliases = {{{"kernel_series", "4.19"}, {"CONFIG_X", "y"}}},
                  .implied = {{"driver", "virtio_scsi"}},
                  .rate_ratio = std::numeric_limits<double>::infinity(),
                  .ci_low = 40,
                  .ci_high = std::numeric_limits<double>::infinity(),
                  .p_value = 1e-14,
                  .q_value = 2e-9,
                  .events = 12,
                  .exposure_bytes = 7.2e13,
                  .exposure_share = 0.06,
                  .explanation = "12 of 12 events ..."};
  result.suspects.push_back(suspect);
  result.kernel_versions = {.rows = {{.kernel = "4.19.2", .events = 12, .in_suspect = true}},
                            .first_affected = "4.19.2",
                            .last_affected = "4.19.2",
                            .last_clean = "4.18.20",
                            .statement = "Events on kernel 4.19.2 ..."};
  return result;
}

std::set<std::string> Keys(const nlohmann::json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

TEST(FormatJson, HasTheFieldsTheIssueSpecifies) {
  const nlohmann::json document =
      nlohmann::json::parse(FormatJson(Example()), nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(document.is_discarded());
  EXPECT_EQ(Keys(document),
            (std::set<std::string>{"suspects", "kernel_versions", "hosts", "events"}));
  EXPECT_EQ(document["hosts"], 2500);
  EXPECT_EQ(document["events"], 12);
  const nlohmann::json& suspect = document["suspects"][0];
  EXPECT_EQ(Keys(suspect),
            (std::set<std::string>{"attributes", "rate_ratio", "ci_low", "ci_high", "p_value",
                                   "q_value", "events", "exposure_bytes", "aliases", "implied",
                                   "indistinguishable", "explanation"}));
  EXPECT_EQ(suspect["attributes"], (nlohmann::json{{"scheduler", "none"}, {"blk_mq", "on"}}));
  EXPECT_EQ(suspect["aliases"][0], (nlohmann::json{{"kernel_series", "4.19"}, {"CONFIG_X", "y"}}));
  EXPECT_EQ(suspect["p_value"], 1e-14);
  EXPECT_EQ(suspect["ci_low"], 40);
  EXPECT_EQ(suspect["exposure_bytes"], 7.2e13);
}

TEST(FormatJson, InfiniteRatiosAreNull) {
  const nlohmann::json document = nlohmann::json::parse(FormatJson(Example()));
  EXPECT_TRUE(document["suspects"][0]["ci_high"].is_null());
  EXPECT_TRUE(document["suspects"][0]["rate_ratio"].is_null());
}

TEST(FormatJson, KernelVersionsCarryTheBracket) {
  const nlohmann::json kernel = nlohmann::json::parse(FormatJson(Example()))["kernel_versions"];
  EXPECT_EQ(kernel["last_clean"], "4.18.20");
  EXPECT_EQ(kernel["first_affected"], "4.19.2");
  EXPECT_TRUE(kernel["first_clean_after"].is_null());
  EXPECT_EQ(kernel["releases"][0]["kernel"], "4.19.2");
}

TEST(FormatText, RanksSuspectsAndPrintsTheExplanations) {
  const std::string text = FormatText(Example());
  EXPECT_NE(text.find("scheduler=none ∧ blk_mq=on"), std::string::npos) << text;
  EXPECT_NE(text.find("∞ (40–∞)"), std::string::npos) << text;
  EXPECT_NE(text.find("1. 12 of 12 events ..."), std::string::npos) << text;
  EXPECT_NE(text.find("Kernel: Events on kernel 4.19.2 ..."), std::string::npos) << text;
}

TEST(FormatText, SaysSoWhenThereIsNoSuspect) {
  AnalysisResult result;
  EXPECT_NE(FormatText(result).find("No suspects"), std::string::npos);
}

}  // namespace
}  // namespace fscanary::analysis
