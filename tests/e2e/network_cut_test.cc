// The agent starts while no collector is there, and later loses its network
// path (a socat proxy killed) while it finds corruption: everything it found
// arrives once the path is back, each finding exactly once.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"
#include "tests/integration/run_process.h"

namespace fscanary::e2e {
namespace {

// A loopback port nothing listens on right now.
int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

class NetworkCutTest : public E2eTest {
 protected:
  // The network path: one socat forwarding the agent's port to the collector.
  void StartPath() {
    auto proxy = Daemon::Start(
        {socat_, absl::StrCat("TCP-LISTEN:", proxy_port_, ",bind=127.0.0.1,reuseaddr,fork"),
         absl::StrCat("TCP:127.0.0.1:", collector_port_)},
        dir_.Join(absl::StrCat("socat-", ++paths_, ".log")));
    ASSERT_TRUE(proxy.ok()) << proxy.status();
    path_ = *std::move(proxy);
  }
  // Cuts the path: the proxy and every connection it forwards die.
  void CutPath() {
    // The listener and its forked children, which hold the established
    // connections: all of them match the command line.
    (void)testing::RunProcess({testing::FindExecutable("pkill"), "-KILL", "-f",
                               absl::StrCat("TCP-LISTEN:", proxy_port_, ",")});
    ASSERT_TRUE(path_->WaitForExit(kEventTimeout).has_value());
    path_.reset();
  }
  uint64_t CorruptAndWaitForDetection(uint64_t block) {
    const absl::StatusOr<uint64_t> offset = CorruptPayload(agent_->target(), block);
    EXPECT_TRUE(offset.ok()) << offset.status();
    EXPECT_TRUE(
        agent_->daemon()
            .WaitForLog(absl::StrCat("checksum_mismatch at offset ", *offset, " "), kEventTimeout)
            .has_value())
        << "the agent did not find the corruption at " << *offset;
    return *offset;
  }
  // Waits until the collector holds `expected` findings, and checks each once.
  void ExpectStoredOnce(const std::set<uint64_t>& expected) {
    std::vector<v1::StoredFinding> findings;
    ASSERT_TRUE(WaitFor(
        [&] {
          auto listed = collector_->ListFindings("cut-host");
          if (!listed.ok()) return false;
          findings = *std::move(listed);
          return findings.size() >= expected.size();
        },
        kEventTimeout))
        << findings.size() << " findings stored, " << expected.size() << " expected\n"
        << agent_->daemon().Log();
    std::multiset<uint64_t> offsets;
    for (const v1::StoredFinding& stored : findings) offsets.insert(stored.finding().offset());
    for (const uint64_t offset : expected) EXPECT_EQ(offsets.count(offset), 1u) << offset;
    EXPECT_EQ(offsets.size(), expected.size());
  }

  std::string socat_;
  int proxy_port_ = 0;
  int collector_port_ = 0;
  int paths_ = 0;
  std::unique_ptr<Daemon> path_;
};

TEST_F(NetworkCutTest, WhatWasFoundWithoutAPathArrivesOnceItIsBack) {
  socat_ = testing::FindExecutable("socat");
  if (socat_.empty()) GTEST_SKIP() << "socat is not installed (Debian package socat)";
  proxy_port_ = UnusedPort();
  collector_port_ = UnusedPort();

  // No collector and no path yet: the agent starts anyway and works.
  auto agent = Agent::Start(
      dir_.path(),
      {.agent_id = "cut-host", .collector_address = absl::StrCat("127.0.0.1:", proxy_port_)});
  ASSERT_TRUE(agent.ok()) << agent.status();
  agent_ = *std::move(agent);
  std::vector<uint64_t> written;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto blocks = DurableBlocks(agent_->state_dir());
        if (blocks.ok()) written = *blocks;
        return written.size() >= 4;
      },
      kEventTimeout));
  std::set<uint64_t> found = {CorruptAndWaitForDetection(written[0])};

  ASSERT_NO_FATAL_FAILURE(StartCollector({.port = collector_port_}));
  ASSERT_NO_FATAL_FAILURE(StartPath());
  ASSERT_NO_FATAL_FAILURE(ExpectStoredOnce(found));

  for (int cut = 1; cut <= 3; ++cut) {
    SCOPED_TRACE(absl::StrCat("cut ", cut));
    ASSERT_NO_FATAL_FAILURE(CutPath());
    found.insert(CorruptAndWaitForDetection(written[static_cast<size_t>(cut)]));
    ASSERT_NO_FATAL_FAILURE(StartPath());
    ASSERT_NO_FATAL_FAILURE(ExpectStoredOnce(found));
  }
  EXPECT_TRUE(agent_->daemon().running());
  if (path_ != nullptr) CutPath();
}

}  // namespace
}  // namespace fscanary::e2e
