#include "tests/integration/run_process.h"

#include <signal.h>

#include "gtest/gtest.h"

namespace fscanary::testing {
namespace {

TEST(RunProcess, CapturesStdoutStderrAndExitCode) {
  const std::string sh = FindExecutable("sh");
  ASSERT_FALSE(sh.empty());
  absl::StatusOr<ProcessResult> result = RunProcess({sh, "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->term_signal, 0);
  EXPECT_EQ(result->out, "out\n");
  EXPECT_EQ(result->err, "err\n");
}

TEST(RunProcess, PassesArgumentsVerbatimWithoutAShell) {
  const std::string echo = FindExecutable("echo");
  ASSERT_FALSE(echo.empty());
  absl::StatusOr<ProcessResult> result = RunProcess({echo, "a b", "$HOME", ";", "*"});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->out, "a b $HOME ; *\n");
}

TEST(RunProcess, MissingProgramIsAnErrorNotAnExitCode) {
  absl::StatusOr<ProcessResult> result = RunProcess({"/nonexistent/program"});
  EXPECT_TRUE(absl::IsNotFound(result.status())) << result.status();
}

TEST(RunProcess, FailingBeforeExecHookFailsTheSpawn) {
  absl::StatusOr<ProcessResult> result =
      RunProcess({FindExecutable("true")}, {.before_exec = [] { return EPERM; }});
  EXPECT_TRUE(absl::IsPermissionDenied(result.status())) << result.status();
}

TEST(RunProcess, KilledChildReportsItsSignal) {
  absl::StatusOr<Child> child = Spawn({FindExecutable("sleep"), "600"});
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_FALSE(child->HasExited());
  child->Kill(SIGKILL);
  const ProcessResult result = child->Wait();
  EXPECT_EQ(result.term_signal, SIGKILL);
  EXPECT_EQ(result.exit_code, -1);
  EXPECT_FALSE(result.timed_out);
}

TEST(RunProcess, ChildOutlivingItsTimeoutIsKilled) {
  absl::StatusOr<ProcessResult> result =
      RunProcess({FindExecutable("sleep"), "600"}, {}, std::chrono::milliseconds(50));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->timed_out);
  EXPECT_EQ(result->term_signal, SIGKILL);
}

}  // namespace
}  // namespace fscanary::testing
