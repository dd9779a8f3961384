#include "collector/cli/operator_cli.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/collector/cli/run_cli.h"

namespace fscanary::cli {
namespace {

// 200 hosts; the 25 on kernel 4.19.2 with scheduler=none each have one event.
std::string SmallFleet() {
  std::ostringstream lines;
  for (int i = 0; i < 200; ++i) {
    const char* kernel = i % 4 == 0 ? "4.19.2" : (i % 4 == 1 ? "4.19.9" : "5.10.1");
    const char* scheduler = i % 8 < 4 ? "none" : "mq-deadline";
    const bool affected = i % 4 == 0 && i % 8 < 4;
    lines << R"({"host": "vm-)" << i << R"(", "attributes": {"kernel": ")" << kernel
          << R"(", "scheduler": ")" << scheduler << R"(", "fs": ")" << (i % 3 ? "ext4" : "xfs")
          << R"("}, "exposure_bytes": 1e12, "exposure_seconds": 86400, "corruptions": )"
          << (affected ? R"({"lost_write": 1})" : "0") << "}\n";
  }
  return lines.str();
}

class OperatorCli : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = ::testing::TempDir() + "fleet-" + std::to_string(::getpid()) + ".jsonl";
    Write(SmallFleet());
  }
  void TearDown() override { std::remove(path_.c_str()); }

  void Write(const std::string& text) { std::ofstream(path_) << text; }

  int Run(std::vector<std::string> args) {
    return fscanary::testing::RunCli(std::move(args), out_, err_);
  }

  std::string path_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(OperatorCli, AnalyzeJsonNamesTheCause) {
  ASSERT_EQ(Run({"analyze", "--input", path_, "--json"}), 0) << err_.str();
  const nlohmann::json document = nlohmann::json::parse(out_.str(), nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << out_.str();
  EXPECT_EQ(document["hosts"], 200);
  EXPECT_EQ(document["events"], 25);
  const nlohmann::json& top = document["suspects"][0];
  EXPECT_EQ(top["attributes"], (nlohmann::json{{"kernel", "4.19.2"}, {"scheduler", "none"}}));
  EXPECT_EQ(top["events"], 25);
  EXPECT_TRUE(top["ci_high"].is_null());
  EXPECT_LT(top["q_value"].get<double>(), 1e-6);
}

TEST_F(OperatorCli, AnalyzePrintsATableByDefault) {
  ASSERT_EQ(Run({"analyze", "--input", path_}), 0) << err_.str();
  EXPECT_NE(out_.str().find("kernel=4.19.2 ∧ scheduler=none"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("rate ratio (95% CI)"), std::string::npos);
}

TEST_F(OperatorCli, KindSelectsWhichCorruptionsCount) {
  ASSERT_EQ(Run({"analyze", "--input", path_, "--json", "--kind", "bit_rot"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out_.str())["events"], 0);
  EXPECT_NE(err_.str().find("bit_rot"), std::string::npos) << err_.str();
}

TEST_F(OperatorCli, MaxOrderOneReportsSingleValuesOnly) {
  ASSERT_EQ(Run({"analyze", "--input", path_, "--json", "--max-order", "1"}), 0);
  const nlohmann::json document = nlohmann::json::parse(out_.str());
  for (const auto& suspect : document["suspects"]) {
    EXPECT_EQ(suspect["attributes"].size(), 1u);
  }
}

// report and plan take analyze's engine options: `report 1` with the same
// options describes the suspect analyze ranked first.
TEST_F(OperatorCli, ReportAndPlanTakeAnalyzesEngineOptions) {
  const std::vector<std::string> engine = {"--exposure",
                                           "seconds",
                                           "--max-order",
                                           "1",
                                           "--top",
                                           "3",
                                           "--min-events",
                                           "2",
                                           "--min-hosts",
                                           "2",
                                           "--min-epochs",
                                           "2",
                                           "--min-support",
                                           "0.01",
                                           "--alpha",
                                           "0.01",
                                           "--kernel-attribute",
                                           "kernel"};
  const auto with_engine = [&](std::vector<std::string> args) {
    args.insert(args.end(), engine.begin(), engine.end());
    return args;
  };
  ASSERT_EQ(Run(with_engine({"analyze", "--input", path_, "--json"})), 0) << err_.str();
  const nlohmann::json top = nlohmann::json::parse(out_.str())["suspects"][0]["attributes"];
  ASSERT_EQ(top.size(), 1u) << top;

  ASSERT_EQ(Run(with_engine({"report", "1", "--input", path_, "--json"})), 0) << err_.str();
  EXPECT_EQ(nlohmann::json::parse(out_.str())["conjunction"], top);
  ASSERT_EQ(Run(with_engine({"plan", "--input", path_, "--json"})), 0) << err_.str();
  EXPECT_EQ(Run({"report", "1", "--input", path_, "--exposure", "minutes"}), 2);
}

TEST_F(OperatorCli, BadLineFailsByDefaultNamingTheLine) {
  Write(SmallFleet() + "{\"host\": \"x\"}\n");
  EXPECT_EQ(Run({"analyze", "--input", path_}), 2);
  EXPECT_NE(err_.str().find("line 201: missing \"exposure_bytes\""), std::string::npos)
      << err_.str();
  EXPECT_TRUE(out_.str().empty());
}

TEST_F(OperatorCli, BadLineIsSkippedWhenAsked) {
  Write("not json\n" + SmallFleet());
  EXPECT_EQ(Run({"analyze", "--input", path_, "--on-bad-line", "skip", "--json"}), 0);
  EXPECT_NE(err_.str().find("skipped line 1: not valid JSON"), std::string::npos) << err_.str();
  EXPECT_EQ(nlohmann::json::parse(out_.str())["hosts"], 200);
}

TEST_F(OperatorCli, UsageErrorsExitWithTwo) {
  EXPECT_EQ(Run({}), 2);
  EXPECT_EQ(Run({"analyze"}), 2);
  EXPECT_NE(err_.str().find("--input"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"analyze", "--input", path_, "--max-order", "9"}), 2);
  EXPECT_EQ(Run({"analyze", "--input", path_, "--on-bad-line", "maybe"}), 2);
  EXPECT_EQ(Run({"frobnicate"}), 2);
}

TEST_F(OperatorCli, MissingOrEmptyInputExitsWithTwo) {
  EXPECT_EQ(Run({"analyze", "--input", path_ + ".nope"}), 2);
  EXPECT_NE(err_.str().find(path_ + ".nope"), std::string::npos) << err_.str();
  Write("\n\n");
  EXPECT_EQ(Run({"analyze", "--input", path_}), 2);
  EXPECT_NE(err_.str().find("no host epochs"), std::string::npos) << err_.str();
}

TEST_F(OperatorCli, HelpExitsWithZero) {
  EXPECT_EQ(Run({"analyze", "--help"}), 0);
  EXPECT_NE(out_.str().find("--on-bad-line"), std::string::npos);
}

// The built binary, as an operator runs it: exit status and output streams.
struct Process {
  int status = -1;
  std::string out;
};

Process RunBinary(const std::string& arguments) {
  Process process;
  const std::string command = std::string(FSCANARY_BINARY) + " " + arguments + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return process;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    process.out.append(buffer.data(), n);
  const int raw = ::pclose(pipe);
  process.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return process;
}

TEST_F(OperatorCli, BinaryPrintsJsonAndExitsZero) {
  const Process process = RunBinary("analyze --json --input " + path_);
  EXPECT_EQ(process.status, 0);
  const nlohmann::json document = nlohmann::json::parse(process.out, nullptr, false);
  ASSERT_FALSE(document.is_discarded()) << process.out;
  EXPECT_EQ(document["suspects"][0]["events"], 25);
}

TEST_F(OperatorCli, BinaryExitsTwoOnInputErrors) {
  EXPECT_EQ(RunBinary("analyze --input /nonexistent/fleet.jsonl").status, 2);
  EXPECT_EQ(RunBinary("analyze").status, 2);
}

}  // namespace
}  // namespace fscanary::cli
