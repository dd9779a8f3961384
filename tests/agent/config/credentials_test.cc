#include "agent/config/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "tests/temp_dir.h"

namespace fscanary::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string WriteFile(const testing::TempDir& dir, const std::string& name,
                      const std::string& text) {
  const std::string path = dir.Join(name);
  FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) std::abort();
  std::fputs(text.c_str(), file);
  std::fclose(file);
  return path;
}

TEST(ReadMachineId, ReturnsTheIdWithoutItsNewline) {
  testing::TempDir dir;
  const std::string path = WriteFile(dir, "machine-id", "4f1c6d1e9a0b4c1d8e2f3a4b5c6d7e8f\n");
  EXPECT_EQ(*ReadMachineId(path), "4f1c6d1e9a0b4c1d8e2f3a4b5c6d7e8f");
}

TEST(ReadMachineId, RefusesAnEmptyOrMalformedIdAndSaysToSetAgentId) {
  testing::TempDir dir;
  for (const char* text : {"", "uninitialized\n", "4f1c6d1e9a0b4c1d8e2f3a4b5c6d7e8\n"}) {
    const absl::StatusOr<std::string> id = ReadMachineId(WriteFile(dir, "machine-id", text));
    ASSERT_FALSE(id.ok()) << text;
    EXPECT_THAT(id.status().message(), HasSubstr("set agent_id"));
  }
}

TEST(ReadMachineId, NamesAMissingFile) {
  const absl::StatusOr<std::string> id = ReadMachineId("/nonexistent/machine-id");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(id.status().message(), HasSubstr("/nonexistent/machine-id"));
}

TEST(ReadAgentToken, ReturnsTheTokenWithoutSurroundingBlanks) {
  testing::TempDir dir;
  EXPECT_EQ(*ReadAgentToken(WriteFile(dir, "token", "  s3cr3t-t0ken-0123456789\n")),
            "s3cr3t-t0ken-0123456789");
}

TEST(ReadAgentToken, RefusesEmptyShortOrSplitTokensWithoutEchoingThem) {
  testing::TempDir dir;
  for (const char* text : {"\n", "short-secret\n", "two words-0123456789\n"}) {
    const absl::StatusOr<std::string> token = ReadAgentToken(WriteFile(dir, "token", text));
    ASSERT_FALSE(token.ok()) << text;
    EXPECT_THAT(token.status().message(), Not(HasSubstr("secret")));
    EXPECT_THAT(token.status().message(), Not(HasSubstr("words")));
  }
}

}  // namespace
}  // namespace fscanary::config
