#pragma once
// The configuration of fscanary-collector (/etc/fscanary/collector.yaml): plain
// structs whose member initialisers are the documented defaults
// (docs/CONFIG.md), parsed from YAML with every problem named by key and line.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/durations.h"
#include "common/config/shared_defaults.h"

namespace fscanary::config {

struct CollectorConfig {
  // SQLite's PRAGMA synchronous. kFull makes every acknowledged record survive
  // a power loss; kNormal (under WAL) only a crash of the collector.
  enum class Synchronous : uint8_t { kNormal, kFull, kExtra };

  // Where the collector keeps its records: SQLite, embedded (one collector),
  // or PostgreSQL (several collectors may share one database).
  enum class StoreBackend : uint8_t { kSqlite, kPostgres };

  struct Postgres {
    // A libpq connection string or URI, without a password (refused).
    std::string dsn;
    // A file holding the password on its first line (mode 0600); empty:
    // libpq's own PGPASSWORD / PGPASSFILE.
    std::string password_file;
  };
  struct Store {
    StoreBackend backend = StoreBackend::kSqlite;
    // SQLite. Default (after parsing): <state_dir>/collector.db.
    std::string path;
    Synchronous synchronous = Synchronous::kFull;
    // PostgreSQL; dsn required with backend kPostgres.
    Postgres postgres;
  };
  struct Tls {
    // PEM files. `cert` and `key` (both or neither) turn TLS on; `client_ca`
    // then requires agents to present certificates it signed (mutual TLS).
    std::string cert;
    std::string key;
    std::string client_ca;
    // Certificate names (common name or DNS subject alternative name) whose
    // holders may query on `listen`; needs client_ca.
    std::vector<std::string> operator_identities;
    // Under mutual TLS a certificate always names its agent; the old key
    // `agent_id_from_certificate` is still read (true: a no-op; false: an
    // error) and not kept.
  };
  struct Metrics {
    // IPv4 address and port of the Prometheus endpoint; empty: off.
    std::string listen = "127.0.0.1:9420";
    // Distinct values each agent-derived label (kernel, scheduler, ...) may
    // take, and distinct hosts in per-host series; the rest are "other".
    uint32_t max_label_values = 1000;
    uint32_t max_hosts = 100000;
  };
  struct Keepalive {
    // Agents may ping no more often than this; not above the agents' default
    // keepalive_time (30s), or the collector hangs up on them (too_many_pings).
    Duration min_time = kCollectorDefaultKeepaliveMinTime;
    // Must stay true: agents ping between streams too.
    bool permit_without_calls = true;
  };
  struct Retention {
    // Interval reports older than this are deleted (their exposure stays on
    // the epoch); closed finding-free host epochs older than this are rolled
    // up into one aggregate per host and facts (docs/STORE.md); 0: neither.
    // Findings are never deleted.
    Duration reports = std::chrono::hours(24 * 30);
    Duration epochs = std::chrono::hours(24 * 365);
  };
  struct Limits {
    uint64_t max_message_bytes = 1 << 20;
    // Records committed in one transaction, at most.
    uint32_t max_batch = 256;
    // Ingest streams open at once, in all and per agent id (a reconnect may
    // briefly overlap the stream it replaces).
    uint32_t max_streams = 4096;
    uint32_t max_streams_per_agent = 4;
    // A stream without its Hello this long after it opened is closed.
    Duration hello_timeout = std::chrono::seconds(10);
    // A stream that carried nothing (no record, no heartbeat) this long is
    // closed; above the agents' heartbeat_interval (15s by default).
    Duration idle_timeout = std::chrono::minutes(5);
    // Records of one stream received and not yet committed; the collector
    // stops reading the stream (HTTP/2 flow control pushes back) at this many.
    uint32_t max_records_in_flight = 256;
  };

  // Adaptive verification (docs/CORRELATION.md): after a corruption, ask the
  // victim and the hosts that share a lead suspect's attributes to verify
  // faster for a while; each agent clamps the factor to its own
  // budget.max_boost.
  struct Adaptive {
    bool enabled = false;
    // New findings are looked for this often; boosts are decided again at
    // once when there are, and every decide_interval besides (so that they
    // lower when a lead is confirmed, refuted or fades).
    Duration poll_interval = std::chrono::seconds(10);
    Duration decide_interval = std::chrono::minutes(5);
    // A boost in force is sent again this often; shorter than the agents'
    // budget.boost_lapse (30m by default) or their boosts lapse in between.
    Duration renew_interval = std::chrono::minutes(5);
    // adaptive::PolicyOptions, named as there.
    double max_factor = 10;
    double max_extra_io_share = 0.2;
    uint32_t leads = 1;
    Duration victim_window = std::chrono::hours(24 * 7);
    Duration fade_after = std::chrono::hours(24 * 14);
    double confirmed_q = 0.05;
    double lead_p = 0.01;
    // Each a comma-separated list of attributes ("kernel_series,driver,scheduler"):
    // the hosts sharing all of a recent victim's values of them are boosted
    // too. Empty: none.
    std::vector<std::string> neighbourhoods;
  };

  // Ingest (and query) listener: host:port or unix:/path.
  std::string listen = kDefaultCollectorAddress;
  // Reflection, health and query without TLS or auth: loopback or unix: only;
  // empty: none.
  std::string admin_listen;
  std::string state_dir = "/var/lib/fscanary-collector";
  std::string log_level = "info";
  Store store;
  Tls tls;
  // "agent_id token" lines (LoadTokensFile); empty: no tokens checked.
  std::string tokens_file;
  // Refuse agents without a valid token or client certificate.
  bool require_auth = false;
  // "name token" lines of the operators who may query on `listen`
  // (LoadTokensFile); empty: only certificates in tls.operator_identities.
  std::string operator_tokens_file;
  // Accept a `listen` off loopback without TLS and authentication (warned
  // about at every start). Without it such a config is refused.
  bool insecure = false;
  Metrics metrics;
  Keepalive keepalive;
  Retention retention;
  // A host not heard from for this long is shown as gone.
  Duration host_expiry = std::chrono::hours(1);
  Limits limits;
  Adaptive adaptive;
};

// Parses and checks a collector config; `source_name` names the text in
// messages. Every problem found is listed in one InvalidArgument, one per line;
// never throws. store.path is filled in when left empty.
absl::StatusOr<CollectorConfig> ParseCollectorConfig(std::string_view yaml_text,
                                                     std::string_view source_name);

// Reads `path` and parses it; a file that cannot be read is an error naming it.
absl::StatusOr<CollectorConfig> LoadCollectorConfig(const std::string& path);

// The effective configuration as canonical text (every setting, defaults
// included, fixed order and forms), for logs and a config hash. Holds the
// tokens file's path, never a token.
std::string DescribeConfig(const CollectorConfig& config);

std::string_view SynchronousName(CollectorConfig::Synchronous synchronous);
std::string_view StoreBackendName(CollectorConfig::StoreBackend backend);

// Whether a libpq connection string or URI sets a password (a password
// keyword or parameter, or user:password@ in a URI). The store checks again
// with libpq's own parser when it connects.
bool DsnHoldsPassword(std::string_view dsn);

// Whether `address` (host:port or unix:/path) is reachable from this host
// only: unix:, 127.x.x.x, [::1] or localhost.
bool IsLoopback(std::string_view address);

// Whether agents must authenticate and the listener is encrypted: TLS, and
// a tokens file or mutual TLS.
bool HasTlsAndAuthentication(const CollectorConfig& config);

}  // namespace fscanary::config
