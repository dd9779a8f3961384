#pragma once
// Builds and runs the collector's gRPC servers: the ingest service, the query
// service for operators only (OperatorQueryService) and the standard health
// service on the main listener; reflection, health and the query service
// without any credential on the optional admin listener (loopback, no TLS).

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "collector/adaptive/hint_board.h"
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
  // Agent and operator credentials; mutual_tls is set from tls.client_ca.
  CredentialOptions credentials;
  StreamLimitOptions streams;
  uint32_t max_records_in_flight = 256;
  ValidationLimits limits;
  int max_message_bytes = 1 << 20;
  // Agents may ping no more often than this; their keepalive_time must not be
  // shorter, or the server hangs up with too_many_pings.
  int keepalive_min_time_ms = 10'000;
  size_t max_batch = 512;
  // Heartbeats are written to the store (last_seen) this often, all agents
  // in one transaction.
  std::chrono::milliseconds liveness_flush_interval = std::chrono::seconds(10);
  // Adaptive verification: the boosts each agent stream sends its agent as
  // Hints; null: none. Must outlive the server.
  const adaptive::HintBoard* hints = nullptr;
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
  // Writes the heartbeats gathered in sessions_ every liveness_flush_interval.
  void FlushLiveness(std::chrono::milliseconds interval);

  store::Store* store_ = nullptr;
  Sessions sessions_;
  std::unique_ptr<Credentials> credentials_;
  std::unique_ptr<StreamLimits> stream_limits_;
  std::unique_ptr<GroupCommitter> committer_;
  std::unique_ptr<IngestService> ingest_;
  std::unique_ptr<grpc::Service> query_;
  std::unique_ptr<grpc::Service> admin_query_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> admin_server_;
  int port_ = 0;
  int admin_port_ = 0;

  std::mutex flush_mutex_;
  std::condition_variable flush_wake_;
  bool flush_stopping_ = false;
  std::thread flusher_;
};

}  // namespace fscanary::collector
