// Text agents send reaches an operator's terminal inert: the real fscanary
// CLI, asking the real collector, prints every control character escaped.
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"
#include "tests/integration/run_process.h"
#include "tests/terminal_inert.h"

#ifndef FSCANARY_E2E_CLI
#error "FSCANARY_E2E_CLI must name the fscanary binary"
#endif

namespace fscanary::e2e {
namespace {

class PrintedFieldsTest : public E2eTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartCollector());
    token_file_ = dir_.Join("operator.token");
    std::ofstream(token_file_) << kOperatorToken << "\n";
  }

  // `fscanary ARGS` against the collector's listener, as the operator.
  testing::ProcessResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), FSCANARY_E2E_CLI);
    for (const std::string& extra : {std::string("--collector"), collector_->address(),
                                     std::string("--token-file"), token_file_}) {
      args.push_back(extra);
    }
    absl::StatusOr<testing::ProcessResult> result = testing::RunProcess(args);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : testing::ProcessResult{};
  }

  std::string token_file_;
};

TEST_F(PrintedFieldsTest, ControlCharactersInEveryFieldAnAgentSendsReachTheTerminalEscaped) {
  // What validation lets through (valid UTF-8): an escape sequence that
  // clears the screen, an OSC retitle, a carriage return that hides a line,
  // a bell, a C1 CSI.
  v1::HostFacts facts = VmFacts("6.1\x1b[2J-evil", "none");
  facts.set_hostname("host\rfake\x07");
  facts.mutable_filesystems(0)->set_mount_point("/mnt/\x1b]0;owned\x07");
  facts.mutable_devices(0)->set_model("disk\x1b[8m");
  v1::AgentMessage finding = FindingRecord(2, 4096);
  finding.mutable_finding()->set_target_path("/var/lib/\x1b[1Ascratch");
  finding.mutable_finding()->set_path("d0/\x1b[1Af");
  finding.mutable_finding()->set_evidence_summary(
      "ok\r\x1b[Kall clear \xc2\x9b"
      "31m");
  const StreamOutcome outcome =
      Exchange(*collector_, "", {Hello("vm-evil", facts), ReportRecord(1, 1 << 20), finding});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  ASSERT_EQ(outcome.acknowledged, std::set<uint64_t>({1, 2}));

  for (const std::vector<std::string>& command :
       std::vector<std::vector<std::string>>{{"hosts"},
                                             {"host", "vm-evil"},
                                             {"findings", "--host", "vm-evil"},
                                             {"analyze"},
                                             {"known-bugs", "--hosts"}}) {
    const testing::ProcessResult result = Cli(command);
    EXPECT_EQ(result.exit_code, 0) << command[0] << ": " << result.err;
    EXPECT_TRUE(testing::TerminalInert(result.out)) << command[0] << ":\n" << result.out;
    EXPECT_TRUE(testing::TerminalInert(result.err)) << command[0] << ":\n" << result.err;
  }
  // Escaped, not dropped: the operator still sees what the agent sent.
  const testing::ProcessResult host = Cli({"host", "vm-evil"});
  EXPECT_NE(host.out.find("6.1\\x1b[2J-evil"), std::string::npos) << host.out;
  EXPECT_NE(host.out.find("host\\x0dfake\\x07"), std::string::npos) << host.out;
  EXPECT_NE(host.out.find("ok\\x0d\\x1b[Kall clear \\xc2\\x9b31m"), std::string::npos) << host.out;
  EXPECT_TRUE(collector_->daemon().running());
}

}  // namespace
}  // namespace fscanary::e2e
