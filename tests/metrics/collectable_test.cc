// A Collectable builds per-host series at scrape time from its own state, the
// way the collector exports hosts, instead of keeping global series updated.

#include <atomic>
#include <map>
#include <mutex>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/exposition_check.h"
#include "metrics/metrics_server.h"
#include "metrics/registry.h"
#include "tests/metrics/test_support.h"

namespace fscanary::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// What the collector keeps about hosts, reduced to last-seen times and
// finding counts.
class HostTable final : public Collectable {
 public:
  void Heartbeat(const std::string& host, double unix_seconds) {
    std::lock_guard lock(mutex_);
    hosts_[host].last_seen = unix_seconds;
  }
  void Finding(const std::string& host) {
    std::lock_guard lock(mutex_);
    ++hosts_[host].findings;
  }
  void Expire(const std::string& host) {
    std::lock_guard lock(mutex_);
    hosts_.erase(host);
  }
  int collects() const { return collects_; }

  std::vector<MetricFamily> Collect() const override {
    ++collects_;
    MetricFamily last_seen{.name = "fscanary_host_last_seen_timestamp_seconds",
                           .help = "When the host last reported.",
                           .type = MetricType::kGauge};
    MetricFamily findings{.name = "fscanary_host_findings_total",
                          .help = "Findings reported by the host.",
                          .type = MetricType::kCounter};
    std::lock_guard lock(mutex_);
    for (const auto& [host, state] : hosts_) {
      last_seen.series.push_back({.labels = {{"host", host}}, .value = state.last_seen});
      findings.series.push_back(
          {.labels = {{"host", host}}, .value = static_cast<double>(state.findings)});
    }
    return {last_seen, findings};
  }

 private:
  struct Host {
    double last_seen = 0;
    int findings = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Host> hosts_;
  mutable std::atomic<int> collects_ = 0;
};

TEST(Collectable, PerHostSeriesComeFromStateAtScrapeTime) {
  auto registry = std::make_shared<Registry>();
  (*(*registry->AddGauge("fscanary_hosts_connected", "Hosts connected."))->Add({}))->Set(2);
  auto hosts = std::make_shared<HostTable>();
  hosts->Heartbeat("vm-b", 1700000100);
  hosts->Heartbeat("vm-a", 1700000000);
  hosts->Finding("vm-b");
  MetricsServer server;
  server.RegisterCollectable(registry);
  server.RegisterCollectable(hosts);

  const std::string first = server.Scrape();
  EXPECT_TRUE(CheckTextExposition(first).ok()) << CheckTextExposition(first);
  EXPECT_EQ(first, R"(# HELP fscanary_host_findings_total Findings reported by the host.
# TYPE fscanary_host_findings_total counter
fscanary_host_findings_total{host="vm-a"} 0
fscanary_host_findings_total{host="vm-b"} 1
# HELP fscanary_host_last_seen_timestamp_seconds When the host last reported.
# TYPE fscanary_host_last_seen_timestamp_seconds gauge
fscanary_host_last_seen_timestamp_seconds{host="vm-a"} 1.7e+09
fscanary_host_last_seen_timestamp_seconds{host="vm-b"} 1.7000001e+09
# HELP fscanary_hosts_connected Hosts connected.
# TYPE fscanary_hosts_connected gauge
fscanary_hosts_connected 2
)");
  EXPECT_EQ(hosts->collects(), 1);

  // The host expires from the table; nothing else has to forget it.
  hosts->Expire("vm-a");
  hosts->Finding("vm-b");
  const std::string second = server.Scrape();
  EXPECT_TRUE(CheckTextExposition(second).ok()) << CheckTextExposition(second);
  EXPECT_THAT(second, Not(HasSubstr("vm-a")));
  EXPECT_THAT(second, HasSubstr("fscanary_host_findings_total{host=\"vm-b\"} 2\n"));
  EXPECT_EQ(hosts->collects(), 2);
}

TEST(Collectable, PartOfAFamilyAlsoInTheRegistryIsMergedIntoOneBlock) {
  auto registry = std::make_shared<Registry>();
  (*(*registry->AddCounter("fscanary_host_findings_total", "Findings reported by the host."))
        ->Add({{"host", "vm-static"}}))
      ->Increment();
  auto hosts = std::make_shared<HostTable>();
  hosts->Heartbeat("vm-a", 1);
  MetricsServer server;
  server.RegisterCollectable(registry);
  server.RegisterCollectable(hosts);
  const std::string text = server.Scrape();
  EXPECT_TRUE(CheckTextExposition(text).ok()) << CheckTextExposition(text) << text;
  EXPECT_THAT(text, HasSubstr("fscanary_host_findings_total{host=\"vm-a\"} 0\n"
                              "fscanary_host_findings_total{host=\"vm-static\"} 1\n"));
}

TEST(Collectable, DestroyedCollectableStopsAppearing) {
  auto hosts = std::make_shared<HostTable>();
  hosts->Heartbeat("vm-a", 1);
  MetricsServer server;
  server.RegisterCollectable(hosts);
  EXPECT_THAT(server.Scrape(), HasSubstr("vm-a"));
  hosts.reset();
  EXPECT_EQ(server.Scrape(), "");
}

}  // namespace
}  // namespace fscanary::metrics
