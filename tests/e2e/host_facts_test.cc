// A started agent's host appears at the collector with the facts of this machine.
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "absl/strings/strip.h"
#include "common/version/version.h"
#include "gtest/gtest.h"
#include "tests/e2e/e2e_support.h"

namespace fscanary::e2e {
namespace {

std::string BootId() {
  std::ifstream file("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(file, id);
  return std::string(absl::StripAsciiWhitespace(id));
}

std::string Hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

std::string KernelRelease() {
  utsname names{};
  if (::uname(&names) != 0) return "";
  return names.release;
}

using HostFactsTest = E2eTest;

TEST_F(HostFactsTest, HostAppearsWithTheFactsOfTheMachineItRunsOn) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "facts-host"}));

  ASSERT_TRUE(
      WaitFor([&] { return collector_->FindHost("facts-host").has_value(); }, kEventTimeout));
  const absl::StatusOr<v1::GetHostResponse> host = collector_->GetHost("facts-host");
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->host().agent_id(), "facts-host");
  EXPECT_EQ(host->host().hostname(), Hostname());
  EXPECT_EQ(host->host().kernel_release(), KernelRelease());
  EXPECT_TRUE(host->host().connected());
  // The agent says which build it is: the release and the source revision.
  EXPECT_EQ(host->host().agent_version(), version::VersionWithRevision());
  if (version::SourceRevision() != "unknown") {
    EXPECT_TRUE(
        host->host().agent_version().ends_with("+" + std::string(version::SourceRevision())))
        << host->host().agent_version();
  }
  ASSERT_GT(host->epochs_size(), 0);

  const v1::HostEpoch* newest = &host->epochs(0);
  for (const v1::HostEpoch& epoch : host->epochs()) {
    if (epoch.epoch() > newest->epoch()) newest = &epoch;
  }
  const v1::HostFacts& facts = newest->facts();
  EXPECT_EQ(facts.kernel_release(), KernelRelease());
  EXPECT_EQ(facts.boot_id(), BootId());
  EXPECT_EQ(facts.hostname(), Hostname());

  const absl::StatusOr<Mount> mount = MountOf(agent_->target());
  ASSERT_TRUE(mount.ok()) << mount.status();
  const v1::FilesystemFacts* filesystem = nullptr;
  for (const v1::FilesystemFacts& fs : facts.filesystems()) {
    if (fs.target() == kTargetName) filesystem = &fs;
  }
  ASSERT_NE(filesystem, nullptr) << "no filesystem fact for the target in "
                                 << facts.ShortDebugString();
  EXPECT_EQ(filesystem->fs_type(), mount->fs_type);
  EXPECT_EQ(filesystem->mount_point(), mount->mount_point);
}

TEST_F(HostFactsTest, MetricsShowTheHostUpWithNoFindings) {
  ASSERT_NO_FATAL_FAILURE(StartCollector());
  ASSERT_NO_FATAL_FAILURE(StartAgent({.agent_id = "metrics-host"}));

  std::string scrape;
  const std::map<std::string, std::string> host = {{"host", "metrics-host"}};
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::StatusOr<std::string> metrics = collector_->ScrapeMetrics();
        if (!metrics.ok()) return false;
        scrape = *metrics;
        return SampleValue(scrape, "fscanary_host_up", host) == 1.0;
      },
      kEventTimeout))
      << scrape;
  EXPECT_EQ(SampleValue(scrape, "fscanary_host_findings_total", host), 0.0) << scrape;
  EXPECT_EQ(SampleValue(scrape, "fscanary_agents_connected"), 1.0) << scrape;
  EXPECT_EQ(SampleValue(scrape, "fscanary_hosts"), 1.0) << scrape;
}

}  // namespace
}  // namespace fscanary::e2e
