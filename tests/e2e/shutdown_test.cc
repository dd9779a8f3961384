// SIGTERM stops the agent and the collector cleanly (exit 0) within a deadline.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace fscanary::e2e {
namespace {

// The collector gives open streams up to 5 s to finish; then a margin for
// the store's last sync on a loaded machine (systemd would wait 90 s).
constexpr auto kStopDeadline = 20s;

// Sends SIGTERM and waits for the exit; records how long it took.
std::optional<testing::ProcessResult> Terminate(Daemon& daemon, const std::string& name) {
  const auto start = std::chrono::steady_clock::now();
  daemon.Signal(SIGTERM);
  std::optional<testing::ProcessResult> result = daemon.WaitForExit(kStopDeadline);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  ::testing::Test::RecordProperty(name + "_stop_ms", std::to_string(took.count()));
  std::cout << name << " stopped " << took.count() << " ms after SIGTERM\n";
  return result;
}

using ShutdownTest = E2eTest;

TEST_F(ShutdownTest, AgentThenCollectorExitZeroOnSigterm) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "stop-host"}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("stop-host"));

  const std::optional<testing::ProcessResult> agent = Terminate(agent_->daemon(), "agent");
  ASSERT_TRUE(agent.has_value()) << "the agent still runs " << kStopDeadline.count()
                                 << " s after SIGTERM";
  EXPECT_EQ(agent->exit_code, 0) << "signal " << agent->term_signal;

  collector_->CloseQueryConnection();
  const std::optional<testing::ProcessResult> collector =
      Terminate(collector_->daemon(), "collector");
  ASSERT_TRUE(collector.has_value())
      << "the collector still runs " << kStopDeadline.count() << " s after SIGTERM";
  EXPECT_EQ(collector->exit_code, 0) << "signal " << collector->term_signal;
}

TEST_F(ShutdownTest, CollectorExitsZeroOnSigtermWhileAnAgentIsConnected) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "stop-host"}));
  ASSERT_NO_FATAL_FAILURE(WaitUntilVerifying("stop-host"));

  collector_->CloseQueryConnection();
  const std::optional<testing::ProcessResult> collector =
      Terminate(collector_->daemon(), "collector");
  ASSERT_TRUE(collector.has_value())
      << "the collector still runs " << kStopDeadline.count() << " s after SIGTERM";
  EXPECT_EQ(collector->exit_code, 0) << "signal " << collector->term_signal;

  // The agent, now without a collector, still stops cleanly.
  const std::optional<testing::ProcessResult> agent = Terminate(agent_->daemon(), "agent");
  ASSERT_TRUE(agent.has_value()) << "the agent still runs " << kStopDeadline.count()
                                 << " s after SIGTERM";
  EXPECT_EQ(agent->exit_code, 0) << "signal " << agent->term_signal;
}

}  // namespace
}  // namespace fscanary::e2e
