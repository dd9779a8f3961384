#include "collector/config/tokens.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace fscanary::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ParseTokens, ReadsAgentTokenLinesSkippingCommentsAndBlanks) {
  const auto tokens = ParseTokens(
      "# agent_id token\n"
      "\n"
      "web-01 0123456789abcdef0123\n"
      "  web-02\tfedcba9876543210fedc  \n",
      "tokens");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 2u);
  EXPECT_EQ(tokens->at("web-01"), "0123456789abcdef0123");
  EXPECT_EQ(tokens->at("web-02"), "fedcba9876543210fedc");
}

TEST(ParseTokens, ReportsEachBadLineWithoutEverEchoingAToken) {
  const auto tokens = ParseTokens(
      "web-01 SECRETSECRETSECRET1\n"
      "web-02 SECRETSECRETSECRET2 extra\n"
      "web 03\n"
      "web-04 SECRET\n"
      "web-01 SECRETSECRETSECRET5\n",
      "tokens");
  ASSERT_FALSE(tokens.ok());
  const std::string message(tokens.status().message());
  EXPECT_THAT(message, HasSubstr("tokens:2: expected 'agent_id token' (two words)"));
  EXPECT_THAT(message, HasSubstr("tokens:3: the token of 'web' is not at least 16"));
  EXPECT_THAT(message, HasSubstr("tokens:4: the token of 'web-04' is not at least 16"));
  EXPECT_THAT(message, HasSubstr("tokens:5: agent 'web-01' is listed twice (first at line 1)"));
  EXPECT_THAT(message, Not(HasSubstr("SECRET")));
}

TEST(ParseTokens, RefusesAnInvalidAgentId) {
  const auto tokens = ParseTokens("web/01 0123456789abcdef0123\n", "tokens");
  ASSERT_FALSE(tokens.ok());
  EXPECT_THAT(tokens.status().message(), HasSubstr("tokens:1: 'web/01' is not an agent id"));
}

TEST(ParseTokens, RefusesAFileWithNoTokenSinceThatWouldTurnChecksOff) {
  const auto tokens = ParseTokens("# nothing yet\n", "tokens");
  ASSERT_FALSE(tokens.ok());
  EXPECT_THAT(tokens.status().message(), HasSubstr("holds no 'agent_id token' line"));
}

TEST(ParseTokens, NamesTheFirstTwentyBadLinesAndCountsTheRest) {
  std::string text;
  for (int i = 0; i < 25; ++i) text += "web-" + std::to_string(i) + " short\n";
  const auto tokens = ParseTokens(text, "tokens");
  ASSERT_FALSE(tokens.ok());
  const std::string message(tokens.status().message());
  EXPECT_THAT(message, HasSubstr("tokens:20: the token of 'web-19'"));
  EXPECT_THAT(message, Not(HasSubstr("tokens:21:")));
  EXPECT_THAT(message, HasSubstr("tokens: and 5 more bad lines"));
}

TEST(LoadTokensFile, HoldsTheTokensOfAFleetOfFiftyThousandAgents) {
  // Larger than the 1 MiB other configuration files may be.
  const std::string path = ::testing::TempDir() + "fleet-tokens-" + std::to_string(::getpid());
  {
    std::ofstream file(path);
    for (int i = 0; i < 50'000; ++i) {
      file << "host-" << i << ".datacenter.example.com 0123456789abcdef0123456789abcdef-" << i
           << "\n";
    }
  }
  const auto tokens = LoadTokensFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ(tokens->size(), 50'000u);
}

TEST(LoadTokensFile, NamesAMissingFile) {
  const auto tokens = LoadTokensFile("/nonexistent/tokens");
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(tokens.status().message(), HasSubstr("/nonexistent/tokens"));
}

}  // namespace
}  // namespace fscanary::config
