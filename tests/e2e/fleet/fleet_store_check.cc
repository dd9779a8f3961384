// The exactly-once check of the fleet tests, on either engine.
#include "tests/e2e/fleet/fleet_store_check.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <iterator>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/lib/postgres_server.h"

namespace fscanary::e2e {
namespace {

using Table = std::vector<std::vector<std::string>>;

// AgentMessage body numbers, as the records ledger stores them in `kind`.
constexpr int64_t kReportKind = 11;
constexpr int64_t kFindingKind = 12;

class SqliteRows final : public StoredRows {
 public:
  explicit SqliteRows(sqlite3* db) : db_(db) {}
  ~SqliteRows() override { sqlite3_close(db_); }

  absl::StatusOr<Table> Rows(const std::string& sql) override {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      return absl::InternalError(sql + ": " + sqlite3_errmsg(db_));
    }
    Table rows;
    int rc;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      std::vector<std::string>& values = rows.emplace_back();
      for (int i = 0; i < sqlite3_column_count(statement); ++i) {
        const unsigned char* text = sqlite3_column_text(statement, i);
        values.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
      }
    }
    sqlite3_finalize(statement);
    if (rc != SQLITE_DONE) return absl::InternalError(sql + ": " + sqlite3_errmsg(db_));
    return rows;
  }

  absl::Status CheckIntegrity() override {
    absl::StatusOr<Table> integrity = Rows("PRAGMA integrity_check");
    if (!integrity.ok()) return integrity.status();
    if (integrity->size() != 1 || integrity->front().front() != "ok") {
      return absl::DataLossError("PRAGMA integrity_check: " + integrity->front().front());
    }
    return absl::OkStatus();
  }

 private:
  sqlite3* db_;
};

class PostgresStoredRows final : public StoredRows {
 public:
  PostgresStoredRows(fscanary::testing::PostgresServer& server, std::string dsn)
      : server_(server), dsn_(std::move(dsn)) {}

  absl::StatusOr<Table> Rows(const std::string& sql) override { return server_.Query(dsn_, sql); }
  // PostgreSQL checks its pages itself (and the test server runs without
  // checksums): nothing more to ask it.
  absl::Status CheckIntegrity() override { return absl::OkStatus(); }

 private:
  fscanary::testing::PostgresServer& server_;
  const std::string dsn_;
};

uint64_t AsNumber(const std::string& text) {
  uint64_t value = 0;
  EXPECT_TRUE(absl::SimpleAtoi(text, &value)) << "not a number: '" << text << "'";
  return value;
}

// host_id -> the first column of every row of `sql` whose second column is
// that host_id. One scan, however many hosts.
absl::StatusOr<std::map<std::string, std::vector<uint64_t>>> ByHost(StoredRows& db,
                                                                    const std::string& sql) {
  absl::StatusOr<Table> rows = db.Rows(sql);
  if (!rows.ok()) return rows.status();
  std::map<std::string, std::vector<uint64_t>> values;
  for (const std::vector<std::string>& row : *rows) values[row[1]].push_back(AsNumber(row[0]));
  return values;
}

// How `stored` differs from `appended` (both as multisets): empty if equal.
std::string Difference(std::vector<uint64_t> appended, std::vector<uint64_t> stored) {
  std::sort(appended.begin(), appended.end());
  std::sort(stored.begin(), stored.end());
  if (appended == stored) return "";
  std::vector<uint64_t> missing;
  std::vector<uint64_t> extra;  // duplicates and sequences never appended
  std::set_difference(appended.begin(), appended.end(), stored.begin(), stored.end(),
                      std::back_inserter(missing));
  std::set_difference(stored.begin(), stored.end(), appended.begin(), appended.end(),
                      std::back_inserter(extra));
  auto first = [](std::vector<uint64_t> values) {
    const size_t count = values.size();
    if (values.size() > 10) values.resize(10);
    return absl::StrCat(count, " [", absl::StrJoin(values, ","), count > 10 ? ",...]" : "]");
  };
  return absl::StrCat("appended ", appended.size(), ", stored ", stored.size(), "; lost ",
                      first(missing), "; duplicated or unexpected ", first(extra));
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoredRows>> OpenSqliteRows(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    const std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::InternalError("cannot open " + path + ": " + message);
  }
  return std::make_unique<SqliteRows>(db);
}

std::unique_ptr<StoredRows> PostgresRows(fscanary::testing::PostgresServer& server,
                                         std::string dsn) {
  return std::make_unique<PostgresStoredRows>(server, std::move(dsn));
}

void ExpectEveryRecordStoredOnce(StoredRows& db, const FleetResult& result,
                                 const StoredOnceOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(db.CheckIntegrity().ok()) << db.CheckIntegrity();
  const absl::StatusOr<Table> host_rows = db.Rows("SELECT agent_id, host_id FROM hosts");
  ASSERT_TRUE(host_rows.ok()) << host_rows.status();
  std::map<std::string, std::string> hosts;  // agent_id -> host_id
  for (const std::vector<std::string>& row : *host_rows) hosts[row[0]] = row[1];
  EXPECT_EQ(hosts.size(), result.agents.size());

  // One scan per table (reports has no index by host).
  auto reports = ByHost(db, "SELECT sequence, host_id FROM reports");
  ASSERT_TRUE(reports.ok()) << reports.status();
  auto findings = ByHost(db, "SELECT sequence, host_id FROM findings");
  ASSERT_TRUE(findings.ok()) << findings.status();
  auto ledger_reports =
      ByHost(db, absl::StrCat("SELECT sequence, host_id FROM records WHERE kind = ", kReportKind));
  ASSERT_TRUE(ledger_reports.ok()) << ledger_reports.status();
  auto ledger_findings =
      ByHost(db, absl::StrCat("SELECT sequence, host_id FROM records WHERE kind = ", kFindingKind));
  ASSERT_TRUE(ledger_findings.ok()) << ledger_findings.status();
  auto ledger_all = ByHost(db, "SELECT sequence, host_id FROM records");
  ASSERT_TRUE(ledger_all.ok()) << ledger_all.status();
  auto epoch_reports = ByHost(db, "SELECT sum(reports), host_id FROM epochs GROUP BY host_id");
  ASSERT_TRUE(epoch_reports.ok()) << epoch_reports.status();
  auto epoch_bytes = ByHost(db, "SELECT sum(bytes_verified), host_id FROM epochs GROUP BY host_id");
  ASSERT_TRUE(epoch_bytes.ok()) << epoch_bytes.status();
  auto spool_losses = ByHost(db, "SELECT sequence, host_id FROM spool_losses");
  ASSERT_TRUE(spool_losses.ok()) << spool_losses.status();
  const auto of = [](const std::map<std::string, std::vector<uint64_t>>& by_host,
                     const std::string& host_id) {
    const auto it = by_host.find(host_id);
    return it == by_host.end() ? std::vector<uint64_t>() : it->second;
  };

  uint64_t reports_appended = 0;
  uint64_t findings_appended = 0;
  for (const AgentResult& agent : result.agents) {
    SCOPED_TRACE(agent.agent_id);
    EXPECT_EQ(agent.losses(), 0u);
    EXPECT_EQ(agent.spool.records, 0u);
    reports_appended += agent.report_sequences.size();
    findings_appended += agent.finding_sequences.size();
    const auto host = hosts.find(agent.agent_id);
    ASSERT_NE(host, hosts.end()) << "never stored";
    const std::string& host_id = host->second;

    EXPECT_EQ(Difference(agent.report_sequences, of(*reports, host_id)), "") << "reports";
    EXPECT_EQ(Difference(agent.finding_sequences, of(*findings, host_id)), "") << "findings";
    // The ledger holds each sequence once (its primary key) with its kind.
    EXPECT_EQ(Difference(agent.report_sequences, of(*ledger_reports, host_id)), "") << "ledger";
    EXPECT_EQ(Difference(agent.finding_sequences, of(*ledger_findings, host_id)), "") << "ledger";
    EXPECT_EQ(of(*ledger_all, host_id).size(), agent.appended()) << "ledger";
    // The epochs' exposure sums count every report once.
    EXPECT_EQ(of(*epoch_reports, host_id), std::vector<uint64_t>{agent.report_sequences.size()})
        << "sum(epochs.reports)";
    EXPECT_EQ(of(*epoch_bytes, host_id), std::vector<uint64_t>{agent.bytes_verified})
        << "sum(epochs.bytes_verified)";
    EXPECT_EQ(of(*spool_losses, host_id), std::vector<uint64_t>()) << "spool_losses rows";
  }
  // Nothing stored for anyone else, and the totals agree.
  const absl::StatusOr<Table> totals = db.Rows(
      "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM findings), "
      "(SELECT count(*) FROM records), (SELECT count(*) FROM spool_losses), "
      "(SELECT count(*) FROM hosts WHERE connected != 0)");
  ASSERT_TRUE(totals.ok()) << totals.status();
  ASSERT_EQ(totals->size(), 1u);
  const std::vector<std::string>& total = totals->front();
  EXPECT_EQ(AsNumber(total[0]), reports_appended);
  EXPECT_EQ(AsNumber(total[1]), findings_appended);
  EXPECT_EQ(AsNumber(total[2]), result.appended());
  EXPECT_EQ(AsNumber(total[3]), 0u);
  // Stopped cleanly: every stream was closed, despite the connects counted by
  // lives that were killed (a restart resets them).
  if (options.hosts_disconnected) {
    EXPECT_EQ(AsNumber(total[4]), 0u) << "hosts still marked connected";
  }
  std::cout << "fleet: stored " << total[0] << " reports and " << total[1]
            << " findings, each once; database checked in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()
            << " s" << std::endl;
}

}  // namespace fscanary::e2e
