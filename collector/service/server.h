#pragma once
// Builds and runs the collector's gRPC servers: the ingest and query services
// with the standard health service on the main listener; reflection, health
// and the query service on the optional admin listener (loopback, no TLS).

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "collector/service/ingest_service.h"
#include "collector/store/store.h"
#include "metrics/registry.h"

namespace grpc {
class Server;
}

namespace fscanary::collector {

struct TlsFiles {
  std::string cert;       // PEM server certificate chain
  std::string key;        // PEM private key
  std::string client_ca;  // PEM CAs of agent certificates: set -> mutual TLS required
};

struct ServerOptions {
  std::string listen = "127.0.0.1:7420";
  std::string admin_listen;  // empty: none
  TlsFiles tls;              // cert empty: plaintext (loopback and tests only)
  AuthOptions auth;
  ValidationLimits limits;
  int max_message_bytes = 1 << 20;
  // Agents may ping no more often than this; their keepalive_time must not be
  // shorter, or the server hangs up with too_many_pings.
  int keepalive_min_time_ms = 10'000;
  size_t max_batch = 512;
};

class CollectorServer {
 public:
  static absl::StatusOr<std::unique_ptr<CollectorServer>> Start(const ServerOptions& options,
                                                                store::Store& store,
                                                                metrics::Registry& registry);
  ~CollectorServer();

  // The bound ports (useful when listening on port 0).
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }
  // The agents connected to this process now.
  const Sessions& sessions() const { return sessions_; }
  // Stops accepting, ends streams, commits what was received.
  void Shutdown();
  void Wait();

 private:
  CollectorServer() = default;

  Sessions sessions_;
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<grpc::Service> query_;
  std::unique_ptr<grpc::Service> admin_query_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> admin_server_;
  int port_ = 0;
  int admin_port_ = 0;
};

}  // namespace fscanary::collector
