// Agent-chosen kernel config keys cannot pose as the collector's own
// attributes: named like one, they are refused by name, and the fleet's
// analysis still runs and ranks (docs/SECURITY.md).
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"
#include "tests/integration/run_process.h"

#ifndef FSCANARY_E2E_CLI
#error "FSCANARY_E2E_CLI must name the fscanary binary"
#endif

namespace fscanary::e2e {
namespace {

using AttributeNamesTest = E2eTest;

TEST_F(AttributeNamesTest, ConfigKeysNamedLikeBuiltInAttributesAreRefusedAndTheFleetStillRanks) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  for (const std::string forged : {"kernel", "scheduler", "fs"}) {
    v1::HostFacts facts = VmFacts("6.1.0-forger", "none");
    (*facts.mutable_kernel_config())["CONFIG_BLK_DEV"] = "y";
    (*facts.mutable_kernel_config())[forged] = "6.1.0-good";
    const StreamOutcome outcome = Exchange(*collector_, "", {Hello("forger", facts)});
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << forged << ": " << outcome.status.error_message();
    EXPECT_NE(outcome.status.error_message().find("\"" + forged + "\""), std::string::npos)
        << outcome.status.error_message();
  }

  // A fleet with a planted cause: every host on 6.1.0-bad has one corruption.
  constexpr int kHostsPerKernel = 10;
  for (int host = 0; host < 2 * kHostsPerKernel; ++host) {
    const bool bad = host < kHostsPerKernel;
    v1::HostFacts facts = VmFacts(bad ? "6.1.0-bad" : "6.1.0-good", "mq-deadline");
    (*facts.mutable_kernel_config())["CONFIG_BLK_DEV"] = "y";
    std::vector<v1::AgentMessage> messages = {Hello(absl::StrCat("vm-", host), facts),
                                              ReportRecord(1, 64 << 20), ReportRecord(2, 64 << 20)};
    if (bad) messages.push_back(FindingRecord(3, 4096));
    const StreamOutcome outcome = Exchange(*collector_, "", messages);
    ASSERT_TRUE(outcome.status.ok()) << "vm-" << host << ": " << outcome.status.error_message();
    ASSERT_EQ(outcome.acknowledged.size(), messages.size() - 1) << "vm-" << host;
  }

  // The analysis, through the real CLI, covers the whole fleet and ranks the
  // planted kernel first (a result computed before the last host arrived may
  // be served for one interval).
  const std::string token_file = dir_.Join("operator.token");
  std::ofstream(token_file) << kOperatorToken << "\n";
  std::optional<nlohmann::json> report;
  ASSERT_TRUE(WaitFor(
      [&] {
        const absl::StatusOr<testing::ProcessResult> result =
            testing::RunProcess({FSCANARY_E2E_CLI, "analyze", "--json", "--collector",
                                 collector_->address(), "--token-file", token_file});
        if (!result.ok() || result->exit_code != 0) return false;
        report = nlohmann::json::parse(result->out, nullptr, /*allow_exceptions=*/false);
        return !report->is_discarded() && (*report)["hosts"] == 2 * kHostsPerKernel;
      },
      2 * kEventTimeout));
  ASSERT_FALSE((*report)["suspects"].empty()) << report->dump(2);
  EXPECT_EQ((*report)["suspects"][0]["attributes"]["kernel"], "6.1.0-bad") << report->dump(2);
  EXPECT_EQ((*report)["events"], kHostsPerKernel);

  const absl::StatusOr<std::string> scrape = collector_->ScrapeMetrics();
  ASSERT_TRUE(scrape.ok()) << scrape.status();
  EXPECT_EQ(SampleValue(*scrape, "fscanary_collector_rejected_messages_total",
                        {{"reason", "kernel_config"}}),
            3)
      << *scrape;
  EXPECT_EQ(SampleValue(*scrape, "fscanary_analysis_skipped_epochs"), 0) << *scrape;
  EXPECT_TRUE(collector_->daemon().running());
}

}  // namespace
}  // namespace fscanary::e2e
