// `fscanary plan`, `fscanary report` and fix confirmation in `fscanary analyze`,
// on simulated fleets written as the JSON lines they read.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "collector/cli/operator_cli.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/collector/cli/run_cli.h"
#include "tests/sim/experiment_sim.h"
#include "tests/terminal_inert.h"

namespace fscanary::cli {
namespace {

using fleet_sim::Attributes;
using fleet_sim::ExperimentCause;
using fleet_sim::ExperimentFleet;

// 300 hosts; 40 carry kernel 5.15.3 and scheduler none alike; the cause is
// scheduler=none. After three weeks the engine names the alias group.
ExperimentFleet AliasedFleet() {
  ExperimentFleet sim(
      fleet_sim::AliasedHosts(300, 40, 1),
      ExperimentCause{.conditions = {{"scheduler", "none"}}, .events_per_host_day = 0.01}, 1);
  sim.Advance(21);
  return sim;
}

class ExperimentCommands : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path =
        ::testing::TempDir() + name + "-" + std::to_string(::getpid()) + ".json";
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path;
  }

  int Run(std::vector<std::string> args) {
    return fscanary::testing::RunCli(std::move(args), out_, err_);
  }

  nlohmann::json Json() {
    nlohmann::json document = nlohmann::json::parse(out_.str(), nullptr, false);
    EXPECT_FALSE(document.is_discarded()) << out_.str();
    return document;
  }

  std::vector<std::string> paths_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ExperimentCommands, PlanProposesASchedulerSwitchForTheAliasedSuspect) {
  const std::string fleet = Write("aliased", AliasedFleet().Jsonl());
  ASSERT_EQ(Run({"plan", "--input", fleet, "--within", "60"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("Suspect: kernel=5.15.3"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("1. Switch scheduler from none to mq-deadline on "), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("Confirming a fix (before making it):"), std::string::npos);

  ASSERT_EQ(Run({"plan", "--input", fleet, "--within", "60", "--fix-hosts", "20", "--json"}), 0)
      << err_.str();
  const nlohmann::json plan = Json();
  ASSERT_EQ(plan["splits"].size(), 2u);
  EXPECT_EQ(plan["splits"][0]["attribute"], "scheduler");
  EXPECT_EQ(plan["splits"][0]["moving"]["scheduler"], "none");
  EXPECT_EQ(plan["splits"][0]["staying"]["kernel"], "5.15.3");
  EXPECT_EQ(plan["hosts_carrying"], 40);
  ASSERT_EQ(plan["fix"].size(), 1u);
  EXPECT_EQ(plan["fix"][0]["hosts"], 20);
  EXPECT_TRUE(plan["fix"][0]["days"].is_number());
}

TEST_F(ExperimentCommands, PlanNamesASuspectThatDoesNotExist) {
  const std::string fleet = Write("aliased", AliasedFleet().Jsonl());
  EXPECT_EQ(Run({"plan", "--input", fleet, "--suspect", "fs=zfs"}), 2);
  EXPECT_NE(err_.str().find("no suspect is fs=zfs"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"plan", "--input", fleet, "--suspect", "9"}), 2);
  EXPECT_NE(err_.str().find("no suspect #9"), std::string::npos) << err_.str();
}

TEST_F(ExperimentCommands, ReportTextHasEverySectionInOrder) {
  const std::string fleet = Write("aliased", AliasedFleet().Jsonl());
  // An alias member names the suspect as well as its group's name does.
  ASSERT_EQ(Run({"report", "scheduler=none", "--input", fleet}), 0) << err_.str();
  const std::string text = out_.str();
  size_t at = 0;
  for (const char* section :
       {"Incident report: suspect #1", "Conjunction: kernel=5.15.3",
        "indistinguishable by the fleet (same hosts): kernel=5.15.3, scheduler=none",
        "Numbers:", "Kernel releases:", "  5.15.3: ", "first bad seen: 5.15.3",
        "first good seen after: 5.15.8", "Configurations of the hosts with events:",
        "Kernel command lines of the hosts with events:", "not reported",
        "Evidence (as the findings summarise it):", "none given for these hosts",
        "Known bugs matching these hosts:", "How the numbers were computed:", "Binomial("}) {
    const size_t found = text.find(section, at);
    ASSERT_NE(found, std::string::npos) << "missing or out of order: " << section << "\n" << text;
    at = found;
  }
}

TEST_F(ExperimentCommands, ReportJsonCarriesTheCountsBehindTheNumbers) {
  const ExperimentFleet sim = AliasedFleet();
  const std::string fleet = Write("aliased", sim.Jsonl());
  ASSERT_EQ(Run({"report", "1", "--input", fleet, "--json"}), 0) << err_.str();
  const nlohmann::json report = Json();
  EXPECT_EQ(report["rank"], 1);
  EXPECT_EQ(report["conjunction"]["kernel"], "5.15.3");
  EXPECT_EQ(report["numbers"]["events"], sim.events());
  EXPECT_EQ(report["numbers"]["fleet_events"], sim.events());
  EXPECT_EQ(report["numbers"]["hosts"], 40);
  EXPECT_EQ(report["numbers"]["fleet_hosts"], 300);
  EXPECT_TRUE(report["numbers"]["ci_high"].is_null());  // every event in the suspect
  EXPECT_EQ(report["kernel"]["first_bad_seen"], "5.15.3");
  EXPECT_EQ(report["kernel"]["last_bad_seen"], "5.15.3");
  EXPECT_TRUE(report["kernel"]["last_good_seen"].is_null());
  uint64_t events = 0;
  for (const auto& release : report["kernel"]["releases"])
    events += release["events"].get<uint64_t>();
  EXPECT_EQ(events, sim.events());
  uint64_t configured = 0;
  for (const auto& c : report["configurations"]) {
    EXPECT_EQ(c["attributes"]["scheduler"], "none");
    configured += c["events"].get<uint64_t>();
  }
  EXPECT_EQ(configured, sim.events());
  EXPECT_TRUE(report["known_bugs"].is_array());
  EXPECT_FALSE(report["method"].empty());
}

// Four hosts on the 2018 blk-mq bug's configuration, with the kernel command
// line and findings an agent could have written anything into.
std::string HostileFleet() {
  std::ostringstream lines;
  for (int i = 0; i < 60; ++i) {
    const bool affected = i < 6;
    nlohmann::json line = {
        {"host", affected ? "vm-\x1b]0;owned\x07-" + std::to_string(i) : "vm-" + std::to_string(i)},
        {"attributes",
         {{"kernel", affected ? "4.19.2" : (i % 2 ? "4.19.9" : "5.10.1")},
          {"scheduler", affected ? "none" : "mq-deadline"},
          {"blk_mq", "on"},
          {"driver", "virtio_scsi"},
          {"kernel_cmdline", "root=/dev/sda1 \x1b[2Jscsi_mod.use_blk_mq=1"}}},
        {"exposure_bytes", 1e12},
        {"exposure_seconds", 86400},
        {"corruptions", {{"lost_write", affected ? 1 : 0}}}};
    lines << line.dump() << "\n";
  }
  return lines.str();
}

TEST_F(ExperimentCommands, ReportQuotesHostTextInertlyAndMatchesKnownBugs) {
  const std::string fleet = Write("hostile", HostileFleet());
  const nlohmann::json findings = {
      {"findings",
       {{{"agent_id", "vm-\x1b]0;owned\x07-3"},
         {"sequence", "7"},
         {"finding",
          {{"checker", "scratch"},
           {"target", "data"},
           {"kind", "LOST_WRITE"},
           {"offset", "8192"},
           {"block_size", 4096},
           {"evidence_summary", "generation 7 expected, 6 found \xc2\x9b\x31m"}}}},
        {{"agent_id", "vm-40"},
         {"finding",
          {{"kind", "CHECKSUM_MISMATCH"}, {"evidence_summary", "not on a suspect host"}}}},
        {{"agent_id", "vm-\x1b]0;owned\x07-3"},
         {"finding", {{"kind", "IO_ERROR"}, {"evidence_summary", "own trouble, not evidence"}}}}}}};
  const std::string findings_file = Write("findings", findings.dump());
  ASSERT_EQ(Run({"report", "1", "--input", fleet, "--findings", findings_file}), 0) << err_.str();
  const std::string text = out_.str();
  EXPECT_TRUE(testing::TerminalInert(text)) << text;
  EXPECT_NE(text.find("vm-\\x1b]0;owned\\x07-3 LOST_WRITE by scratch on data at offset 8192"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("not on a suspect host"), std::string::npos);
  EXPECT_EQ(text.find("own trouble, not evidence"), std::string::npos) << text;
  EXPECT_NE(text.find("root=/dev/sda1 \\x1b[2Jscsi_mod.use_blk_mq=1"), std::string::npos) << text;
  EXPECT_NE(text.find("blk-mq-direct-issue-merge"), std::string::npos) << text;

  ASSERT_EQ(Run({"report", "1", "--input", fleet, "--findings", findings_file, "--json"}), 0);
  const nlohmann::json report = Json();
  ASSERT_EQ(report["evidence"].size(), 1u);
  EXPECT_EQ(report["evidence"][0]["host"], "vm-\x1b]0;owned\x07-3");
  EXPECT_EQ(report["evidence"][0]["offset"], 8192);
  EXPECT_EQ(report["command_lines"][0]["events"], 6);
  ASSERT_FALSE(report["known_bugs"].empty());
}

TEST_F(ExperimentCommands, ReportRefusesFindingsThatAreNotJson) {
  const std::string fleet = Write("hostile", HostileFleet());
  const std::string findings_file = Write("findings", "findings: none");
  EXPECT_EQ(Run({"report", "1", "--input", fleet, "--findings", findings_file}), 2);
  EXPECT_NE(err_.str().find("not the JSON of `fscanary findings --json`"), std::string::npos)
      << err_.str();
}

// A findings file is read whole or refused, naming what is wrong: nothing in
// it is silently dropped or read as zero.
TEST_F(ExperimentCommands, ReportRefusesFindingsItCannotReadNamingTheEntry) {
  const std::string fleet = Write("hostile", HostileFleet());
  const auto refused = [&](const nlohmann::json& findings, const std::string& why) {
    const std::string findings_file = Write("findings", findings.dump());
    EXPECT_EQ(Run({"report", "1", "--input", fleet, "--findings", findings_file}), 2)
        << findings.dump();
    EXPECT_NE(err_.str().find(why), std::string::npos) << err_.str();
  };
  const nlohmann::json good = {{"agent_id", "vm-1"},
                               {"finding", {{"kind", "LOST_WRITE"}, {"offset", "8192"}}}};
  refused({{"findings", {good, "vm-2 lost a write"}}}, "findings[1]");
  refused({{"findings", {good, {{"agent_id", "vm-2"}, {"finding", {{"offset", "8k"}}}}}}},
          "findings[1].finding.offset");
  refused({{"findings", {good, {{"agent_id", "vm-2"}}}}}, "findings[1] has no \"finding\"");
  refused({{"hosts", {{{"agent_id", "vm-1"}}}}}, "hosts");  // `fscanary hosts --json`
}

// Evidence is what the analysis counts: corruptions, of --kind when given.
TEST_F(ExperimentCommands, ReportQuotesOnlyEvidenceOfTheKindCounted) {
  const std::string fleet = Write("hostile", HostileFleet());
  const nlohmann::json findings = {
      {"findings",
       {{{"agent_id", "vm-\x1b]0;owned\x07-3"},
         {"finding", {{"kind", "LOST_WRITE"}, {"evidence_summary", "a lost write"}}}},
        {{"agent_id", "vm-\x1b]0;owned\x07-4"},
         {"finding", {{"kind", "ZEROED"}, {"evidence_summary", "a zeroed block"}}}}}}};
  const std::string findings_file = Write("findings", findings.dump());
  ASSERT_EQ(Run({"report", "1", "--input", fleet, "--findings", findings_file, "--kind",
                 "lost_write", "--json"}),
            0)
      << err_.str();
  const nlohmann::json report = Json();
  ASSERT_EQ(report["evidence"].size(), 1u) << report["evidence"];
  EXPECT_EQ(report["evidence"][0]["kind"], "LOST_WRITE");
}

// Fix confirmation in analyze: half the carrying hosts switch away from
// scheduler=none (the cause); two months on it is fixed.
TEST_F(ExperimentCommands, AnalyzeConfirmsAFixFromTheEpochs) {
  ExperimentFleet sim = AliasedFleet();
  std::vector<std::string> hosts = sim.HostsWith({{"scheduler", "none"}});
  hosts.resize(20);
  sim.Change(hosts, "scheduler", "mq-deadline");
  sim.Advance(60);
  const std::string fleet = Write("fixed", sim.Jsonl());
  ASSERT_EQ(Run({"analyze", "--input", fleet}), 0) << err_.str();
  EXPECT_NE(out_.str().find("Changes seen in host epochs (fix confirmation):\n  [fixed] scheduler "
                            "none → mq-deadline on 20 hosts"),
            std::string::npos)
      << out_.str();
  ASSERT_EQ(Run({"analyze", "--input", fleet, "--json"}), 0) << err_.str();
  const nlohmann::json document = Json();
  ASSERT_TRUE(document.contains("suspects"));
  ASSERT_EQ(document["changes"].size(), 1u);
  EXPECT_EQ(document["changes"][0]["verdict"], "fixed");
  EXPECT_EQ(document["changes"][0]["events_after"], 0);
  EXPECT_EQ(document["changes"][0]["changes"][0]["attribute"], "scheduler");
}

TEST_F(ExperimentCommands, AnalyzeWithoutStartTimesSaysNothingOfChanges) {
  const std::string fleet = Write("hostile", HostileFleet());
  ASSERT_EQ(Run({"analyze", "--input", fleet, "--json"}), 0) << err_.str();
  EXPECT_FALSE(Json().contains("changes"));
}

}  // namespace
}  // namespace fscanary::cli
