#include "collector/analysis/analysis.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"
#include "tests/collector/analysis/hand_fleet.h"

namespace fscanary::analysis {
namespace {

std::set<std::string> Names(const std::vector<AttributeValue>& attributes) {
  std::set<std::string> names;
  for (const AttributeValue& a : attributes) names.insert(a.attribute + "=" + a.value);
  return names;
}

// 600 hosts on a 2x2x3 grid of attributes a, b, c; 70% on ext4. Every other
// host with a=x and b=p (every eighth host, so c and fs vary among them) has
// one event: the cause is the conjunction a=x ∧ b=p.
std::vector<HandEpoch> GridFleet() {
  std::vector<HandEpoch> epochs;
  for (int i = 0; i < 600; ++i) {
    HandEpoch epoch{.host = "vm-" + std::to_string(i)};
    const bool x = i % 2 == 0;
    const bool p = (i / 2) % 2 == 0;
    epoch.attributes = {{"a", x ? "x" : "y"},
                        {"b", p ? "p" : "q"},
                        {"c", std::string(1, static_cast<char>('u' + i % 3))},
                        {"fs", (i * 7) % 10 < 7 ? "ext4" : "xfs"},
                        {"CONFIG_A", x ? "y" : "n"},
                        {"CONFIG_B", x ? "y" : "n"},
                        {"blk_mq", x || i % 3 == 0 ? "on" : "off"}};
    if (i % 8 == 0) epoch.events = 1;
    epochs.push_back(std::move(epoch));
  }
  return epochs;
}

AnalysisResult AnalyzeOrDie(const Fleet& fleet, const AnalysisOptions& options = {}) {
  absl::StatusOr<AnalysisResult> result = AnalyzeFleet(fleet, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : AnalysisResult{};
}

TEST(AnalyzeFleet, ConjunctionHigherThanEachPartTopsTheList) {
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(GridFleet()));
  EXPECT_EQ(result.events, 75u);
  ASSERT_FALSE(result.suspects.empty());
  const Suspect& top = result.suspects.front();
  EXPECT_EQ(Names(top.attributes), (std::set<std::string>{"a=x", "b=p"}));
  EXPECT_EQ(top.events, 75u);
  EXPECT_NEAR(top.exposure_share, 0.25, 1e-12);
  EXPECT_TRUE(std::isinf(top.rate_ratio));
  EXPECT_LT(top.q_value, 1e-10);
  // Neither part alone is reported: the conjunction explains them.
  for (const Suspect& suspect : result.suspects) EXPECT_GT(suspect.attributes.size(), 1u);
}

TEST(AnalyzeFleet, CommonFilesystemIsNotASuspectForBeingCommon) {
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(GridFleet()));
  for (const Suspect& suspect : result.suspects) {
    for (const AttributeValue& a : suspect.attributes) EXPECT_NE(a.attribute, "fs");
  }
}

TEST(AnalyzeFleet, ValuesThatSplitTheFleetIdenticallyAreOneAliasGroup) {
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(GridFleet()));
  ASSERT_FALSE(result.suspects.empty());
  const Suspect& top = result.suspects.front();
  // Named by the attribute that is not a kernel config option; never by one
  // of the options picked arbitrarily.
  ASSERT_EQ(top.aliases.size(), 1u);
  EXPECT_EQ(Names(top.aliases[0]), (std::set<std::string>{"a=x", "CONFIG_A=y", "CONFIG_B=y"}));
  EXPECT_EQ(top.aliases[0].front(), (AttributeValue{"a", "x"}));
  EXPECT_NE(top.explanation.find("cannot tell a=x apart from CONFIG_A=y and CONFIG_B=y"),
            std::string::npos)
      << top.explanation;
}

TEST(AnalyzeFleet, ValuesEveryHostOfTheSuspectHasAreNamedAsImplied) {
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(GridFleet()));
  ASSERT_FALSE(result.suspects.empty());
  const std::vector<AttributeValue>& implied = result.suspects.front().implied;
  EXPECT_NE(std::find(implied.begin(), implied.end(), AttributeValue{"blk_mq", "on"}),
            implied.end());
}

TEST(AnalyzeFleet, ExplanationCarriesTheNumbers) {
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(GridFleet()));
  ASSERT_FALSE(result.suspects.empty());
  const std::string& text = result.suspects.front().explanation;
  EXPECT_NE(text.find("75 of 75 events on hosts with a=x ∧ b=p, which hold 25% of the exposure "
                      "(150 hosts, 150 host epochs); rate ratio ∞ (95% CI "),
            std::string::npos)
      << text;
}

// Nine releases, 60 hosts each: 4.19.1-3 and 5.10.1-6. The distro follows the
// build (deb on 4.19.1 and 4.19.3, rh elsewhere). Six events on deb hosts
// with scheduler=none: deb ∧ none is narrower than kernel_series=4.19 ∧ none
// but does not stand out within it ((2/3)^6 = 0.09), so the fleet cannot tell
// them apart, and the kernel names the group.
TEST(AnalyzeFleet, KernelNamesAGroupRatherThanAValueThatFollowsTheBuild) {
  const std::vector<std::string> releases = {"4.19.1", "4.19.2", "4.19.3", "5.10.1", "5.10.2",
                                             "5.10.3", "5.10.4", "5.10.5", "5.10.6"};
  std::vector<HandEpoch> epochs;
  for (size_t r = 0; r < releases.size(); ++r) {
    int events = 0;
    for (int i = 0; i < 60; ++i) {
      const bool none = i % 3 == 0;
      HandEpoch epoch{.host = releases[r] + "-" + std::to_string(i),
                      .attributes = {{"kernel", releases[r]},
                                     {"distro", r == 0 || r == 2 ? "deb" : "rh"},
                                     {"scheduler", none ? "none" : "mq-deadline"}}};
      if ((r == 0 || r == 2) && none && events < 3) {
        epoch.events = 1;
        ++events;
      }
      epochs.push_back(std::move(epoch));
    }
  }
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(epochs));
  ASSERT_FALSE(result.suspects.empty());
  const Suspect& top = result.suspects.front();
  EXPECT_EQ(top.attributes,
            (std::vector<AttributeValue>{{"kernel_series", "4.19"}, {"scheduler", "none"}}));
  ASSERT_FALSE(top.indistinguishable.empty());
  EXPECT_EQ(top.indistinguishable.front().attributes,
            (std::vector<AttributeValue>{{"distro", "deb"}, {"scheduler", "none"}}));
  EXPECT_NEAR(top.indistinguishable.front().exposure_share, 40.0 / 540, 1e-12);
  EXPECT_NE(top.explanation.find("cannot yet tell these apart"), std::string::npos)
      << top.explanation;
}

TEST(AnalyzeFleet, TwoIndependentCausesAreBothReported) {
  // 1200 hosts. Cause one: a=x ∧ b=p (every eighth host, 150 events). Cause
  // two: c=w ∧ fs=xfs (every fifth such host, 20 events), across a and b.
  std::vector<HandEpoch> epochs;
  for (int i = 0; i < 1200; ++i) {
    const bool w = (i / 4) % 3 == 2;
    const bool xfs = (i / 12) % 4 == 0;
    HandEpoch epoch{.host = "vm-" + std::to_string(i),
                    .attributes = {{"a", i % 2 == 0 ? "x" : "y"},
                                   {"b", (i / 2) % 2 == 0 ? "p" : "q"},
                                   {"c", w ? "w" : ((i / 4) % 3 == 0 ? "u" : "v")},
                                   {"fs", xfs ? "xfs" : "ext4"}}};
    epoch.events = (i % 8 == 0 ? 1 : 0) + (w && xfs && i % 5 == 0 ? 1 : 0);
    epochs.push_back(std::move(epoch));
  }
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(epochs));
  ASSERT_GE(result.suspects.size(), 2u);
  EXPECT_EQ(Names(result.suspects[0].attributes), (std::set<std::string>{"a=x", "b=p"}));
  EXPECT_EQ(Names(result.suspects[1].attributes), (std::set<std::string>{"c=w", "fs=xfs"}));
  EXPECT_LT(result.suspects[1].q_value, 1e-6);
}

TEST(AnalyzeFleet, EventsOfOneHostAloneMakeNoSuspect) {
  std::vector<HandEpoch> epochs;
  for (int i = 0; i < 300; ++i) {
    epochs.push_back({.host = "vm-" + std::to_string(i),
                      .attributes = {{"rack", i < 2 ? "r1" : "r" + std::to_string(2 + i % 5)}},
                      .events = static_cast<uint64_t>(i == 0 ? 6 : 0)});
  }
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(epochs), {.min_epochs = 1});
  EXPECT_TRUE(result.suspects.empty());
  // With one host allowed, the same fleet names that host's rack.
  const AnalysisResult lenient =
      AnalyzeOrDie(BuildHandFleet(epochs), {.min_event_hosts = 1, .min_epochs = 1});
  ASSERT_FALSE(lenient.suspects.empty());
  EXPECT_EQ(lenient.suspects.front().attributes.front(), (AttributeValue{"rack", "r1"}));
}

TEST(AnalyzeFleet, KindFilterCountsOnlyThatKind) {
  std::vector<HandEpoch> epochs = GridFleet();
  // Bit rot on every seventh host, across the grid: no cause.
  uint64_t rot_events = 0;
  for (size_t i = 0; i < 600; i += 7) {
    HandEpoch extra = epochs[i];
    extra.host += "-rot";
    extra.events = 1;
    extra.kind = "bit_rot";
    epochs.push_back(extra);
    ++rot_events;
  }
  const Fleet fleet = BuildHandFleet(epochs);
  EXPECT_EQ(AnalyzeOrDie(fleet).events, 75 + rot_events);
  const AnalysisResult lost = AnalyzeOrDie(fleet, {.kind = "lost_write"});
  EXPECT_EQ(lost.events, 75u);
  ASSERT_FALSE(lost.suspects.empty());
  EXPECT_EQ(Names(lost.suspects.front().attributes), (std::set<std::string>{"a=x", "b=p"}));
  const AnalysisResult rot = AnalyzeOrDie(fleet, {.kind = "bit_rot"});
  EXPECT_EQ(rot.events, rot_events);
  for (const Suspect& suspect : rot.suspects) EXPECT_GE(suspect.q_value, 0.05);
  const AnalysisResult none = AnalyzeOrDie(fleet, {.kind = "torn_write"});
  EXPECT_EQ(none.events, 0u);
  EXPECT_TRUE(none.suspects.empty());
  ASSERT_EQ(none.notes.size(), 1u);
  EXPECT_NE(none.notes[0].find("torn_write"), std::string::npos);
}

TEST(AnalyzeFleet, EmptyFleetIsNotAnError) {
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet({}));
  EXPECT_TRUE(result.suspects.empty());
  EXPECT_FALSE(result.notes.empty());
}

TEST(AnalyzeFleet, OptionsOutOfRangeAreRejected) {
  const Fleet fleet = BuildHandFleet(GridFleet());
  EXPECT_EQ(AnalyzeFleet(fleet, {.max_order = 5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AnalyzeFleet(fleet, {.max_order = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AnalyzeFleet(fleet, {.min_support = 1.5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AnalyzeFleet(fleet, {.productive_alpha = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AnalyzeFleet, SinglesOnlyWhenMaxOrderIsOne) {
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(GridFleet()), {.max_order = 1});
  ASSERT_FALSE(result.suspects.empty());
  for (const Suspect& suspect : result.suspects) EXPECT_EQ(suspect.attributes.size(), 1u);
  EXPECT_EQ(result.stats.tested_per_order[2], 0u);
}

// Releases 4.17.1 ... 4.20, 40 hosts each; hosts on 4.17 verify `older_bytes`.
// Hosts on the releases in `with_events` have one event each (or only the
// first host of each such release).
std::vector<HandEpoch> ReleaseFleet(const std::set<std::string>& with_events, bool every_host,
                                    double older_bytes = 1e12) {
  const std::vector<std::string> releases = {"4.17.1",  "4.17.2",  "4.17.3",  "4.17.4",   "4.17.5",
                                             "4.18.18", "4.18.19", "4.18.20", "4.19-rc1", "4.19",
                                             "4.19.1",  "4.19.2",  "4.19.3",  "4.19.4",   "4.19.5",
                                             "4.19.6",  "4.19.7",  "4.19.8",  "4.19.9",   "4.20"};
  std::vector<HandEpoch> epochs;
  for (const std::string& release : releases) {
    for (int i = 0; i < 40; ++i) {
      HandEpoch epoch{.host = release + "-vm" + std::to_string(i),
                      .attributes = {{"kernel", release}, {"zone", i % 2 == 0 ? "a" : "b"}},
                      .exposure_bytes = release.rfind("4.17.", 0) == 0 ? older_bytes : 1e12};
      if (with_events.count(release) > 0 && (every_host || i == 0)) epoch.events = 1;
      epochs.push_back(std::move(epoch));
    }
  }
  return epochs;
}

TEST(KernelVersions, RangeIsBracketedByTheNeighbouringCleanReleases) {
  const std::set<std::string> affected = {"4.19-rc1", "4.19",   "4.19.1", "4.19.2", "4.19.3",
                                          "4.19.4",   "4.19.5", "4.19.6", "4.19.7"};
  const AnalysisResult result = AnalyzeOrDie(BuildHandFleet(ReleaseFleet(affected, true)));
  const KernelVersionReport& kernel = result.kernel_versions;
  EXPECT_EQ(kernel.first_affected, "4.19-rc1");
  EXPECT_EQ(kernel.last_affected, "4.19.7");
  EXPECT_EQ(kernel.last_clean, "4.18.20");
  EXPECT_EQ(kernel.first_clean_after, "4.19.8");
  EXPECT_NE(kernel.statement.find("Appears between 4.18.20 (last clean) and 4.19-rc1"),
            std::string::npos)
      << kernel.statement;
  EXPECT_NE(kernel.statement.find("Fixed by 4.19.8"), std::string::npos) << kernel.statement;
  ASSERT_EQ(kernel.rows.size(), 20u);
  EXPECT_EQ(kernel.rows.front().kernel, "4.17.1");
  EXPECT_EQ(kernel.rows.back().kernel, "4.20");
}

TEST(KernelVersions, FewEventsLeaveTheBracketOpenRatherThanGuess) {
  // Three events: the releases just below the first one are no evidence of
  // cleanliness, and the whole fleet below holds too little exposure.
  const AnalysisResult result =
      AnalyzeOrDie(BuildHandFleet(ReleaseFleet({"4.19.2", "4.19.3", "4.19.5"}, false)));
  const KernelVersionReport& kernel = result.kernel_versions;
  EXPECT_EQ(kernel.first_affected, "4.19.2");
  EXPECT_EQ(kernel.last_affected, "4.19.5");
  EXPECT_FALSE(kernel.last_clean.has_value()) << kernel.statement;
  EXPECT_FALSE(kernel.first_clean_after.has_value()) << kernel.statement;
  EXPECT_NE(kernel.statement.find("No release before 4.19.2 has enough exposure"),
            std::string::npos)
      << kernel.statement;
}

TEST(KernelVersions, FewEventsNeedABlockWithFarMoreExposureToCallItClean) {
  // Range 4.19.2–4.19.5: 160 units. Eleven releases lie below, so each block
  // is tested at 0.025 / 11: (1 - s)^3 <= 0.00227 needs s >= 0.869. Down to
  // 4.18.18 the block holds 240 (s = 0.6); with 4.17.5 at 30 units a host it
  // holds 1440 (s = 0.9, (0.1)^3 = 0.001).
  const AnalysisResult result = AnalyzeOrDie(
      BuildHandFleet(ReleaseFleet({"4.19.2", "4.19.3", "4.19.5"}, false, /*older_bytes=*/30e12)));
  EXPECT_EQ(result.kernel_versions.last_clean, "4.17.5") << result.kernel_versions.statement;
}

}  // namespace
}  // namespace fscanary::analysis
