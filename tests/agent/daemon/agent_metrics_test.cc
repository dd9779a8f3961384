// The agent's own metrics: totals per target, a read-latency histogram, the
// spool and connection state, in a well-formed exposition.
#include "agent/daemon/agent_metrics.h"

#include <gtest/gtest.h>

#include "metrics/exposition_check.h"
#include "metrics/text_format.h"

namespace fscanary::daemon {
namespace {

TEST(AgentMetrics, AddUpActivityAcrossReportsAndExposeAWellFormedText) {
  AgentMetrics metrics(
      {.spool_records = [] { return uint64_t{12}; }, .collector_connected = [] { return true; }});
  checker::Activity activity;
  activity.bytes_verified = 4096;
  activity.bytes_written = 8192;
  activity.entries_verified = 300;
  activity.read_latency.Observe(0.0003);
  metrics.AddActivity("scratch", activity);
  metrics.AddActivity("scratch", activity);
  metrics.AddFinding("scratch", "torn_write");
  const std::string text = metrics::SerializeText(metrics.Collect()).text;
  EXPECT_TRUE(metrics::CheckTextExposition(text).ok()) << metrics::CheckTextExposition(text);
  EXPECT_NE(text.find("fscanary_agent_verified_bytes_total{target=\"scratch\"} 8192\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("fscanary_agent_written_bytes_total{target=\"scratch\"} 16384\n"),
            std::string::npos);
  EXPECT_NE(text.find("fscanary_agent_verified_entries_total{target=\"scratch\"} 600\n"),
            std::string::npos);
  EXPECT_NE(text.find("fscanary_agent_findings_total{kind=\"torn_write\",target=\"scratch\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("fscanary_agent_read_latency_seconds_count{target=\"scratch\"} 2\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("fscanary_agent_read_latency_seconds_bucket{target=\"scratch\",le=\"0.0005\"} 2\n"),
      std::string::npos);
  EXPECT_NE(text.find("fscanary_agent_spool_records 12\n"), std::string::npos);
  EXPECT_NE(text.find("fscanary_agent_collector_connected 1\n"), std::string::npos);
}

TEST(AgentMetrics, TheVerificationBoostInForceIsOneUntilSetAndThenItsFactor) {
  AgentMetrics metrics({});
  std::string text = metrics::SerializeText(metrics.Collect()).text;
  EXPECT_NE(text.find("fscanary_agent_verification_boost 1\n"), std::string::npos) << text;
  metrics.SetBoost(2.5);
  text = metrics::SerializeText(metrics.Collect()).text;
  EXPECT_TRUE(metrics::CheckTextExposition(text).ok()) << metrics::CheckTextExposition(text);
  EXPECT_NE(text.find("fscanary_agent_verification_boost 2.5\n"), std::string::npos) << text;
}

TEST(AgentMetrics, TheAgentsOwnIoErrorsAndStateTroubleAreCountedByTarget) {
  AgentMetrics metrics({});
  checker::Activity activity;
  activity.io_errors = 2;
  activity.state_records_changed = 3;
  activity.blocks_newer_than_state = 1;
  metrics.AddActivity("scratch", activity);
  metrics.AddActivity("scratch", activity);
  const std::string text = metrics::SerializeText(metrics.Collect()).text;
  EXPECT_TRUE(metrics::CheckTextExposition(text).ok()) << metrics::CheckTextExposition(text);
  EXPECT_NE(text.find("fscanary_agent_io_errors_total{target=\"scratch\"} 4\n"), std::string::npos)
      << text;
  EXPECT_NE(
      text.find("fscanary_agent_state_trouble_total{target=\"scratch\",what=\"changed\"} 6\n"),
      std::string::npos);
  EXPECT_NE(text.find("fscanary_agent_state_trouble_total{target=\"scratch\",what=\"newer\"} 2\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("fscanary_agent_state_trouble_total{target=\"scratch\",what=\"damaged\"} 0\n"),
      std::string::npos);
}

TEST(AgentMetrics, KernelLogLinesIgnoredAreExportedByReasonOnceSet) {
  AgentMetrics metrics({});
  EXPECT_EQ(metrics::SerializeText(metrics.Collect()).text.find("kernel_log_lines_ignored"),
            std::string::npos)
      << "no kernel log watched, no series";
  metrics.SetKernelLogLinesIgnored(3);
  const std::string text = metrics::SerializeText(metrics.Collect()).text;
  EXPECT_TRUE(metrics::CheckTextExposition(text).ok()) << metrics::CheckTextExposition(text);
  EXPECT_NE(
      text.find("fscanary_agent_kernel_log_lines_ignored_total{reason=\"unrelated_device\"} 3\n"),
      std::string::npos)
      << text;
}

TEST(AgentMetrics, WhatWasKeptAsideOrGivenUpIsExportedWithEveryQuarantineReasonFromZero) {
  AgentMetrics metrics({.keeping = [] {
    return AgentMetrics::Keeping{.answers_ignored = 4,
                                 .quarantined_by_reason = {{"conflict", 2}},
                                 .quarantined_records = 2,
                                 .spool_read_errors = 7,
                                 .spool_damaged_records = 1,
                                 .evidence_bytes = 8192,
                                 .evidence_evicted = 3,
                                 .evidence_refused = 0};
  }});
  const std::string text = metrics::SerializeText(metrics.Collect()).text;
  EXPECT_TRUE(metrics::CheckTextExposition(text).ok()) << metrics::CheckTextExposition(text);
  for (const char* line :
       {"fscanary_agent_collector_answers_ignored_total 4\n",
        "fscanary_agent_records_quarantined_total{reason=\"conflict\"} 2\n",
        "fscanary_agent_records_quarantined_total{reason=\"other\"} 0\n",
        "fscanary_agent_records_quarantined_total{reason=\"unparseable\"} 0\n",
        "fscanary_agent_spool_quarantined_records 2\n",
        "fscanary_agent_spool_read_errors_total 7\n",
        "fscanary_agent_spool_damaged_records_total 1\n", "fscanary_agent_evidence_bytes 8192\n",
        "fscanary_agent_evidence_evicted_total 3\n", "fscanary_agent_evidence_refused_total 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  }
}

}  // namespace
}  // namespace fscanary::daemon
