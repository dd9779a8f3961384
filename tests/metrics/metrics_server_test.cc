// The HTTP exposer, tested from outside over a real socket on loopback, and
// checked by promtool as Prometheus would scrape it.

#include "metrics/metrics_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/build_info.h"
#include "metrics/exposition_check.h"
#include "metrics/process_collector.h"
#include "metrics/registry.h"
#include "metrics/text_format.h"
#include "tests/metrics/test_support.h"

namespace fscanary::metrics {
namespace {

using ::testing::HasSubstr;
using testing::HttpRequest;
using testing::HttpResponse;
using testing::SlowClient;

MATCHER_P(HasCode, code, "") { return arg.code() == code; }

// A registry with one of everything, including text that needs escaping.
std::shared_ptr<Registry> SampleRegistry() {
  auto registry = std::make_shared<Registry>();
  EXPECT_TRUE(RegisterBuildInfo(*registry, "0.1.0", "abc123").ok());
  auto* findings = *registry->AddCounter("fscanary_findings_total",
                                         "Corruption findings by kind.\nSee docs\\METRICS.md.");
  (*findings->Add({{"kind", "lost_write"}, {"fs", "ext4"}}))->Increment(3);
  (*findings->Add({{"kind", "torn \"write\""}, {"fs", "C:\\xfs\nx"}}))->Increment();
  (*(*registry->AddGauge("fscanary_agents_connected", "Agents connected."))->Add({}))->Set(12);
  auto* latency = *registry->AddHistogram("fscanary_ingest_latency_seconds",
                                          "Time to ingest one report.", DefaultLatencyBounds());
  Histogram* histogram = *latency->Add({{"source", "agent"}});
  for (double seconds : {0.001, 0.02, 0.3, 1.0, 4.0, 30.0}) histogram->Observe(seconds);
  return registry;
}

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = SampleRegistry();
    server_.RegisterCollectable(registry_);
    auto port = server_.Start("127.0.0.1:0");
    ASSERT_TRUE(port.ok()) << port.status();
    ASSERT_GT(*port, 0);
    port_ = *port;
  }

  std::shared_ptr<Registry> registry_;
  MetricsServer server_;
  int port_ = 0;
};

TEST_F(MetricsServerTest, GetMetricsServesTheExpositionWithItsContentType) {
  const absl::StatusOr<HttpResponse> response = HttpRequest(port_, "GET", "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->headers.at("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(response->headers.at("content-length"), std::to_string(response->body.size()));
  EXPECT_EQ(response->body, SerializeText(registry_->Collect()).text);
  EXPECT_TRUE(CheckTextExposition(response->body).ok()) << CheckTextExposition(response->body);
  EXPECT_THAT(response->body,
              HasSubstr("fscanary_build_info{revision=\"abc123\",version=\"0.1.0\"} 1\n"));
}

TEST_F(MetricsServerTest, EachScrapeSeesCurrentValues) {
  Gauge* connected = *(*registry_->AddGauge("fscanary_hosts_stale", "Stale hosts."))->Add({});
  connected->Set(1);
  EXPECT_THAT(HttpRequest(port_, "GET", "/metrics")->body, HasSubstr("fscanary_hosts_stale 1\n"));
  connected->Set(4);
  EXPECT_THAT(HttpRequest(port_, "GET", "/metrics")->body, HasSubstr("fscanary_hosts_stale 4\n"));
}

TEST_F(MetricsServerTest, OtherPathsAreNotFound) {
  for (const char* path : {"/", "/metric", "/metricsx", "/metrics/extra", "/index.html"}) {
    const absl::StatusOr<HttpResponse> response = HttpRequest(port_, "GET", path);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 404) << path;
  }
}

TEST_F(MetricsServerTest, HeadHasNoBodyAndOtherMethodsAreRefused) {
  const absl::StatusOr<HttpResponse> head = HttpRequest(port_, "HEAD", "/metrics");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  const absl::StatusOr<HttpResponse> post = HttpRequest(port_, "POST", "/metrics");
  ASSERT_TRUE(post.ok()) << post.status();
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->headers.at("allow"), "GET, HEAD");
}

TEST_F(MetricsServerTest, ConcurrentScrapesAllSucceed) {
  std::vector<std::thread> clients;
  std::atomic<int> ok = 0;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        const absl::StatusOr<HttpResponse> response = HttpRequest(port_, "GET", "/metrics");
        if (response.ok() && response->status == 200 && !response->body.empty()) ++ok;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(ok, 40);
}

// Scrapes `count` times; the longest a scrape took, or nullopt if one failed.
std::optional<std::chrono::milliseconds> SlowestOfScrapes(int port, int count) {
  std::chrono::milliseconds slowest{0};
  for (int i = 0; i < count; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const absl::StatusOr<HttpResponse> response = HttpRequest(port, "GET", "/metrics");
    if (!response.ok() || response->status != 200 || response->body.empty()) return std::nullopt;
    slowest = std::max(slowest, std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - start));
  }
  return slowest;
}

TEST_F(MetricsServerTest, AFewSlowClientsDoNotHoldUpScrapes) {
  // Twice the workers civetweb had before the bound (4): they would have
  // held every worker for its 10 s timeout.
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<SlowClient>(port_));
    ASSERT_TRUE(slow.back()->connected());
  }
  const std::optional<std::chrono::milliseconds> slowest = SlowestOfScrapes(port_, 5);
  ASSERT_TRUE(slowest.has_value());
  EXPECT_LT(*slowest, std::chrono::milliseconds(1500));
}

TEST_F(MetricsServerTest, MoreSlowClientsThanWorkersDelayAScrapeByAtMostTheirTimeout) {
  const MetricsServerOptions options;
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (int i = 0; i < 2 * options.num_threads; ++i) {
    slow.push_back(std::make_unique<SlowClient>(port_));
    ASSERT_TRUE(slow.back()->connected());
  }
  // Queued behind both waves: each wave is cut off at the request timeout.
  const std::optional<std::chrono::milliseconds> slowest = SlowestOfScrapes(port_, 3);
  ASSERT_TRUE(slowest.has_value());
  EXPECT_LT(*slowest, std::chrono::milliseconds(2 * options.request_timeout_ms + 1500));
}

TEST_F(MetricsServerTest, StopClosesThePortAndStartWorksAgain) {
  EXPECT_THAT(server_.Start("127.0.0.1:0").status(),
              HasCode(absl::StatusCode::kFailedPrecondition));
  server_.Stop();
  EXPECT_FALSE(HttpRequest(port_, "GET", "/metrics").ok());
  server_.Stop();  // Idempotent.
  auto port = server_.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(HttpRequest(*port, "GET", "/metrics")->status, 200);
}

TEST(MetricsServer, RefusesAddressesThatAreNotIpv4AndPort) {
  MetricsServer server;
  for (const char* address :
       {"9464", "localhost:9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80s",
        "127.0.0.1:1,127.0.0.1:2", "[::1]:0", "+9464"}) {
    EXPECT_THAT(server.Start(address).status(), HasCode(absl::StatusCode::kInvalidArgument))
        << address;
  }
}

TEST(MetricsServer, PortInUseIsUnavailableWithCivetwebsReason) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  MetricsServer server;
  const absl::Status status = server.Start(taken).status();
  close(fd);
  EXPECT_THAT(status, HasCode(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(status.message()), HasSubstr(taken));
  EXPECT_THAT(std::string(status.message()), HasSubstr("bind"));
}

// promtool reads an exposition on stdin and lints it (names, units, HELP).
TEST(MetricsServerPromtool, LiveScrapePassesPromtoolCheckMetrics) {
  constexpr char kPromtool[] = "/usr/bin/promtool";
  if (!std::filesystem::exists(kPromtool)) GTEST_SKIP() << kPromtool << " is not installed";
  MetricsServer server;
  auto registry = SampleRegistry();
  auto process = std::make_shared<ProcessCollector>();
  server.RegisterCollectable(registry);
  server.RegisterCollectable(process);
  auto port = server.Start("127.0.0.1:0");
  ASSERT_TRUE(port.ok()) << port.status();
  const absl::StatusOr<HttpResponse> response = HttpRequest(*port, "GET", "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->status, 200);
  ASSERT_THAT(response->body, HasSubstr("process_cpu_seconds_total"));
  ASSERT_THAT(response->body, HasSubstr("fscanary_ingest_latency_seconds_bucket"));

  const std::filesystem::path directory = ::testing::TempDir();
  const std::filesystem::path scrape = directory / "metrics_scrape.txt";
  const std::filesystem::path output = directory / "promtool_output.txt";
  std::ofstream(scrape, std::ios::binary) << response->body;
  const std::string command = std::string(kPromtool) + " check metrics < " + scrape.string() +
                              " > " + output.string() + " 2>&1";
  const int status = std::system(command.c_str());
  std::stringstream promtool_said;
  promtool_said << std::ifstream(output).rdbuf();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "promtool exit status " << status << ":\n"
      << promtool_said.str() << "\n"
      << response->body;
  EXPECT_EQ(promtool_said.str(), "");
}

}  // namespace
}  // namespace fscanary::metrics
