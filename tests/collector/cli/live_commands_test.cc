// The operator CLI against a running collector (an in-process server on a
// store with two hosts): tables by default, JSON with --json, the same
// analysis as offline (fix confirmation included, on every store backend),
// and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "collector/cli/operator_cli.h"
#include "collector/knownbugs/known_bugs.h"
#include "collector/service/server.h"
#include "metrics/registry.h"
#include "nlohmann/json.hpp"
#include "tests/collector/cli/run_cli.h"
#include "tests/collector/store/store_test_support.h"
#include "tests/terminal_inert.h"

namespace fscanary::cli {
namespace {

using store::testing::FindingRecord;
using store::testing::HelloMessage;
using store::testing::Ingest;
using store::testing::ReportRecord;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;

// What every fixture here holds: a store, a collector serving it on loopback,
// and what the CLI printed.
class CollectorAndCli {
 protected:
  // The admin listener answers without a credential; the listener only an operator.
  void StartCollector(collector::ServerOptions options) {
    auto server = collector::CollectorServer::Start(options, *store_, registry_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = "127.0.0.1:" + std::to_string(server_->admin_port());
    listen_address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  int Run(std::vector<std::string> args) {
    return fscanary::testing::RunCli(std::move(args), out_, err_);
  }

  fscanary::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  metrics::Registry registry_;
  std::unique_ptr<collector::CollectorServer> server_;
  std::string address_;
  std::string listen_address_;
  std::ostringstream out_;
  std::ostringstream err_;
};

class LiveCommands : public ::testing::Test, protected CollectorAndCli {
 protected:
  using CollectorAndCli::Run;  // not ::testing::Test's
  void SetUp() override {
    store_ = store::testing::OpenStore(dir_);
    const int64_t now = absl::ToUnixNanos(absl::Now());
    ASSERT_TRUE(
        store_->RecordHello("vm-1", HelloMessage(VmFacts("4.19.2", "none"), now), now).ok());
    ASSERT_TRUE(store_->RecordHello("vm-2", HelloMessage(VmFacts("5.10.1"), now), now).ok());
    Ingest(*store_, "vm-1", {ReportRecord(1, now, 1 << 20), FindingRecord(2, now)}, now);
    Ingest(*store_, "vm-2", {ReportRecord(1, now, 1 << 20)}, now);
    // An old finding, received a day ago.
    Ingest(*store_, "vm-2", {FindingRecord(2, now - 86400 * kSecond, v1::TORN_WRITE)},
           now - 86400 * kSecond);
    collector::ServerOptions options{.listen = "127.0.0.1:0", .admin_listen = "127.0.0.1:0"};
    options.credentials.operator_tokens = {{"alice", kOperatorToken}};
    StartCollector(options);
  }

  static constexpr char kOperatorToken[] = "alice-operator-token-0123456789";
};

TEST_F(LiveCommands, HostsListsEveryHostAsATable) {
  ASSERT_EQ(Run({"hosts", "--collector", address_}), 0) << err_.str();
  EXPECT_NE(out_.str().find("vm-1"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("4.19.2"), std::string::npos);
  EXPECT_NE(out_.str().find("2 hosts"), std::string::npos);
}

TEST_F(LiveCommands, HostsJsonIsForScripts) {
  ASSERT_EQ(Run({"hosts", "--collector", address_, "--json"}), 0) << err_.str();
  const nlohmann::json hosts = nlohmann::json::parse(out_.str());
  ASSERT_EQ(hosts["hosts"].size(), 2u);
  EXPECT_EQ(hosts["hosts"][0]["agent_id"], "vm-1");
  EXPECT_EQ(hosts["hosts"][0]["findings"], "1") << "uint64 fields are strings in proto JSON";
}

TEST_F(LiveCommands, FindingsAreFilteredByHostAndAge) {
  ASSERT_EQ(Run({"findings", "--collector", address_, "--json"}), 0) << err_.str();
  EXPECT_EQ(nlohmann::json::parse(out_.str())["findings"].size(), 2u);
  ASSERT_EQ(Run({"findings", "--collector", address_, "--json", "--since", "3600"}), 0);
  const nlohmann::json recent = nlohmann::json::parse(out_.str());
  ASSERT_EQ(recent["findings"].size(), 1u);
  EXPECT_EQ(recent["findings"][0]["agent_id"], "vm-1");
  ASSERT_EQ(Run({"findings", "--collector", address_, "--host", "vm-2"}), 0);
  EXPECT_NE(out_.str().find("torn_write"), std::string::npos) << out_.str();
  EXPECT_EQ(out_.str().find("vm-1"), std::string::npos);
}

TEST_F(LiveCommands, AFindingOfATreeShowsItsPathWhereABlockShowsItsOffset) {
  const int64_t now = absl::ToUnixNanos(absl::Now());
  v1::AgentMessage tree_finding = FindingRecord(3, now, v1::METADATA_MISMATCH);
  tree_finding.mutable_finding()->set_checker("metadata");
  tree_finding.mutable_finding()->set_path("d0/d7/f12");
  Ingest(*store_, "vm-2", {tree_finding}, now);
  ASSERT_EQ(Run({"findings", "--collector", address_, "--host", "vm-2"}), 0) << err_.str();
  EXPECT_NE(out_.str().find("WHERE"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("metadata_mismatch"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("d0/d7/f12"), std::string::npos) << out_.str();
}

TEST_F(LiveCommands, HostShowsFactsEpochsAndEvidence) {
  ASSERT_EQ(Run({"host", "vm-1", "--collector", address_}), 0) << err_.str();
  const std::string text = out_.str();
  EXPECT_NE(text.find("epoch 1"), std::string::npos) << text;
  EXPECT_NE(text.find("scheduler=none"), std::string::npos) << text;
  EXPECT_NE(text.find("filesystem ext4"), std::string::npos) << text;
  EXPECT_NE(text.find("expected generation 7, found 6"), std::string::npos) << text;
}

TEST_F(LiveCommands, HostShowsEachCheckersHealth) {
  const int64_t now = absl::ToUnixNanos(absl::Now());
  v1::AgentMessage report = ReportRecord(3, now, 0);
  v1::CheckerInterval& block = *report.mutable_report()->mutable_checkers(0);
  block.set_consecutive_failures(7);
  block.set_failed_steps(7);
  block.set_last_error("open /dev/vdb: No such device\x1b[2J");
  Ingest(*store_, "vm-2", {report}, now);
  ASSERT_EQ(Run({"host", "vm-1", "--collector", address_}), 0) << err_.str();
  EXPECT_NE(out_.str().find("checker block on t0: healthy, 0 failed steps"), std::string::npos)
      << out_.str();
  ASSERT_EQ(Run({"host", "vm-2", "--collector", address_}), 0) << err_.str();
  const std::string text = out_.str();
  EXPECT_NE(text.find("checker block on t0: FAILING (7 steps in a row"), std::string::npos) << text;
  EXPECT_NE(text.find("last error: open /dev/vdb: No such device"), std::string::npos) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "escaped for the terminal";
}

TEST_F(LiveCommands, KnownBugsCountsTheHostsOfEachBugAndSaysWhy) {
  v1::HostFacts btrfs = VmFacts("5.2.14");
  btrfs.mutable_filesystems(0)->set_fs_type("btrfs");
  const int64_t now = absl::ToUnixNanos(absl::Now());
  ASSERT_TRUE(store_->RecordHello("vm-3", HelloMessage(btrfs, now), now).ok());
  ASSERT_EQ(Run({"known-bugs", "--collector", address_, "--hosts"}), 0) << err_.str();
  const std::string text = out_.str();
  EXPECT_NE(text.find("btrfs-5.2-unwritten-extent-buffers"), std::string::npos) << text;
  EXPECT_NE(text.find("    vm-3 affected: kernel 5.2.14 (Debian 5.2.14 in /proc/version) is in "
                      "[5.2-rc1, 5.2.15); fs=btrfs"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("    vm-1 "), std::string::npos) << text;
  ASSERT_EQ(Run({"known-bugs", "--collector", address_, "--json"}), 0) << err_.str();
  const nlohmann::json json = nlohmann::json::parse(out_.str());
  EXPECT_EQ(json["bugs"].size(), knownbugs::KnownBugs().size());
}

TEST_F(LiveCommands, AnUnknownHostIsAnErrorNamingIt) {
  EXPECT_EQ(Run({"host", "vm-9", "--collector", address_}), 2);
  EXPECT_NE(err_.str().find("vm-9"), std::string::npos) << err_.str();
}

TEST_F(LiveCommands, AnalyzeAgainstTheCollectorPrintsTheEngineReport) {
  ASSERT_EQ(Run({"analyze", "--collector", address_, "--json"}), 0) << err_.str();
  const nlohmann::json report = nlohmann::json::parse(out_.str());
  EXPECT_EQ(report["hosts"], 2);
  EXPECT_EQ(report["events"], 2);
  EXPECT_TRUE(report.contains("suspects"));
  EXPECT_TRUE(report.contains("kernel_versions"));
}

TEST_F(LiveCommands, AnalyzeTakesExactlyOneSource) {
  EXPECT_EQ(Run({"analyze", "--collector", address_, "--input", "fleet.jsonl"}), 2);
  EXPECT_NE(err_.str().find("exactly one"), std::string::npos) << err_.str();
}

TEST_F(LiveCommands, ControlCharactersAgentsSentReachTheTerminalEscaped) {
  const int64_t now = absl::ToUnixNanos(absl::Now());
  // The store takes what validation would pass: UTF-8 with control
  // characters, an escape sequence that clears the screen, an OSC retitle,
  // a carriage return that hides a line, a C1 CSI.
  v1::HostFacts facts = VmFacts("6.1\x1b[2J-evil", "none");
  facts.set_hostname("host\rfake\x07");
  facts.mutable_filesystems(0)->set_mount_point("/mnt/\x1b]0;owned\x07");
  ASSERT_TRUE(store_->RecordHello("vm-3", HelloMessage(facts, now), now).ok());
  v1::AgentMessage finding = FindingRecord(1, now, v1::METADATA_MISMATCH);
  finding.mutable_finding()->set_checker("metadata");
  finding.mutable_finding()->set_path("d0/\x1b[1Af");
  finding.mutable_finding()->set_evidence_summary(
      "ok\r\x1b[Kall clear \xc2\x9b"
      "31m");
  Ingest(*store_, "vm-3", {finding}, now);

  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"hosts", "--collector", address_},
        std::vector<std::string>{"findings", "--collector", address_, "--host", "vm-3"},
        std::vector<std::string>{"host", "vm-3", "--collector", address_},
        std::vector<std::string>{"analyze", "--collector", address_}}) {
    ASSERT_EQ(Run(command), 0) << command[0] << ": " << err_.str();
    EXPECT_TRUE(testing::TerminalInert(out_.str())) << command[0] << ":\n" << out_.str();
    EXPECT_TRUE(testing::TerminalInert(err_.str())) << command[0] << ":\n" << err_.str();
  }
  ASSERT_EQ(Run({"host", "vm-3", "--collector", address_}), 0);
  EXPECT_NE(out_.str().find("6.1\\x1b[2J-evil"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("host\\x0dfake\\x07"), std::string::npos) << out_.str();
  EXPECT_NE(out_.str().find("ok\\x0d\\x1b[Kall clear \\xc2\\x9b31m"), std::string::npos)
      << out_.str();
}

TEST_F(LiveCommands, OnTheListenerOnlyAnOperatorTokenGetsAnAnswer) {
  const std::string token_file = dir_.Join("operator.token");
  std::ofstream(token_file) << kOperatorToken << "\n";
  const std::string wrong_file = dir_.Join("wrong.token");
  std::ofstream(wrong_file) << "some-agent-token-0123456789\n";

  EXPECT_EQ(Run({"hosts", "--collector", listen_address_}), 1);
  EXPECT_NE(err_.str().find("need an operator token"), std::string::npos) << err_.str();
  EXPECT_EQ(Run({"hosts", "--collector", listen_address_, "--token-file", wrong_file}), 2);
  EXPECT_NE(err_.str().find("not an operator's"), std::string::npos) << err_.str();
  ASSERT_EQ(Run({"hosts", "--collector", listen_address_, "--token-file", token_file}), 0)
      << err_.str();
  EXPECT_NE(out_.str().find("vm-1"), std::string::npos) << out_.str();
}

TEST_F(LiveCommands, AnUnreachableCollectorIsNamed) {
  EXPECT_EQ(Run({"hosts", "--collector", "127.0.0.1:1"}), 1);
  EXPECT_NE(err_.str().find("collector 127.0.0.1:1 is not reachable"), std::string::npos)
      << err_.str();
}

// Fix confirmation live: three hosts on scheduler none switch to mq-deadline
// at day 10 and stop corrupting, three stay on none and go on corrupting, two
// run mq-deadline throughout, clean. The collector's analysis reports the
// change with its counts, exposure and verdict, and exactly as
// `analyze --input` does on an inventory of the same fleet. On every store
// backend: the epochs' start times come from the store.
class LiveFixConfirmation : public store::testing::BackendTest, protected CollectorAndCli {
 protected:
  using CollectorAndCli::Run;  // not ::testing::Test's
  static constexpr int64_t kOrigin = int64_t{1'700'000'000} * kSecond;
  static constexpr int64_t kDay = 86'400 * kSecond;
  static constexpr uint64_t kBytes = 10'000'000'000;  // verified per host per 10 days

  struct Host {
    std::string name;
    std::string scheduler;
    bool switches = false;    // to mq-deadline at day 10
    int findings_before = 0;  // days 1-9
    int findings_after = 0;   // days 11-29
  };

  void SetUp() override {
    store::testing::BackendTest::SetUp();
    if (IsSkipped()) return;
    store_ = store::testing::OpenStore(dir_);
    ASSERT_NE(store_, nullptr);
    const std::vector<Host> hosts = {
        {"vm-a", "none", true, 3, 0},         {"vm-b", "none", true, 3, 0},
        {"vm-c", "none", true, 3, 0},         {"vm-d", "none", false, 2, 2},
        {"vm-e", "none", false, 2, 2},        {"vm-f", "none", false, 2, 2},
        {"vm-g", "mq-deadline", false, 0, 0}, {"vm-h", "mq-deadline", false, 0, 0},
    };
    std::ofstream inventory(dir_.Join("fleet.jsonl"));
    for (const Host& host : hosts) Add(host, inventory);
    inventory.close();
    ASSERT_TRUE(inventory) << "writing the inventory";
    StartCollector({.listen = "127.0.0.1:0", .admin_listen = "127.0.0.1:0"});
  }

  // Into the store as its agent would send it (facts at each epoch's start,
  // a report of 10 days' verification at days 5, 15 and 25, findings on
  // their days), and into the inventory as the epochs it makes.
  void Add(const Host& host, std::ostream& inventory) {
    uint64_t sequence = 0;
    const auto at = [](double day) { return kOrigin + static_cast<int64_t>(day * kDay); };
    std::vector<v1::AgentMessage> sent = {HelloMessage(VmFacts("6.1.0-18", host.scheduler), at(0))};
    for (int i = 0; i < host.findings_before; ++i) {
      sent.push_back(FindingRecord(++sequence, at(1 + i)));
    }
    sent.push_back(ReportRecord(++sequence, at(5), kBytes));
    if (host.switches) sent.push_back(HelloMessage(VmFacts("6.1.0-18", "mq-deadline"), at(10)));
    for (int i = 0; i < host.findings_after; ++i) {
      sent.push_back(FindingRecord(++sequence, at(11 + i)));
    }
    sent.push_back(ReportRecord(++sequence, at(15), kBytes));
    sent.push_back(ReportRecord(++sequence, at(25), kBytes));
    store::testing::Ingest(*store_, host.name, sent, at(25));

    const auto line = [&](const std::string& scheduler, int64_t start, uint64_t bytes, int events) {
      inventory << nlohmann::json{{"host", host.name},
                                  {"attributes",
                                   {{"kernel", "6.1.0-18"}, {"scheduler", scheduler}}},
                                  {"exposure_bytes", bytes},
                                  {"start_seconds", static_cast<double>(start) / 1e9},
                                  {"corruptions", {{"checksum_mismatch", events}}}}
                       .dump()
                << "\n";
    };
    if (host.switches) {
      line(host.scheduler, at(0), kBytes, host.findings_before);
      line("mq-deadline", at(10), 2 * kBytes, host.findings_after);
    } else {
      line(host.scheduler, at(0), 3 * kBytes, host.findings_before + host.findings_after);
    }
  }
};

TEST_P(LiveFixConfirmation, TheCollectorReportsAHostsChangeLikeTheInventory) {
  ASSERT_EQ(Run({"analyze", "--collector", address_, "--json"}), 0) << err_.str();
  const nlohmann::json live = nlohmann::json::parse(out_.str());
  ASSERT_TRUE(live.contains("changes")) << out_.str();
  ASSERT_EQ(live["changes"].size(), 1u) << live["changes"].dump(2);
  const nlohmann::json& change = live["changes"][0];
  EXPECT_EQ(change["changes"],
            nlohmann::json::parse(
                R"([{"attribute": "scheduler", "from": "none", "to": "mq-deadline"}])"));
  EXPECT_EQ(change["hosts"], 3);
  EXPECT_DOUBLE_EQ(change["first_change_seconds"].get<double>(), 1'700'000'000 + 10 * 86'400);
  EXPECT_EQ(change["events_before"], 9);
  EXPECT_DOUBLE_EQ(change["exposure_before"].get<double>(), 3 * double(kBytes));
  EXPECT_EQ(change["events_after"], 0);
  EXPECT_DOUBLE_EQ(change["exposure_after"].get<double>(), 6 * double(kBytes));
  EXPECT_EQ(change["control_hosts"], 3);
  EXPECT_EQ(change["events_control"], 12);
  EXPECT_DOUBLE_EQ(change["exposure_control"].get<double>(), 9 * double(kBytes));
  // 21 reference events, none after, where a half rate would put a fifth
  // of them after: p = 0.8^21.
  EXPECT_NEAR(change["p_fixed"].get<double>(), std::pow(0.8, 21), 1e-12);
  EXPECT_EQ(change["verdict"], "fixed");

  ASSERT_EQ(Run({"analyze", "--input", dir_.Join("fleet.jsonl"), "--json"}), 0) << err_.str();
  const nlohmann::json offline = nlohmann::json::parse(out_.str());
  EXPECT_EQ(live["changes"], offline["changes"]) << "live:\n"
                                                 << live["changes"].dump(2) << "\ninventory:\n"
                                                 << offline["changes"].dump(2);

  ASSERT_EQ(Run({"analyze", "--collector", address_}), 0) << err_.str();
  EXPECT_NE(out_.str().find("[fixed] scheduler none → mq-deadline on 3 hosts: 0 events after"),
            std::string::npos)
      << out_.str();
}

FSCANARY_ON_EVERY_BACKEND(LiveFixConfirmation);

}  // namespace
}  // namespace fscanary::cli
