// `promtool check metrics` finds nothing wrong in a live scrape with a host and a finding.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace fscanary::e2e {
namespace {

using MetricsLintTest = E2eTest;

TEST_F(MetricsLintTest, PromtoolFindsNothingInALiveScrape) {
  const std::string promtool = testing::FindExecutable("promtool");
  if (promtool.empty()) GTEST_SKIP() << "promtool is not installed (Debian: prometheus)";

  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "lint-host"}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("lint-host"));
  const absl::StatusOr<std::vector<uint64_t>> written = DurableBlocks(agent_->state_dir());
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_FALSE(written->empty());
  ASSERT_TRUE(CorruptPayload(agent_->target(), written->front()).ok());

  // Wait for the finding to show on /metrics, by kind as well as by host.
  std::string scrape;
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::string> metrics = collector_->ScrapeMetrics();
        if (!metrics.ok()) return false;
        scrape = *metrics;
        return SampleValue(scrape, "fscanary_host_findings_total", {{"host", "lint-host"}}) ==
                   1.0 &&
               SampleValue(scrape, "fscanary_findings_total").value_or(0) > 0;
      },
      kEventTimeout))
      << scrape;

  const std::string scrape_path = dir_.Join("scrape.txt");
  {
    std::ofstream file(scrape_path);
    file << scrape;
  }
  const int scrape_fd = ::open(scrape_path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(scrape_fd, 0);
  // promtool reads the exposition on stdin; dup2 is async-signal-safe.
  const absl::StatusOr<testing::ProcessResult> checked =
      testing::RunProcess({promtool, "check", "metrics"}, {.before_exec = [scrape_fd]() -> int {
                            return ::dup2(scrape_fd, STDIN_FILENO) < 0 ? errno : 0;
                          }},
                          std::chrono::seconds(60));
  ::close(scrape_fd);
  ASSERT_TRUE(checked.ok()) << checked.status();
  EXPECT_EQ(checked->exit_code, 0) << checked->out << checked->err;
  EXPECT_EQ(checked->out, "");
  EXPECT_EQ(checked->err, "");
  if (HasFailure()) std::cerr << "---- the scrape ----\n" << scrape;
}

}  // namespace
}  // namespace fscanary::e2e
