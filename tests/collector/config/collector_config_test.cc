#include "collector/config/collector_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "common/config/text_file_io.h"

namespace fscanary::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;

const std::string kSourceDir = FSCANARY_SOURCE_DIR;

constexpr char kEveryKey[] = R"(
listen: 0.0.0.0:7443
admin_listen: 127.0.0.1:7421
state_dir: /srv/collector
log_level: warn
store:
  path: /srv/db/collector.db
  synchronous: normal
tls:
  cert: /etc/fscanary/collector.pem
  key: /etc/fscanary/collector.key
  client_ca: /etc/fscanary/agents-ca.pem
  agent_id_from_certificate: true
  operator_identities: [ops-alice, ops-bob]
tokens_file: /etc/fscanary/tokens
require_auth: true
operator_tokens_file: /etc/fscanary/operator-tokens
insecure: true
metrics:
  listen: 0.0.0.0:9465
keepalive:
  min_time: 20s
  permit_without_calls: true
retention:
  reports: 7d
  epochs: 0
host_expiry: 10m
limits:
  max_message_bytes: 4M
  max_batch: 1024
  max_streams: 500
  max_streams_per_agent: 2
  hello_timeout: 5s
  idle_timeout: 2m
  max_records_in_flight: 64
adaptive:
  enabled: true
  poll_interval: 2s
  decide_interval: 1m
  renew_interval: 3m
  max_factor: 6
  max_extra_io_share: 0.5
  leads: 2
  victim_window: 3d
  fade_after: 10d
  confirmed_q: 0.01
  lead_p: 0.02
  neighbourhoods: ["kernel_series,driver,scheduler", kernel_series]
)";

TEST(CollectorConfig, EveryKeyIsReadIntoItsField) {
  const absl::StatusOr<CollectorConfig> parsed = ParseCollectorConfig(kEveryKey, "collector.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const CollectorConfig& config = *parsed;
  EXPECT_EQ(config.listen, "0.0.0.0:7443");
  EXPECT_EQ(config.admin_listen, "127.0.0.1:7421");
  EXPECT_EQ(config.state_dir, "/srv/collector");
  EXPECT_EQ(config.log_level, "warn");
  EXPECT_EQ(config.store.path, "/srv/db/collector.db");
  EXPECT_EQ(config.store.synchronous, CollectorConfig::Synchronous::kNormal);
  EXPECT_EQ(config.tls.cert, "/etc/fscanary/collector.pem");
  EXPECT_EQ(config.tls.key, "/etc/fscanary/collector.key");
  EXPECT_EQ(config.tls.client_ca, "/etc/fscanary/agents-ca.pem");
  EXPECT_EQ(config.tls.operator_identities, (std::vector<std::string>{"ops-alice", "ops-bob"}));
  EXPECT_EQ(config.tokens_file, "/etc/fscanary/tokens");
  EXPECT_TRUE(config.require_auth);
  EXPECT_EQ(config.operator_tokens_file, "/etc/fscanary/operator-tokens");
  EXPECT_TRUE(config.insecure);
  EXPECT_EQ(config.metrics.listen, "0.0.0.0:9465");
  EXPECT_EQ(config.keepalive.min_time, seconds(20));
  EXPECT_TRUE(config.keepalive.permit_without_calls);
  EXPECT_EQ(config.retention.reports, hours(24 * 7));
  EXPECT_EQ(config.retention.epochs, seconds(0));
  EXPECT_EQ(config.host_expiry, minutes(10));
  EXPECT_EQ(config.limits.max_message_bytes, uint64_t{4} << 20);
  EXPECT_EQ(config.limits.max_batch, 1024u);
  EXPECT_EQ(config.limits.max_streams, 500u);
  EXPECT_EQ(config.limits.max_streams_per_agent, 2u);
  EXPECT_EQ(config.limits.hello_timeout, seconds(5));
  EXPECT_EQ(config.limits.idle_timeout, minutes(2));
  EXPECT_EQ(config.limits.max_records_in_flight, 64u);
  EXPECT_TRUE(config.adaptive.enabled);
  EXPECT_EQ(config.adaptive.poll_interval, seconds(2));
  EXPECT_EQ(config.adaptive.decide_interval, minutes(1));
  EXPECT_EQ(config.adaptive.renew_interval, minutes(3));
  EXPECT_DOUBLE_EQ(config.adaptive.max_factor, 6);
  EXPECT_DOUBLE_EQ(config.adaptive.max_extra_io_share, 0.5);
  EXPECT_EQ(config.adaptive.leads, 2u);
  EXPECT_EQ(config.adaptive.victim_window, hours(24 * 3));
  EXPECT_EQ(config.adaptive.fade_after, hours(24 * 10));
  EXPECT_DOUBLE_EQ(config.adaptive.confirmed_q, 0.01);
  EXPECT_DOUBLE_EQ(config.adaptive.lead_p, 0.02);
  EXPECT_EQ(config.adaptive.neighbourhoods,
            (std::vector<std::string>{"kernel_series,driver,scheduler", "kernel_series"}));
}

TEST(CollectorConfig, KeysLeftOutGiveTheDocumentedDefaults) {
  const absl::StatusOr<CollectorConfig> parsed =
      ParseCollectorConfig("log_level: info\n", "collector.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const CollectorConfig& config = *parsed;
  EXPECT_EQ(config.listen, "127.0.0.1:7420");
  EXPECT_EQ(config.admin_listen, "");
  EXPECT_EQ(config.state_dir, "/var/lib/fscanary-collector");
  EXPECT_EQ(config.store.path, "/var/lib/fscanary-collector/collector.db");
  EXPECT_EQ(config.store.synchronous, CollectorConfig::Synchronous::kFull);
  EXPECT_EQ(config.tls.cert, "");
  EXPECT_TRUE(config.tls.operator_identities.empty());
  EXPECT_EQ(config.tokens_file, "");
  EXPECT_FALSE(config.require_auth);
  EXPECT_EQ(config.operator_tokens_file, "");
  EXPECT_FALSE(config.insecure);
  EXPECT_EQ(config.metrics.listen, "127.0.0.1:9420");
  EXPECT_EQ(config.keepalive.min_time, seconds(10));
  EXPECT_TRUE(config.keepalive.permit_without_calls);
  EXPECT_EQ(config.retention.reports, hours(24 * 30));
  EXPECT_EQ(config.retention.epochs, hours(24 * 365));
  EXPECT_EQ(config.host_expiry, hours(1));
  EXPECT_EQ(config.limits.max_message_bytes, uint64_t{1} << 20);
  EXPECT_EQ(config.limits.max_batch, 256u);
  EXPECT_EQ(config.limits.max_streams, 4096u);
  EXPECT_EQ(config.limits.max_streams_per_agent, 4u);
  EXPECT_EQ(config.limits.hello_timeout, seconds(10));
  EXPECT_EQ(config.limits.idle_timeout, minutes(5));
  EXPECT_EQ(config.limits.max_records_in_flight, 256u);
  EXPECT_FALSE(config.adaptive.enabled);
  EXPECT_EQ(config.adaptive.poll_interval, seconds(10));
  EXPECT_EQ(config.adaptive.decide_interval, minutes(5));
  EXPECT_EQ(config.adaptive.renew_interval, minutes(5));
  EXPECT_DOUBLE_EQ(config.adaptive.max_factor, 10);
  EXPECT_DOUBLE_EQ(config.adaptive.max_extra_io_share, 0.2);
  EXPECT_EQ(config.adaptive.leads, 1u);
  EXPECT_EQ(config.adaptive.victim_window, hours(24 * 7));
  EXPECT_EQ(config.adaptive.fade_after, hours(24 * 14));
  EXPECT_DOUBLE_EQ(config.adaptive.confirmed_q, 0.05);
  EXPECT_DOUBLE_EQ(config.adaptive.lead_p, 0.01);
  EXPECT_TRUE(config.adaptive.neighbourhoods.empty());
}

TEST(CollectorConfig, StorePathFollowsStateDir) {
  const absl::StatusOr<CollectorConfig> parsed =
      ParseCollectorConfig("state_dir: /srv/c\n", "collector.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->store.path, "/srv/c/collector.db");
}

TEST(DescribeCollectorConfig, SameMeaningGivesTheSameTextAndNeverAToken) {
  const absl::StatusOr<CollectorConfig> a =
      ParseCollectorConfig("host_expiry: 60m\ntokens_file: /etc/t\n", "a.yaml");
  const absl::StatusOr<CollectorConfig> b =
      ParseCollectorConfig("tokens_file: \"/etc/t\"\nhost_expiry: 1h\n", "b.yaml");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(DescribeConfig(*a), DescribeConfig(*b));
  EXPECT_THAT(DescribeConfig(*a), HasSubstr("\ntokens_file: \"/etc/t\"\n"));
  EXPECT_THAT(DescribeConfig(*a), HasSubstr("\nhost_expiry: 1h\n"));
}

TEST(CollectorConfig, APostgresStoreIsReadWithItsDsnAndPasswordFile) {
  const absl::StatusOr<CollectorConfig> parsed = ParseCollectorConfig(
      "store:\n  backend: postgres\n  postgres:\n"
      "    dsn: \"host=/run/postgresql dbname=fscanary user=fscanary\"\n"
      "    password_file: /etc/fscanary/pg-password\n",
      "collector.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->store.backend, CollectorConfig::StoreBackend::kPostgres);
  EXPECT_EQ(parsed->store.postgres.dsn, "host=/run/postgresql dbname=fscanary user=fscanary");
  EXPECT_EQ(parsed->store.postgres.password_file, "/etc/fscanary/pg-password");
  // A password-free DSN that merely mentions the word is accepted.
  EXPECT_FALSE(DsnHoldsPassword("host=db user=passwordless dbname=password_store"));
  EXPECT_FALSE(DsnHoldsPassword("postgresql://fscanary@db/fscanary?passfile=/etc/pg"));
}

TEST(ExampleCollectorConfig, LoadsAndHoldsTheDefaults) {
  const absl::StatusOr<CollectorConfig> example =
      LoadCollectorConfig(kSourceDir + "/deploy/config/collector.yaml");
  ASSERT_TRUE(example.ok()) << example.status();
  CollectorConfig defaults;
  defaults.store.path = defaults.state_dir + "/collector.db";
  EXPECT_EQ(DescribeConfig(*example), DescribeConfig(defaults));
}

TEST(ExampleCollectorConfig, EveryKeyIsDocumentedInConfigMd) {
  const absl::StatusOr<std::string> doc = ReadTextFile(kSourceDir + "/docs/CONFIG.md");
  ASSERT_TRUE(doc.ok()) << doc.status();
  std::istringstream lines(DescribeConfig(CollectorConfig{}));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("#")) continue;
    const std::string key = line.substr(0, line.find(':'));
    EXPECT_THAT(*doc, HasSubstr("`" + key + "`")) << "undocumented key " << key;
  }
}

}  // namespace
}  // namespace fscanary::config
