// Bad collector configs are refused with the key and the line of each problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "collector/config/collector_config.h"

namespace fscanary::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string ErrorOf(const std::string& yaml) {
  const absl::StatusOr<CollectorConfig> parsed = ParseCollectorConfig(yaml, "collector.yaml");
  EXPECT_FALSE(parsed.ok()) << yaml;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(CollectorConfigErrors, UnknownKeysAtTopLevelAndNested) {
  EXPECT_EQ(ErrorOf("listen: 127.0.0.1:7420\nlisten_admin: 127.0.0.1:7421\n"),
            "collector.yaml:2: listen_admin: unknown key (did you mean 'admin_listen'?)");
  EXPECT_EQ(ErrorOf("retention:\n  reports: 30d\n  findings: 1d\n"),
            "collector.yaml:3: retention.findings: unknown key (expected one of: epochs, "
            "reports)");
}

TEST(CollectorConfigErrors, WrongTypesBadSizesAndDurations) {
  EXPECT_EQ(ErrorOf("require_auth: \"true\"\n"),
            "collector.yaml:1: require_auth: expected true or false, got the quoted string "
            "'true'");
  EXPECT_EQ(ErrorOf("limits:\n  max_batch: all\n"),
            "collector.yaml:2: limits.max_batch: expected a whole number, got 'all'");
  EXPECT_THAT(ErrorOf("limits:\n  max_message_bytes: 1MB2\n"),
              StartsWith("collector.yaml:2: limits.max_message_bytes: '1MB2' is not a byte size"));
  EXPECT_THAT(ErrorOf("host_expiry: 1 hour\n"),
              StartsWith("collector.yaml:1: host_expiry: '1 hour' is not a duration"));
}

TEST(CollectorConfigErrors, EmptyFileAndSyntaxError) {
  EXPECT_THAT(ErrorOf(""), StartsWith("collector.yaml: the configuration is empty"));
  EXPECT_THAT(ErrorOf("listen: 127.0.0.1:7420\nstore:\n  path: /a\n bad: 1\n"),
              StartsWith("collector.yaml:4: YAML: "));
}

TEST(CollectorConfigErrors, KeepaliveIncompatibleWithTheAgentsIsRefusedWithTheReason) {
  EXPECT_EQ(ErrorOf("keepalive:\n  min_time: 1m\n"),
            "collector.yaml:2: keepalive.min_time: 1m is longer than the agents' default "
            "collector.keepalive_time (30s): the collector would hang up on them with "
            "too_many_pings");
  EXPECT_THAT(ErrorOf("keepalive:\n  permit_without_calls: false\n"),
              StartsWith("collector.yaml:2: keepalive.permit_without_calls: must be true"));
}

TEST(CollectorConfigErrors, AdminListenerMustStayOnLoopback) {
  EXPECT_THAT(ErrorOf("admin_listen: 0.0.0.0:7421\n"),
              StartsWith("collector.yaml:1: admin_listen: '0.0.0.0:7421' is not loopback"));
  EXPECT_EQ(ErrorOf("admin_listen: 127.0.0.1:7420\n"),
            "collector.yaml:1: admin_listen: is the same address as listen");
}

TEST(CollectorConfigErrors, AuthAndTlsMustBeWorkable) {
  EXPECT_EQ(ErrorOf("require_auth: true\n"),
            "collector.yaml:1: require_auth: needs tokens_file or tls.client_ca: otherwise no "
            "agent could authenticate");
  EXPECT_EQ(ErrorOf("tls:\n  cert: /c.pem\n"),
            "collector.yaml:2: tls.cert: cert and key go together (TLS needs both)");
  EXPECT_EQ(ErrorOf("tls:\n  client_ca: /ca.pem\n"),
            "collector.yaml:2: tls.client_ca: needs cert and key: mutual TLS is TLS first");
  EXPECT_EQ(ErrorOf("tls:\n  cert: /c.pem\n  key: /k.pem\n  operator_identities: [ops]\n"),
            "collector.yaml:4: tls.operator_identities: needs client_ca: without mutual TLS no "
            "client presents a certificate");
}

TEST(CollectorConfigErrors, ValuesOutOfRange) {
  EXPECT_EQ(ErrorOf("retention:\n  reports: 10m\n"),
            "collector.yaml:2: retention.reports: 10m is shorter than 1h (0 keeps records "
            "forever)");
  EXPECT_EQ(ErrorOf("limits:\n  max_message_bytes: 1K\n"),
            "collector.yaml:2: limits.max_message_bytes: 1K is not between 64K and 64M");
  // More streams than were measured to be safe is refused, not a crash later.
  EXPECT_THAT(ErrorOf("limits:\n  max_streams: 100001\n"),
              StartsWith("collector.yaml:2: limits.max_streams:"));
  EXPECT_THAT(ErrorOf("store:\n  synchronous: off\n"),
              StartsWith("collector.yaml:2: store.synchronous: unknown synchronous mode 'off'"));
  EXPECT_THAT(ErrorOf("listen: 7420\n"),
              StartsWith("collector.yaml:1: listen: '7420' is not host:port"));
}

TEST(CollectorConfigErrors, AdaptiveValuesOutOfRangeNameTheirKey) {
  EXPECT_THAT(ErrorOf("adaptive:\n  max_factor: 0.5\n"),
              StartsWith("collector.yaml:2: adaptive.max_factor:"));
  EXPECT_THAT(ErrorOf("adaptive:\n  confirmed_q: 1\n"),
              StartsWith("collector.yaml:2: adaptive.confirmed_q: must be below 1"));
  EXPECT_THAT(ErrorOf("adaptive:\n  neighbourhoods: [\"kernel_series,,driver\"]\n"),
              StartsWith("collector.yaml:2: adaptive.neighbourhoods: 'kernel_series,,driver' "
                         "names an empty attribute"));
}

TEST(CollectorConfigErrors, APostgresStoreNeedsADsnWithoutAPassword) {
  EXPECT_EQ(ErrorOf("store:\n  backend: mysql\n"),
            "collector.yaml:2: store.backend: unknown store backend 'mysql' (expected sqlite or "
            "postgres)");
  EXPECT_EQ(ErrorOf("store:\n  backend: postgres\n"),
            "collector.yaml:2: store.backend: postgres needs store.postgres.dsn (a libpq "
            "connection string)");
  for (const std::string dsn :
       {"host=db dbname=fscanary password=hunter2", "host=db password = hunter2",
        "postgresql://fscanary:hunter2@db/fscanary",
        "postgresql://db/fscanary?sslmode=require&password=hunter2"}) {
    const std::string error =
        ErrorOf(absl::StrCat("store:\n  backend: postgres\n  postgres:\n    dsn: \"", dsn, "\"\n"));
    EXPECT_THAT(error, StartsWith("collector.yaml:4: store.postgres.dsn: holds a password")) << dsn;
    EXPECT_THAT(error, Not(HasSubstr("hunter2"))) << dsn;
  }
  EXPECT_THAT(ErrorOf("store:\n  postgres:\n    password_file: secrets/pg\n"),
              StartsWith("collector.yaml:3: store.postgres.password_file:"));
}

TEST(LoadCollectorConfig, NamesAFileItCannotRead) {
  const absl::StatusOr<CollectorConfig> parsed = LoadCollectorConfig("/nonexistent/c.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("/nonexistent/c.yaml"));
}

TEST(CollectorConfigErrors, AListenerOffLoopbackNeedsTlsAndAuthenticationOrInsecure) {
  EXPECT_THAT(ErrorOf("listen: 0.0.0.0:7420\n"),
              StartsWith("collector.yaml:1: listen: '0.0.0.0:7420' is not loopback, and the "
                         "collector has no TLS and authentication there"));
  // TLS alone: tokens would still be no one's.
  EXPECT_THAT(ErrorOf("listen: 10.0.0.5:7420\ntls:\n  cert: /c.pem\n  key: /c.key\n"),
              HasSubstr("listen: '10.0.0.5:7420' is not loopback"));
  // A name that merely starts like a loopback address is not one.
  EXPECT_THAT(ErrorOf("listen: 127.evil.example:7420\n"), HasSubstr("is not loopback"));
  // Tokens alone travel in the clear.
  EXPECT_THAT(ErrorOf("listen: 0.0.0.0:7420\ntokens_file: /t\n"), HasSubstr("is not loopback"));
}

TEST(CollectorConfig, AListenerOffLoopbackIsAcceptedWithTlsAndAuthenticationOrInsecure) {
  EXPECT_TRUE(ParseCollectorConfig("listen: 0.0.0.0:7420\ninsecure: true\n", "c.yaml").ok());
  EXPECT_TRUE(
      ParseCollectorConfig(
          "listen: 0.0.0.0:7420\ntls:\n  cert: /c.pem\n  key: /c.key\ntokens_file: /t\n", "c.yaml")
          .ok());
  EXPECT_TRUE(ParseCollectorConfig("listen: 0.0.0.0:7420\ntls:\n  cert: /c.pem\n  key: /c.key\n"
                                   "  client_ca: /ca.pem\n",
                                   "c.yaml")
                  .ok());
  EXPECT_TRUE(ParseCollectorConfig("listen: 127.0.0.1:7420\n", "c.yaml").ok());
  EXPECT_TRUE(ParseCollectorConfig("listen: unix:/run/fscanary.sock\n", "c.yaml").ok());
}

TEST(CollectorConfigErrors, CertificateIdentityCannotBeTurnedOff) {
  EXPECT_THAT(ErrorOf("tls:\n  cert: /c.pem\n  key: /c.key\n  client_ca: /ca.pem\n"
                      "  agent_id_from_certificate: false\n"),
              HasSubstr("tls.agent_id_from_certificate: false is no longer supported"));
  EXPECT_EQ(ErrorOf("tokens_file: /t\noperator_tokens_file: /t\n"),
            "collector.yaml:2: operator_tokens_file: is the agents' tokens_file: operators need "
            "their own");
}

}  // namespace
}  // namespace fscanary::config
