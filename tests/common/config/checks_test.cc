#include "common/config/checks.h"

#include <gtest/gtest.h>

namespace fscanary::config {
namespace {

TEST(ValidateGrpcListen, AcceptsHostPortIpv6AndUnixSockets) {
  for (const char* address : {"127.0.0.1:7420", "0.0.0.0:0", "collector.internal:7420", "[::]:7420",
                              "[::1]:1", "unix:/run/fscanary/collector.sock"}) {
    EXPECT_TRUE(ValidateGrpcListen(address).ok()) << address;
  }
}

TEST(ValidateGrpcListen, RefusesMissingPortsBadPortsAndUnbracketedIpv6) {
  for (const char* address :
       {"", "127.0.0.1", ":7420", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:port", "::1:7420",
        "unix:relative.sock", "host name:7420"}) {
    EXPECT_FALSE(ValidateGrpcListen(address).ok()) << address;
  }
}

TEST(ValidateMetricsListen, AcceptsOnlyAnIpv4AddressAndPort) {
  EXPECT_TRUE(ValidateMetricsListen("127.0.0.1:9464").ok());
  EXPECT_TRUE(ValidateMetricsListen("0.0.0.0:0").ok());
  EXPECT_FALSE(ValidateMetricsListen("localhost:9464").ok());
  EXPECT_FALSE(ValidateMetricsListen("[::1]:9464").ok());
  EXPECT_FALSE(ValidateMetricsListen("127.0.0.1").ok());
}

TEST(ValidateGrpcTarget, RefusesOnlyEmptyOrBlankTargets) {
  EXPECT_TRUE(ValidateGrpcTarget("dns:///collector:7420").ok());
  EXPECT_TRUE(ValidateGrpcTarget("unix:/run/c.sock").ok());
  EXPECT_FALSE(ValidateGrpcTarget("").ok());
  EXPECT_FALSE(ValidateGrpcTarget("collector :7420").ok());
}

TEST(ValidateAbsolutePath, RefusesRelativeAndEmptyPaths) {
  EXPECT_TRUE(ValidateAbsolutePath("/var/lib/x").ok());
  EXPECT_FALSE(ValidateAbsolutePath("var/lib/x").ok());
  EXPECT_FALSE(ValidateAbsolutePath("").ok());
  EXPECT_FALSE(ValidateAbsolutePath(std::string("/a\nb")).ok());
}

TEST(ValidateAgentId, AcceptsMachineIdsAndRefusesOtherCharacters) {
  EXPECT_TRUE(ValidateAgentId("4f1c6d1e9a0b4c1d8e2f3a4b5c6d7e8f").ok());
  EXPECT_TRUE(ValidateAgentId("web-01.eu:a_b").ok());
  EXPECT_FALSE(ValidateAgentId("").ok());
  EXPECT_FALSE(ValidateAgentId("web 01").ok());
  EXPECT_FALSE(ValidateAgentId("web/01").ok());
  EXPECT_FALSE(ValidateAgentId(std::string(129, 'a')).ok());
}

TEST(ValidateLogLevel, AcceptsSpdlogLevelNamesOnly) {
  EXPECT_TRUE(ValidateLogLevel("debug").ok());
  EXPECT_TRUE(ValidateLogLevel("off").ok());
  EXPECT_FALSE(ValidateLogLevel("verbose").ok());
  EXPECT_FALSE(ValidateLogLevel("INFO").ok());
}

}  // namespace
}  // namespace fscanary::config
