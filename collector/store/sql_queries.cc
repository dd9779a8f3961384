// The read side of the SQLite store: the operator's queries and the epochs
// the correlation engine reads. Each call reads one WAL snapshot.

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "collector/store/sql_store.h"
#include "common/status.h"

namespace fscanary::store {
namespace {

using sql::Connection;
using sql::Statement;

// Columns 0-9 fill a HostSummary (FillHostSummary; column 6, the host_id,
// looked up in the connected hosts); column 10 is host_id.
constexpr const char* kHostSummarySelect =
    "SELECT h.agent_id, h.hostname, h.kernel_release, h.agent_version, h.first_seen_ns, "
    "h.last_seen_ns, h.host_id, "
    "sat_add((SELECT count(*) FROM findings f WHERE f.host_id = h.host_id), "
    "(SELECT sat_sum(r.findings) FROM retired_findings r WHERE r.host_id = h.host_id)), "
    "(SELECT sat_sum(e.bytes_verified) FROM epochs e WHERE e.host_id = h.host_id), "
    "(SELECT count(*) FROM epochs e WHERE e.host_id = h.host_id), "
    "h.host_id FROM hosts h ";

// ?1 received since, ?2 host_id (only in the per-host form), ?3 limit (INT64_MAX:
// none), ?4 and ?5 the cursor: only findings before (received_ns, finding_id)
// in the order below (BindNoCursor: every finding). Column 5 is finding_id.
constexpr const char* kFindingsSelect =
    "SELECT h.agent_id, f.sequence, coalesce(e.number, 0), f.received_ns, f.body, f.finding_id "
    "FROM findings f JOIN hosts h ON h.host_id = f.host_id "
    "LEFT JOIN epochs e ON e.epoch_id = f.epoch_id WHERE f.received_ns >= ?1 "
    "AND (f.received_ns < ?4 OR (f.received_ns = ?4 AND f.finding_id < ?5)) ";
constexpr const char* kFindingsOrder = "ORDER BY f.received_ns DESC, f.finding_id DESC LIMIT ?3";

// Where a findings page ended: (received_ns, finding_id) of its last finding.
using Cursor = std::pair<int64_t, int64_t>;

void BindNoCursor(Statement& query) {
  constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();
  query.Bind(4, kEnd).Bind(5, kEnd);
}

// A findings page token: "<received_ns>.<finding_id>" of the page's last
// finding. Opaque to clients.
std::string FindingsToken(int64_t received_ns, int64_t finding_id) {
  return absl::StrCat(received_ns, ".", finding_id);
}

bool ParseInt(std::string_view text, int64_t& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

absl::StatusOr<Cursor> ParseFindingsToken(std::string_view token) {
  const size_t dot = token.find('.');
  Cursor cursor;
  if (dot == std::string_view::npos || !ParseInt(token.substr(0, dot), cursor.first) ||
      !ParseInt(token.substr(dot + 1), cursor.second)) {
    return absl::InvalidArgumentError("page_token is not a findings page token of this collector");
  }
  return cursor;
}

// LIMIT for a page of `page_size` (0: no bound), one more than the page so
// that the query tells whether another page follows.
int64_t PageLimit(uint64_t page_size) {
  return page_size == 0 ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(page_size) + 1;
}

void FillHostSummary(const Statement& row, const absl::flat_hash_set<int64_t>& connected,
                     v1::HostSummary& host) {
  host.set_agent_id(row.Text(0));
  host.set_hostname(row.Text(1));
  host.set_kernel_release(row.Text(2));
  host.set_agent_version(row.Text(3));
  host.set_first_seen_unix_nanos(row.Int(4));
  host.set_last_seen_unix_nanos(row.Int(5));
  host.set_connected(connected.contains(row.Int(6)));
  host.set_findings(static_cast<uint64_t>(row.Int(7)));
  host.set_bytes_verified(static_cast<uint64_t>(row.Int(8)));
  host.set_epochs(static_cast<uint32_t>(row.Int(9)));
}

template <typename Message>
absl::Status ParseBlob(std::string_view blob, Message& message, const Connection& db,
                       const std::string& what) {
  if (!message.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::DataLossError(absl::StrCat(db.name(), ": ", what, " does not parse"));
  }
  return absl::OkStatus();
}

// Findings rows of kFindingsSelect, appended to `findings`, at most
// `page_size` of them (0: all). When a row is left after a full page, the
// cursor (received_ns, finding_id) of the page's last finding.
absl::StatusOr<std::optional<Cursor>> ReadFindings(
    Statement& query, const Connection& db, uint64_t page_size,
    google::protobuf::RepeatedPtrField<v1::StoredFinding>& findings) {
  Cursor last;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, query.Step());
    if (!row) return std::nullopt;
    if (page_size != 0 && static_cast<uint64_t>(findings.size()) == page_size) return last;
    last = {query.Int(3), query.Int(5)};
    v1::StoredFinding& stored = *findings.Add();
    stored.set_agent_id(query.Text(0));
    stored.set_sequence(static_cast<uint64_t>(query.Int(1)));
    stored.set_epoch(static_cast<uint64_t>(query.Int(2)));
    stored.set_received_unix_nanos(query.Int(3));
    RETURN_IF_ERROR(ParseBlob(query.Blob(4), *stored.mutable_finding(), db,
                              absl::StrCat("finding ", stored.agent_id(), "/", stored.sequence())));
  }
}

// Kernel configs by SHA-256, read once per call and shared by its epochs.
class KernelConfigs {
 public:
  explicit KernelConfigs(Connection& db) : db_(db) {}

  absl::StatusOr<std::shared_ptr<const KernelConfig>> Get(const std::string& sha256) {
    if (auto it = configs_.find(sha256); it != configs_.end()) return it->second;
    auto config = std::make_shared<KernelConfig>();
    if (!sha256.empty()) {
      ASSIGN_OR_RETURN(Statement query,
                       db_.Prepare("SELECT options FROM kernel_configs WHERE sha256 = ?1"));
      ASSIGN_OR_RETURN(const bool found, query.BindText(1, sha256).Step());
      if (found) {
        v1::HostFacts options;
        RETURN_IF_ERROR(ParseBlob(query.Blob(0), options, db_, "kernel config " + sha256));
        config->reserve(options.kernel_config().size());
        for (const auto& [name, value] : options.kernel_config()) config->emplace(name, value);
      }
    }
    configs_.emplace(sha256, config);
    return config;
  }

 private:
  Connection& db_;
  absl::flat_hash_map<std::string, std::shared_ptr<const KernelConfig>> configs_;
};

}  // namespace

absl::StatusOr<v1::ListHostsResponse> SqlStore::ListHosts(const v1::ListHostsRequest& page) {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  ASSIGN_OR_RETURN(const absl::flat_hash_set<int64_t> connected, ConnectedHostIds(reader.db()));
  // The token is the last agent id of the previous page.
  ASSIGN_OR_RETURN(Statement query,
                   reader.db().Prepare(absl::StrCat(
                       kHostSummarySelect, "WHERE h.agent_id > ?1 ORDER BY h.agent_id LIMIT ?2")));
  query.BindText(1, page.page_token()).Bind(2, PageLimit(page.page_size()));
  v1::ListHostsResponse response;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, query.Step());
    if (!row) break;
    if (page.page_size() != 0 && static_cast<uint64_t>(response.hosts_size()) == page.page_size()) {
      response.set_next_page_token(response.hosts(response.hosts_size() - 1).agent_id());
      break;
    }
    FillHostSummary(query, connected, *response.add_hosts());
  }
  return response;
}

absl::StatusOr<v1::ListFindingsResponse> SqlStore::ListFindings(
    const v1::ListFindingsRequest& request) {
  const uint64_t page_size = request.page_size() != 0 ? request.page_size() : request.limit();
  Cursor cursor = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max()};
  if (!request.page_token().empty()) {
    ASSIGN_OR_RETURN(cursor, ParseFindingsToken(request.page_token()));
  }
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  const std::string sql =
      request.agent_id().empty()
          ? absl::StrCat(kFindingsSelect, kFindingsOrder)
          : absl::StrCat(kFindingsSelect,
                         "AND f.host_id = (SELECT host_id FROM hosts WHERE agent_id = ?2) ",
                         kFindingsOrder);
  ASSIGN_OR_RETURN(Statement query, reader.db().Prepare(sql));
  query.Bind(1, request.since_unix_nanos())
      .Bind(3, PageLimit(page_size))
      .Bind(4, cursor.first)
      .Bind(5, cursor.second);
  if (!request.agent_id().empty()) query.BindText(2, request.agent_id());
  v1::ListFindingsResponse response;
  ASSIGN_OR_RETURN(const std::optional<Cursor> last,
                   ReadFindings(query, reader.db(), page_size, *response.mutable_findings()));
  if (last.has_value()) response.set_next_page_token(FindingsToken(last->first, last->second));
  return response;
}

absl::StatusOr<v1::GetHostResponse> SqlStore::GetHost(const std::string& agent_id) {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  Connection& db = reader.db();
  v1::GetHostResponse response;
  int64_t host_id = 0;
  ASSIGN_OR_RETURN(const absl::flat_hash_set<int64_t> connected, ConnectedHostIds(db));
  {
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare(absl::StrCat(kHostSummarySelect, "WHERE h.agent_id = ?1")));
    ASSIGN_OR_RETURN(const bool found, query.BindText(1, agent_id).Step());
    if (!found) return absl::NotFoundError(absl::StrCat("no host with agent id ", agent_id));
    FillHostSummary(query, connected, *response.mutable_host());
    host_id = query.Int(10);
  }
  {
    KernelConfigs configs(db);
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare("SELECT e.number, e.start_ns, e.end_ns, e.facts, "
                                "e.kernel_config_sha256, e.bytes_verified, "
                                "sat_add((SELECT count(*) FROM findings f "
                                "WHERE f.epoch_id = e.epoch_id), (SELECT sat_sum(r.findings) "
                                "FROM retired_findings r WHERE r.epoch_id = e.epoch_id)) "
                                "FROM epochs e WHERE e.host_id = ?1 ORDER BY e.number"));
    query.Bind(1, host_id);
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      v1::HostEpoch& epoch = *response.add_epochs();
      epoch.set_epoch(static_cast<uint64_t>(query.Int(0)));
      epoch.set_start_unix_nanos(query.Int(1));
      epoch.set_end_unix_nanos(query.Int(2));
      epoch.set_bytes_verified(static_cast<uint64_t>(query.Int(5)));
      epoch.set_findings(static_cast<uint64_t>(query.Int(6)));
      if (query.IsNull(3)) continue;
      v1::HostFacts& facts = *epoch.mutable_facts();
      RETURN_IF_ERROR(ParseBlob(query.Blob(3), facts, db,
                                absl::StrCat("epoch ", epoch.epoch(), " of ", agent_id)));
      if (facts.kernel_config().empty()) {
        ASSIGN_OR_RETURN(std::shared_ptr<const KernelConfig> config, configs.Get(query.Text(4)));
        for (const auto& [name, value] : *config) (*facts.mutable_kernel_config())[name] = value;
      }
    }
  }
  {
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare("SELECT checker, target, consecutive_failures, failed_steps, "
                                "last_error, reported_ns, last_healthy_ns FROM checker_health "
                                "WHERE host_id = ?1 ORDER BY checker, target"));
    query.Bind(1, host_id);
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      v1::CheckerHealth& health = *response.add_checkers();
      health.set_checker(query.Text(0));
      health.set_target(query.Text(1));
      health.set_consecutive_failures(static_cast<uint32_t>(query.Int(2)));
      health.set_failed_steps(static_cast<uint64_t>(query.Int(3)));
      health.set_last_error(query.Text(4));
      health.set_reported_unix_nanos(query.Int(5));
      health.set_last_healthy_unix_nanos(query.Int(6));
    }
  }
  ASSIGN_OR_RETURN(
      Statement findings,
      db.Prepare(absl::StrCat(kFindingsSelect, "AND f.host_id = ?2 ", kFindingsOrder)));
  findings.Bind(1, 0).Bind(2, host_id).Bind(3, kMaxHostFindings);
  BindNoCursor(findings);
  RETURN_IF_ERROR(ReadFindings(findings, db, 0, *response.mutable_findings()).status());
  return response;
}

absl::StatusOr<std::vector<EpochRecord>> SqlStore::ListEpochs() {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  return ReadEpochs(reader.db(), std::nullopt);
}

absl::StatusOr<EpochChanges> SqlStore::ListEpochsChangedSince(int64_t since_unix_nanos) {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  Connection& db = reader.db();
  EpochChanges changes;
  {
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare("SELECT agent_id FROM hosts "
                                "WHERE epochs_changed_ns >= ?1 ORDER BY agent_id"));
    query.Bind(1, since_unix_nanos);
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      changes.agents.push_back(query.Text(0));
    }
  }
  ASSIGN_OR_RETURN(changes.epochs, ReadEpochs(db, since_unix_nanos));
  return changes;
}

absl::StatusOr<std::vector<EpochRecord>> SqlStore::ReadEpochs(Connection& db,
                                                              std::optional<int64_t> since) {
  // Which hosts: every one, or those changed since (by the index on
  // epochs_changed_ns).
  const std::string of_hosts =
      since ? "JOIN hosts h ON h.host_id = x.host_id AND h.epochs_changed_ns >= ?1" : "";
  std::vector<EpochRecord> epochs;
  absl::flat_hash_map<int64_t, size_t> index_of_epoch;
  KernelConfigs configs(db);
  {
    ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare(absl::StrCat("SELECT e.epoch_id, h.agent_id, e.number, e.start_ns, e.end_ns, "
                                "e.facts, e.kernel_config_sha256, e.bytes_verified, "
                                "e.blocks_verified, e.bytes_written, e.io_errors, e.observed_ns, "
                                "e.reports, greatest(e.rolled_up, 1) "
                                "FROM epochs e JOIN hosts h ON h.host_id = e.host_id ",
                                since ? "WHERE h.epochs_changed_ns >= ?1 " : "",
                                "ORDER BY h.agent_id, e.number")));
    if (since) query.Bind(1, *since);
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      index_of_epoch[query.Int(0)] = epochs.size();
      EpochRecord& epoch = epochs.emplace_back();
      epoch.agent_id = query.Text(1);
      epoch.epoch = static_cast<uint64_t>(query.Int(2));
      epoch.start_unix_nanos = query.Int(3);
      epoch.end_unix_nanos = query.Int(4);
      if (!query.IsNull(5)) {
        RETURN_IF_ERROR(ParseBlob(query.Blob(5), epoch.facts, db,
                                  absl::StrCat("epoch ", epoch.epoch, " of ", epoch.agent_id)));
      }
      if (epoch.facts.kernel_config().empty()) {
        ASSIGN_OR_RETURN(epoch.kernel_config, configs.Get(query.Text(6)));
      } else {
        // Not shared (no SHA-256 from the agent): move it out of the facts.
        auto config = std::make_shared<KernelConfig>(epoch.facts.kernel_config().begin(),
                                                     epoch.facts.kernel_config().end());
        epoch.facts.clear_kernel_config();
        epoch.kernel_config = std::move(config);
      }
      epoch.exposure = Exposure{.bytes_verified = static_cast<uint64_t>(query.Int(7)),
                                .blocks_verified = static_cast<uint64_t>(query.Int(8)),
                                .bytes_written = static_cast<uint64_t>(query.Int(9)),
                                .io_errors = static_cast<uint64_t>(query.Int(10)),
                                .observed_nanos = query.Int(11),
                                .reports = static_cast<uint64_t>(query.Int(12))};
      epoch.stands_for = static_cast<uint64_t>(query.Int(13));
    }
  }
  // Stored findings, and the counts of those retention deleted.
  ASSIGN_OR_RETURN(
      Statement kinds,
      db.Prepare(absl::StrCat("SELECT x.epoch_id, x.kind, count(*) FROM findings x ", of_hosts,
                              " GROUP BY x.epoch_id, x.kind UNION ALL "
                              "SELECT x.epoch_id, x.kind, x.findings "
                              "FROM retired_findings x ",
                              of_hosts)));
  if (since) kinds.Bind(1, *since);
  while (true) {
    ASSIGN_OR_RETURN(const bool row, kinds.Step());
    if (!row) break;
    const auto it = index_of_epoch.find(kinds.Int(0));
    if (it == index_of_epoch.end()) continue;  // its epoch was deleted
    EpochRecord& epoch = epochs[it->second];
    const auto kind = static_cast<v1::FindingKind>(kinds.Int(1));
    const auto count = static_cast<uint64_t>(kinds.Int(2));
    epoch.findings_by_kind[kind] += count;
    if (IsCorruption(kind)) epoch.corruption_findings += count;
  }
  return epochs;
}

absl::StatusOr<std::vector<HostActivity>> SqlStore::ListHostActivity() {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  Connection& db = reader.db();
  std::vector<HostActivity> hosts;
  absl::flat_hash_map<int64_t, size_t> index_of_host;
  ASSIGN_OR_RETURN(const absl::flat_hash_set<int64_t> connected, ConnectedHostIds(db));
  {
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare("SELECT host_id, agent_id, agent_version, last_seen_ns, "
                                "last_verified_ns, first_seen_ns FROM hosts "
                                "ORDER BY agent_id"));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      index_of_host[query.Int(0)] = hosts.size();
      HostActivity& host = hosts.emplace_back();
      host.agent_id = query.Text(1);
      host.agent_version = query.Text(2);
      host.connected = connected.contains(query.Int(0));
      host.last_seen_unix_nanos = query.Int(3);
      host.last_verified_unix_nanos = query.Int(4);
      host.first_seen_unix_nanos = query.Int(5);
    }
  }
  // Rows of another host than those just read cannot exist in one snapshot;
  // the lookups stay defensive all the same.
  auto host_of = [&](int64_t host_id) -> HostActivity* {
    auto it = index_of_host.find(host_id);
    return it == index_of_host.end() ? nullptr : &hosts[it->second];
  };
  {
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare("SELECT host_id, kind, count(*), max(received_ns) FROM findings "
                                "GROUP BY host_id, kind UNION ALL "
                                "SELECT host_id, kind, sat_sum(findings), max(last_received_ns) "
                                "FROM retired_findings GROUP BY host_id, kind"));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      HostActivity* host = host_of(query.Int(0));
      if (host == nullptr) continue;
      const auto kind = static_cast<v1::FindingKind>(query.Int(1));
      host->findings_by_kind[kind] += static_cast<uint64_t>(query.Int(2));
      // The newest per kind, the max taken over corruption kinds only.
      if (IsCorruption(kind)) {
        host->last_corruption_received_unix_nanos =
            std::max(host->last_corruption_received_unix_nanos, query.Int(3));
      }
    }
  }
  {
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare("SELECT host_id, sat_sum(reports_summarised), "
                                "sat_sum(reports_dropped), sat_sum(findings_dropped), "
                                "sat_sum(damaged_records_skipped) "
                                "FROM spool_losses GROUP BY host_id"));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      HostActivity* host = host_of(query.Int(0));
      if (host == nullptr) continue;
      host->spool_loss.set_reports_summarised(static_cast<uint64_t>(query.Int(1)));
      host->spool_loss.set_reports_dropped(static_cast<uint64_t>(query.Int(2)));
      host->spool_loss.set_findings_dropped(static_cast<uint64_t>(query.Int(3)));
      host->spool_loss.set_damaged_records_skipped(static_cast<uint64_t>(query.Int(4)));
    }
  }
  {
    ASSIGN_OR_RETURN(Statement query,
                     db.Prepare("SELECT host_id, checker, target, consecutive_failures, "
                                "failed_steps, last_error, reported_ns, last_healthy_ns "
                                "FROM checker_health ORDER BY host_id, checker, target"));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      HostActivity* host = host_of(query.Int(0));
      if (host == nullptr) continue;
      host->checkers.push_back({.checker = query.Text(1),
                                .target = query.Text(2),
                                .consecutive_failures = static_cast<uint32_t>(query.Int(3)),
                                .failed_steps = static_cast<uint64_t>(query.Int(4)),
                                .last_error = query.Text(5),
                                .reported_unix_nanos = query.Int(6),
                                .last_healthy_unix_nanos = query.Int(7)});
    }
  }
  {
    ASSIGN_OR_RETURN(
        Statement query,
        db.Prepare("SELECT e.host_id, e.facts FROM epochs e WHERE e.facts IS NOT NULL AND "
                   "e.number = (SELECT max(n.number) FROM epochs n WHERE n.host_id = e.host_id "
                   "AND n.facts IS NOT NULL)"));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, query.Step());
      if (!row) break;
      HostActivity* host = host_of(query.Int(0));
      if (host == nullptr) continue;
      RETURN_IF_ERROR(ParseBlob(query.Blob(1), host->facts, db,
                                absl::StrCat("facts of the newest epoch of ", host->agent_id)));
      host->facts.clear_kernel_config();
    }
  }
  return hosts;
}

}  // namespace fscanary::store
