#include "collector/config/collector_config.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/config/checks.h"
#include "common/config/text_file_io.h"
#include "common/config/yaml_reader.h"
#include "common/status.h"

namespace fscanary::config {
namespace {

using Synchronous = CollectorConfig::Synchronous;
using StoreBackend = CollectorConfig::StoreBackend;

constexpr Duration kMinRetention = std::chrono::hours(1);
constexpr Duration kMaxRetention = std::chrono::hours(24 * 365 * 100);

absl::StatusOr<Synchronous> ParseSynchronous(std::string_view name) {
  if (name == "normal") return Synchronous::kNormal;
  if (name == "full") return Synchronous::kFull;
  if (name == "extra") return Synchronous::kExtra;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown synchronous mode '", absl::string_view(name.data(), name.size()),
                   "' (expected full, normal or extra; off would acknowledge records a crash "
                   "can lose)"));
}

absl::StatusOr<StoreBackend> ParseStoreBackend(std::string_view name) {
  if (name == "sqlite") return StoreBackend::kSqlite;
  if (name == "postgres") return StoreBackend::kPostgres;
  return absl::InvalidArgumentError(absl::StrCat("unknown store backend '",
                                                 absl::string_view(name.data(), name.size()),
                                                 "' (expected sqlite or postgres)"));
}

void ReadStore(Section& section, const std::string& state_dir, CollectorConfig::Store& store) {
  section.ReadEnum("backend", store.backend, ParseStoreBackend);
  section.Read("path", store.path);
  if (!store.path.empty()) section.Check("path", ValidateAbsolutePath(store.path));
  section.ReadEnum("synchronous", store.synchronous, ParseSynchronous);
  if (std::optional<Section> postgres = section.Child("postgres")) {
    postgres->Read("dsn", store.postgres.dsn);
    if (DsnHoldsPassword(store.postgres.dsn)) {
      // The message never repeats the connection string: it holds a secret.
      postgres->Fail("dsn",
                     "holds a password; a password never goes in this file: put it in the file "
                     "store.postgres.password_file names (mode 0600), or in PGPASSFILE or "
                     "PGPASSWORD");
    }
    postgres->Read("password_file", store.postgres.password_file);
    if (!store.postgres.password_file.empty()) {
      postgres->Check("password_file", ValidateAbsolutePath(store.postgres.password_file));
    }
  }
  if (store.backend == StoreBackend::kPostgres && store.postgres.dsn.empty()) {
    section.Fail("backend", "postgres needs store.postgres.dsn (a libpq connection string)");
  }
  if (store.path.empty()) store.path = (std::filesystem::path(state_dir) / "collector.db").string();
}

// 127.x.x.x: the host part is four dotted numbers (not a name that starts
// with "127.").
bool IsLoopbackIpv4(std::string_view address) {
  const size_t colon = address.rfind(':');
  if (!address.starts_with("127.") || colon == std::string_view::npos) return false;
  const std::string_view host = address.substr(0, colon);
  return std::count(host.begin(), host.end(), '.') == 3 &&
         host.find_first_not_of("0123456789.") == std::string_view::npos;
}

void ReadTls(Section& section, CollectorConfig::Tls& tls) {
  for (auto [key, value] : {std::pair<std::string_view, std::string*>{"cert", &tls.cert},
                            {"key", &tls.key},
                            {"client_ca", &tls.client_ca}}) {
    section.Read(key, *value);
    if (!value->empty()) section.Check(key, ValidateAbsolutePath(*value));
  }
  section.ReadStringList("operator_identities", tls.operator_identities);
  // Deprecated: under mutual TLS the certificate always names the agent.
  bool agent_id_from_certificate = true;
  section.Read("agent_id_from_certificate", agent_id_from_certificate);
  if (!agent_id_from_certificate) {
    section.Fail("agent_id_from_certificate",
                 "false is no longer supported: under mutual TLS an agent is the name its "
                 "certificate holds; remove the key");
  }
  if (tls.cert.empty() != tls.key.empty()) {
    section.Fail(tls.cert.empty() ? "key" : "cert", "cert and key go together (TLS needs both)");
  }
  if (!tls.client_ca.empty() && tls.cert.empty()) {
    section.Fail("client_ca", "needs cert and key: mutual TLS is TLS first");
  }
  if (!tls.operator_identities.empty() && tls.client_ca.empty()) {
    section.Fail("operator_identities",
                 "needs client_ca: without mutual TLS no client presents a certificate");
  }
}

void ReadKeepalive(Section& section, CollectorConfig::Keepalive& keepalive) {
  section.ReadDuration("min_time", keepalive.min_time, std::chrono::seconds(1),
                       std::chrono::hours(1));
  if (keepalive.min_time > kAgentDefaultKeepaliveTime) {
    section.Fail("min_time",
                 absl::StrCat(FormatDuration(keepalive.min_time),
                              " is longer than the agents' default collector.keepalive_time (",
                              FormatDuration(kAgentDefaultKeepaliveTime),
                              "): the collector would hang up on them with too_many_pings"));
  }
  section.Read("permit_without_calls", keepalive.permit_without_calls);
  if (!keepalive.permit_without_calls) {
    section.Fail("permit_without_calls",
                 "must be true: agents keep pinging between streams, and the collector would "
                 "hang up on them with too_many_pings");
  }
}

void ReadRetention(Section& section, Duration& value, std::string_view key) {
  section.ReadDuration(key, value, Duration(0), kMaxRetention);
  if (value > Duration(0) && value < kMinRetention) {
    section.Fail(key, absl::StrCat(FormatDuration(value), " is shorter than ",
                                   FormatDuration(kMinRetention), " (0 keeps records forever)"));
  }
}

void ReadAdaptive(Section& section, CollectorConfig::Adaptive& adaptive) {
  using std::chrono::hours;
  using std::chrono::milliseconds;
  section.Read("enabled", adaptive.enabled);
  section.ReadDuration("poll_interval", adaptive.poll_interval, milliseconds(100), hours(1));
  section.ReadDuration("decide_interval", adaptive.decide_interval, milliseconds(100), hours(24));
  section.ReadDuration("renew_interval", adaptive.renew_interval, milliseconds(100), hours(24));
  section.Read("max_factor", adaptive.max_factor, 1, 100);
  section.Read("max_extra_io_share", adaptive.max_extra_io_share, 0, 100);
  section.ReadInteger("leads", adaptive.leads, 0, 100);
  section.ReadDuration("victim_window", adaptive.victim_window, Duration(0), hours(24 * 365));
  section.ReadDuration("fade_after", adaptive.fade_after, Duration(0), hours(24 * 365));
  section.Read("confirmed_q", adaptive.confirmed_q, 1e-300, 1);
  if (adaptive.confirmed_q >= 1) section.Fail("confirmed_q", "must be below 1");
  section.Read("lead_p", adaptive.lead_p, 1e-300, 1);
  if (adaptive.lead_p >= 1) section.Fail("lead_p", "must be below 1");
  section.ReadStringList("neighbourhoods", adaptive.neighbourhoods);
  for (const std::string& neighbourhood : adaptive.neighbourhoods) {
    if (neighbourhood.empty() || neighbourhood.front() == ',' || neighbourhood.back() == ',' ||
        neighbourhood.find(",,") != std::string::npos) {
      section.Fail(
          "neighbourhoods",
          absl::StrCat("'", neighbourhood,
                       "' names an empty attribute; write attributes separated by commas"));
    }
  }
}

void ReadCollector(Section root, CollectorConfig& config) {
  root.Read("listen", config.listen);
  root.Check("listen", ValidateGrpcListen(config.listen));
  root.Read("admin_listen", config.admin_listen);
  if (!config.admin_listen.empty()) {
    root.Check("admin_listen", ValidateGrpcListen(config.admin_listen));
    if (!IsLoopback(config.admin_listen)) {
      root.Fail("admin_listen",
                absl::StrCat("'", config.admin_listen,
                             "' is not loopback: the admin listener has no TLS and no "
                             "authentication (use 127.0.0.1:<port> or unix:/path)"));
    } else if (config.admin_listen == config.listen) {
      root.Fail("admin_listen", "is the same address as listen");
    }
  }
  root.Read("state_dir", config.state_dir);
  root.Check("state_dir", ValidateAbsolutePath(config.state_dir));
  root.Read("log_level", config.log_level);
  root.Check("log_level", ValidateLogLevel(config.log_level));
  if (std::optional<Section> store = root.Child("store")) {
    ReadStore(*store, config.state_dir, config.store);
  } else {
    config.store.path = (std::filesystem::path(config.state_dir) / "collector.db").string();
  }
  if (std::optional<Section> tls = root.Child("tls")) ReadTls(*tls, config.tls);
  root.Read("tokens_file", config.tokens_file);
  if (!config.tokens_file.empty()) {
    root.Check("tokens_file", ValidateAbsolutePath(config.tokens_file));
  }
  root.Read("require_auth", config.require_auth);
  if (config.require_auth && config.tokens_file.empty() && config.tls.client_ca.empty()) {
    root.Fail("require_auth",
              "needs tokens_file or tls.client_ca: otherwise no agent could authenticate");
  }
  root.Read("operator_tokens_file", config.operator_tokens_file);
  if (!config.operator_tokens_file.empty()) {
    root.Check("operator_tokens_file", ValidateAbsolutePath(config.operator_tokens_file));
    if (config.operator_tokens_file == config.tokens_file) {
      root.Fail("operator_tokens_file", "is the agents' tokens_file: operators need their own");
    }
  }
  root.Read("insecure", config.insecure);
  if (!IsLoopback(config.listen) && !HasTlsAndAuthentication(config) && !config.insecure) {
    root.Fail("listen", absl::StrCat("'", config.listen,
                                     "' is not loopback, and the collector has no TLS and "
                                     "authentication there (set tls.cert and tls.key, and "
                                     "tokens_file or tls.client_ca; or insecure: true to accept "
                                     "agents and tokens in the clear)"));
  }
  if (std::optional<Section> metrics = root.Child("metrics")) {
    metrics->Read("listen", config.metrics.listen);
    if (!config.metrics.listen.empty()) {
      metrics->Check("listen", ValidateMetricsListen(config.metrics.listen));
    }
    metrics->ReadInteger("max_label_values", config.metrics.max_label_values, 1, 100000);
    metrics->ReadInteger("max_hosts", config.metrics.max_hosts, 1, 1000000);
  }
  if (std::optional<Section> keepalive = root.Child("keepalive")) {
    ReadKeepalive(*keepalive, config.keepalive);
  }
  if (std::optional<Section> retention = root.Child("retention")) {
    ReadRetention(*retention, config.retention.reports, "reports");
    ReadRetention(*retention, config.retention.epochs, "epochs");
  }
  root.ReadDuration("host_expiry", config.host_expiry, std::chrono::minutes(1),
                    std::chrono::hours(24 * 30));
  if (std::optional<Section> limits = root.Child("limits")) {
    limits->ReadSize("max_message_bytes", config.limits.max_message_bytes, uint64_t{64} << 10,
                     uint64_t{64} << 20);
    limits->ReadInteger("max_batch", config.limits.max_batch, 1, 65536);
    // A stream holds no thread (a callback reactor), only memory: the load
    // generator held 100,000 streams on this 2-core VM (docs/BENCHMARKS.md).
    limits->ReadInteger("max_streams", config.limits.max_streams, 1, 100000);
    limits->ReadInteger("max_streams_per_agent", config.limits.max_streams_per_agent, 1, 64);
    limits->ReadDuration("hello_timeout", config.limits.hello_timeout, std::chrono::seconds(1),
                         std::chrono::minutes(10));
    limits->ReadDuration("idle_timeout", config.limits.idle_timeout, std::chrono::seconds(1),
                         std::chrono::hours(24));
    limits->ReadInteger("max_records_in_flight", config.limits.max_records_in_flight, 1, 65536);
  }
  if (std::optional<Section> adaptive = root.Child("adaptive")) {
    ReadAdaptive(*adaptive, config.adaptive);
  }
}

}  // namespace

bool IsLoopback(std::string_view address) {
  return address.starts_with("unix:") || IsLoopbackIpv4(address) ||
         address.starts_with("localhost:") || address.starts_with("[::1]:");
}

bool HasTlsAndAuthentication(const CollectorConfig& config) {
  return !config.tls.cert.empty() && (!config.tokens_file.empty() || !config.tls.client_ca.empty());
}

std::string_view SynchronousName(Synchronous synchronous) {
  switch (synchronous) {
    case Synchronous::kNormal:
      return "normal";
    case Synchronous::kFull:
      return "full";
    case Synchronous::kExtra:
      return "extra";
  }
  return "unknown";
}

std::string_view StoreBackendName(StoreBackend backend) {
  return backend == StoreBackend::kPostgres ? "postgres" : "sqlite";
}

bool DsnHoldsPassword(std::string_view dsn) {
  // A URI's user:password@ (the part before the host, up to the first '/').
  for (const std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (!dsn.starts_with(scheme)) continue;
    const std::string_view rest = dsn.substr(scheme.size());
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    const size_t at = authority.rfind('@');
    if (at != std::string_view::npos &&
        authority.substr(0, at).find(':') != std::string_view::npos) {
      return true;
    }
  }
  // password=... as a keyword (key = value form) or a URI parameter.
  for (size_t found = dsn.find("password"); found != std::string_view::npos;
       found = dsn.find("password", found + 1)) {
    const bool starts_key = found == 0 || dsn[found - 1] == ' ' || dsn[found - 1] == '\t' ||
                            dsn[found - 1] == '?' || dsn[found - 1] == '&';
    size_t next = found + std::string_view("password").size();
    while (next < dsn.size() && (dsn[next] == ' ' || dsn[next] == '\t')) ++next;
    if (starts_key && next < dsn.size() && dsn[next] == '=') return true;
  }
  return false;
}

absl::StatusOr<CollectorConfig> ParseCollectorConfig(std::string_view yaml_text,
                                                     std::string_view source_name) {
  ASSIGN_OR_RETURN(Reader reader, Reader::Parse(yaml_text, source_name));
  CollectorConfig config;
  RETURN_IF_ERROR(Reader::Guard(source_name, [&] {
    ReadCollector(reader.Root(), config);
    return reader.Finish();
  }));
  return config;
}

absl::StatusOr<CollectorConfig> LoadCollectorConfig(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadTextFile(path));
  return ParseCollectorConfig(text, path);
}

}  // namespace fscanary::config
