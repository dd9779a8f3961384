// An agent is its credential: a token carries records for its own agent id
// only, and a collector will not listen off loopback in the clear unless
// told to (insecure: true), which it warns about at every start.
#include <csignal>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/e2e/raw_agent.h"

#ifndef FSCANARY_E2E_COLLECTOR
#error "FSCANARY_E2E_COLLECTOR must name the fscanary-collector binary"
#endif

namespace fscanary::e2e {
namespace {

constexpr char kVictim[] = "victim";
constexpr char kVictimToken[] = "0123456789abcdef-victim-token";
constexpr char kForger[] = "forger";
constexpr char kForgerToken[] = "0123456789abcdef-forger-token";

using AgentIdentityTest = E2eTest;

TEST_F(AgentIdentityTest, RecordsForAnotherAgentUnderAValidTokenAreRefusedAndTheOtherLosesNothing) {
  const std::string tokens = dir_.Join("tokens");
  std::ofstream(tokens) << kVictim << " " << kVictimToken << "\n"
                        << kForger << " " << kForgerToken << "\n";
  ASSERT_NO_FATAL_FAILURE(
      StartCollector({.extra_yaml = absl::StrCat("tokens_file: ", tokens, "\n")}));
  StreamOutcome victim = Exchange(*collector_, kVictimToken,
                                  {Hello(kVictim), FindingRecord(1, 4096), FindingRecord(2, 8192)});
  ASSERT_TRUE(victim.status.ok()) << victim.status.error_message();
  ASSERT_EQ(victim.acknowledged, (std::set<uint64_t>{1, 2}));

  // The forger's own valid token, the victim's id: records 2 (a replacement)
  // and 3 (the victim's next sequence, which would make its real 3 a conflict).
  const StreamOutcome forged =
      Exchange(*collector_, kForgerToken,
               {Hello(kVictim), FindingRecord(2, 999 * 4096), FindingRecord(3, 999 * 4096)});
  EXPECT_EQ(forged.status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << forged.status.error_message();
  EXPECT_TRUE(forged.acknowledged.empty());

  victim = Exchange(*collector_, kVictimToken, {Hello(kVictim), FindingRecord(3, 12288)});
  ASSERT_TRUE(victim.status.ok()) << victim.status.error_message();
  EXPECT_EQ(victim.acknowledged, std::set<uint64_t>{3});
  EXPECT_TRUE(victim.rejected.empty());
  const absl::StatusOr<std::vector<v1::StoredFinding>> findings = collector_->ListFindings(kVictim);
  ASSERT_TRUE(findings.ok()) << findings.status();
  std::set<uint64_t> offsets;
  for (const v1::StoredFinding& finding : *findings) offsets.insert(finding.finding().offset());
  EXPECT_EQ(offsets, (std::set<uint64_t>{4096, 8192, 12288}));
}

TEST_F(AgentIdentityTest, OffLoopbackInTheClearTheCollectorRefusesToStartNamingWhy) {
  // Refused while the config is read, before any socket is bound.
  const std::string config = dir_.Join("collector.yaml");
  std::ofstream(config) << "listen: 0.0.0.0:0\nstate_dir: " << dir_.Join("state")
                        << "\nmetrics:\n  listen: \"\"\n";
  absl::StatusOr<std::unique_ptr<Daemon>> collector =
      Daemon::Start({FSCANARY_E2E_COLLECTOR, "--config", config}, dir_.Join("refused.log"));
  ASSERT_TRUE(collector.ok()) << collector.status();
  const std::optional<testing::ProcessResult> exited = (*collector)->WaitForExit(kEventTimeout);
  ASSERT_TRUE(exited.has_value()) << "the collector kept running:\n" << (*collector)->Log();
  EXPECT_EQ(exited->exit_code, 2);
  EXPECT_NE((*collector)
                ->Log()
                .find("listen: '0.0.0.0:0' is not loopback, and the collector has "
                      "no TLS and authentication there"),
            std::string::npos)
      << (*collector)->Log();
}

TEST_F(AgentIdentityTest, InsecureIsWarnedAboutAtEveryStart) {
  for (int start = 0; start < 2; ++start) {
    ASSERT_NO_FATAL_FAILURE(StartCollector({.extra_yaml = "insecure: true\n"}));
    EXPECT_NE(collector_->daemon().Log().find(
                  "insecure: true: listen 127.0.0.1:0 is served without TLS and agent "
                  "authentication"),
              std::string::npos)
        << collector_->daemon().Log();
    collector_->daemon().Signal(SIGTERM);
    ASSERT_TRUE(collector_->daemon().WaitForExit(kEventTimeout).has_value());
  }
}

}  // namespace
}  // namespace fscanary::e2e
