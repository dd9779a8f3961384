// fscanary-agent's refusals: exit code 2, a message that names the problem,
// and nothing written, whatever was wrong with the command or the target.

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/scratch.h"
#include "tests/integration/state_records.h"

namespace fscanary::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kExitUsage = 2;

bool Exists(const std::string& path) { return std::filesystem::exists(path); }

std::vector<std::byte> ReadFileOrDie(const std::string& path) {
  absl::StatusOr<std::vector<std::byte>> bytes = ReadWholeFile(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *std::move(bytes) : std::vector<std::byte>();
}

struct UsageCase {
  std::string name;
  std::vector<std::string> options;
  std::string message;
};

void PrintTo(const UsageCase& usage, std::ostream* os) { *os << usage.name; }

class WriteUsageErrorTest : public ::testing::TestWithParam<UsageCase> {};

TEST_P(WriteUsageErrorTest, ExitsTwoNamingTheProblemAndCreatesNothing) {
  TempDir dir;
  const std::string target = dir.Join("target");
  std::vector<std::string> args{"write", "--target", target, "--state-dir", dir.Join("state")};
  args.insert(args.end(), GetParam().options.begin(), GetParam().options.end());
  const AgentResult result = RunAgent(args);
  EXPECT_EQ(result.exit_code, kExitUsage) << result.Describe();
  EXPECT_THAT(result.process.err, HasSubstr(GetParam().message));
  EXPECT_EQ(result.process.out, "");
  EXPECT_FALSE(Exists(target));
  EXPECT_FALSE(Exists(dir.Join("state")));
}

INSTANTIATE_TEST_SUITE_P(
    Cli, WriteUsageErrorTest,
    ::testing::Values(
        UsageCase{"SizeMissingForANewFile", {}, "--size is required to create the file target"},
        UsageCase{"SizeNotAByteSize", {"--size", "banana"}, "--size: 'banana' is not a byte size"},
        UsageCase{"SizeOverflowing", {"--size", "99999999999T"}, "'99999999999T' is too large"},
        UsageCase{"SizeTooSmallForLabelAndOneBlock", {"--size", "4K"}, "size 4096 of "},
        UsageCase{"BlockSizeNotASectorMultiple",
                  {"--size", "1M", "--block-size", "1000"},
                  "--block-size: block size 1000 is not a multiple of 512"},
        UsageCase{"BlockSizeBelowOneSector",
                  {"--size", "1M", "--block-size", "256"},
                  "--block-size: block size 256 "},
        UsageCase{"BlockSizeAboveOneMiB",
                  {"--size", "4M", "--block-size", "2M"},
                  "--block-size: block size 2097152 "},
        UsageCase{"BlockSizeNotANumber",
                  {"--size", "1M", "--block-size", "big"},
                  "--block-size: 'big' is not a byte size"},
        UsageCase{"EngineUnknown", {"--size", "1M", "--engine", "aio"}, "unknown engine 'aio'"},
        UsageCase{"PatternUnknown",
                  {"--size", "1M", "--pattern", "diagonal"},
                  "unknown pattern 'diagonal'"},
        UsageCase{"QueueDepthZero", {"--size", "1M", "--queue-depth", "0"}, "--queue-depth"}),
    [](const ::testing::TestParamInfo<UsageCase>& usage) { return usage.param.name; });

TEST(CliErrors, VerifyOfAnUnlabelledFileExitsTwoSayingItCarriesNoLabel) {
  TempDir dir;
  const std::string target = dir.Join("target");
  ASSERT_TRUE(CreateFileWith(target, ForeignBytes(1 << 20, /*seed=*/1)).ok());
  std::filesystem::create_directory(dir.Join("state"));
  const AgentResult result =
      RunAgent({"verify", "--target", target, "--state-dir", dir.Join("state"), "--json"});
  EXPECT_EQ(result.exit_code, kExitUsage) << result.Describe();
  EXPECT_THAT(result.process.err, HasSubstr(target + " carries no fscanary label"));
}

TEST(CliErrors, VerifyOfAMissingTargetExitsTwo) {
  TempDir dir;
  const AgentResult result = RunAgent(
      {"verify", "--target", dir.Join("missing"), "--state-dir", dir.Join("state"), "--json"});
  EXPECT_EQ(result.exit_code, kExitUsage) << result.Describe();
  EXPECT_THAT(result.process.err, HasSubstr(dir.Join("missing") + " does not exist"));
}

TEST(CliErrors, VerifyWithAStateDirHoldingNoStateExitsTwoNamingTheTarget) {
  Scratch scratch({.blocks = 8});
  ASSERT_TRUE(scratch.Prepare().ok());
  const AgentResult write = scratch.Write();
  ASSERT_EQ(write.exit_code, 0) << write.Describe();
  const std::string missing = scratch.dir().Join("no-such-state-dir");
  const AgentResult verify =
      RunAgent({"verify", "--target", scratch.target(), "--state-dir", missing, "--json"});
  EXPECT_EQ(verify.exit_code, kExitUsage) << verify.Describe();
  EXPECT_THAT(verify.process.err, HasSubstr(missing + " holds no state for fscanary target " +
                                            write.json["target_id"].get<std::string>()));
}

TEST(CliErrors, VerifyWithoutAStateDirExitsTwo) {
  const AgentResult result = RunAgent({"verify", "--target", "/dev/null"});
  EXPECT_EQ(result.exit_code, kExitUsage) << result.Describe();
  EXPECT_THAT(result.process.err, HasSubstr("--state-dir is required"));
}

TEST(CliErrors, VerifyWithAnUnknownEngineExitsTwo) {
  Scratch scratch({.blocks = 8});
  ASSERT_TRUE(scratch.Prepare().ok());
  ASSERT_EQ(scratch.Write().exit_code, 0);
  const AgentResult verify = RunAgent({"verify", "--target", scratch.target(), "--state-dir",
                                       scratch.state_dir(), "--engine", "aio"});
  EXPECT_EQ(verify.exit_code, kExitUsage) << verify.Describe();
  EXPECT_THAT(verify.process.err, HasSubstr("unknown engine 'aio'"));
}

TEST(CliErrors, UnknownCommandExitsTwo) {
  const AgentResult result = RunAgent({"scrub"});
  EXPECT_EQ(result.exit_code, kExitUsage) << result.Describe();
  // CLI11 says "A subcommand is required" without naming "scrub".
  EXPECT_THAT(result.process.err, HasSubstr("subcommand"));
}

TEST(CliErrors, WriteOverAForeignFileLeavesItByteIdenticalUntilItIsTakenOver) {
  TempDir dir;
  const std::string target = dir.Join("precious");
  const std::vector<std::byte> content = ForeignBytes((1 << 20) + 123, /*seed=*/7);
  ASSERT_TRUE(CreateFileWith(target, content).ok());
  const AgentResult refused = RunAgent(
      {"write", "--target", target, "--state-dir", dir.Join("state"), "--size", "1M", "--json"});
  EXPECT_EQ(refused.exit_code, kExitUsage) << refused.Describe();
  EXPECT_THAT(refused.process.err, HasSubstr(target + " carries no fscanary label"));
  EXPECT_THAT(refused.process.err, HasSubstr("fscanary-agent take-over --target " + target));
  EXPECT_TRUE(ReadFileOrDie(target) == content) << target << " was modified";
  EXPECT_TRUE(FindStateFile(dir.Join("state")).empty());

  // take-over without --yes says what it found and would do, and writes nothing.
  const std::vector<std::string> take_over = {"take-over",       "--target", target, "--state-dir",
                                              dir.Join("state"), "--size",   "1M"};
  const AgentResult asked = RunAgent(take_over);
  EXPECT_EQ(asked.exit_code, kExitUsage) << asked.Describe();
  EXPECT_THAT(asked.process.out, HasSubstr("found: no fscanary label"));
  EXPECT_THAT(asked.process.out, HasSubstr("run again with --yes"));
  EXPECT_TRUE(ReadFileOrDie(target) == content) << target << " was modified";

  // The refusal is about consent: with it, the file is taken over and written.
  std::vector<std::string> confirmed = take_over;
  confirmed.push_back("--yes");
  const AgentResult taken = RunAgent(confirmed);
  EXPECT_EQ(taken.exit_code, 0) << taken.Describe();
  EXPECT_THAT(taken.process.out, HasSubstr("done: " + target + " is fscanary target"));
  EXPECT_FALSE(ReadFileOrDie(target) == content);
  const AgentResult written = RunAgent(
      {"write", "--target", target, "--state-dir", dir.Join("state"), "--size", "1M", "--json"});
  EXPECT_EQ(written.exit_code, 0) << written.Describe();
}

TEST(CliErrors, WriteWithAnotherBlockSizeThanTheLabelsLeavesTheTargetAlone) {
  Scratch scratch({.blocks = 8});
  ASSERT_TRUE(scratch.Prepare().ok());
  ASSERT_EQ(scratch.Write().exit_code, 0);
  const std::vector<std::byte> before = ReadFileOrDie(scratch.target());
  const AgentResult refused = RunAgent({"write", "--target", scratch.target(), "--state-dir",
                                        scratch.state_dir(), "--block-size", "8K", "--json"});
  EXPECT_EQ(refused.exit_code, kExitUsage) << refused.Describe();
  EXPECT_THAT(refused.process.err, HasSubstr("block size 8192 differs"));
  EXPECT_TRUE(ReadFileOrDie(scratch.target()) == before);
}

}  // namespace
}  // namespace fscanary::testing
