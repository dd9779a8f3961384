#include <string>

#include "absl/strings/str_join.h"
#include "collector/config/collector_config.h"
#include "common/config/canonical_text.h"

namespace fscanary::config {

std::string DescribeConfig(const CollectorConfig& config) {
  CanonicalText text("fscanary collector config, canonical form v1");
  text.String("listen", config.listen);
  text.String("admin_listen", config.admin_listen);
  text.String("state_dir", config.state_dir);
  text.Word("log_level", config.log_level);
  text.Word("store.backend", StoreBackendName(config.store.backend));
  text.String("store.path", config.store.path);
  text.Word("store.synchronous", SynchronousName(config.store.synchronous));
  // Never a password: the configuration holds none (DsnHoldsPassword).
  text.String("store.postgres.dsn", config.store.postgres.dsn);
  text.String("store.postgres.password_file", config.store.postgres.password_file);
  text.String("tls.cert", config.tls.cert);
  text.String("tls.key", config.tls.key);
  text.String("tls.client_ca", config.tls.client_ca);
  text.String("tls.operator_identities", absl::StrJoin(config.tls.operator_identities, ","));
  text.String("tokens_file", config.tokens_file);
  text.Bool("require_auth", config.require_auth);
  text.String("operator_tokens_file", config.operator_tokens_file);
  text.Bool("insecure", config.insecure);
  text.String("metrics.listen", config.metrics.listen);
  text.Integer("metrics.max_label_values", config.metrics.max_label_values);
  text.Integer("metrics.max_hosts", config.metrics.max_hosts);
  text.Time("keepalive.min_time", config.keepalive.min_time);
  text.Bool("keepalive.permit_without_calls", config.keepalive.permit_without_calls);
  text.Time("retention.reports", config.retention.reports);
  text.Time("retention.epochs", config.retention.epochs);
  text.Time("host_expiry", config.host_expiry);
  text.Size("limits.max_message_bytes", config.limits.max_message_bytes);
  text.Integer("limits.max_batch", config.limits.max_batch);
  text.Integer("limits.max_streams", config.limits.max_streams);
  text.Integer("limits.max_streams_per_agent", config.limits.max_streams_per_agent);
  text.Time("limits.hello_timeout", config.limits.hello_timeout);
  text.Time("limits.idle_timeout", config.limits.idle_timeout);
  text.Bool("adaptive.enabled", config.adaptive.enabled);
  text.Time("adaptive.poll_interval", config.adaptive.poll_interval);
  text.Time("adaptive.decide_interval", config.adaptive.decide_interval);
  text.Time("adaptive.renew_interval", config.adaptive.renew_interval);
  text.Number("adaptive.max_factor", config.adaptive.max_factor);
  text.Number("adaptive.max_extra_io_share", config.adaptive.max_extra_io_share);
  text.Integer("adaptive.leads", config.adaptive.leads);
  text.Time("adaptive.victim_window", config.adaptive.victim_window);
  text.Time("adaptive.fade_after", config.adaptive.fade_after);
  text.Number("adaptive.confirmed_q", config.adaptive.confirmed_q);
  text.Number("adaptive.lead_p", config.adaptive.lead_p);
  text.String("adaptive.neighbourhoods", absl::StrJoin(config.adaptive.neighbourhoods, ";"));
  text.Integer("limits.max_records_in_flight", config.limits.max_records_in_flight);
  return text.text();
}

}  // namespace fscanary::config
