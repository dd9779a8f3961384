#include "collector/service/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "collector/service/operator_query.h"
#include "collector/service/query_service.h"
#include "spdlog/spdlog.h"

namespace fscanary::collector {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, std::string_view what) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(std::string(what) + " file " + path + " cannot be read");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const TlsFiles& tls) {
  if (tls.cert.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      tls.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  auto cert = ReadPem(tls.cert, "TLS certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(tls.key, "TLS key");
  if (!key.ok()) return key.status();
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!tls.client_ca.empty()) {
    auto ca = ReadPem(tls.client_ca, "client CA");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::StatusOr<std::unique_ptr<CollectorServer>> CollectorServer::Start(
    const ServerOptions& options, store::Store& store, metrics::Registry& registry) {
  auto credentials = ServerCredentials(options.tls);
  if (!credentials.ok()) return credentials.status();
  std::unique_ptr<CollectorServer> server(new CollectorServer());
  server->store_ = &store;
  CredentialOptions credential_options = options.credentials;
  credential_options.mutual_tls = !options.tls.client_ca.empty();
  server->credentials_ = std::make_unique<collector::Credentials>(std::move(credential_options));
  server->stream_limits_ = std::make_unique<StreamLimits>(options.streams, registry);
  server->committer_ = std::make_unique<GroupCommitter>(store, options.max_batch, registry);
  server->ingest_ = std::make_unique<IngestService>(
      IngestService::Shared{.committer = *server->committer_,
                            .sessions = server->sessions_,
                            .credentials = *server->credentials_,
                            .stream_limits = *server->stream_limits_,
                            .limits = options.limits,
                            .max_records_in_flight = options.max_records_in_flight,
                            .hints = options.hints},
      registry);
  auto analyses = std::make_shared<AnalysisCache>(store, registry);
  server->query_ = std::make_unique<OperatorQueryService>(store, analyses, *server->credentials_);
  server->admin_query_ = std::make_unique<QueryService>(store, analyses);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, *credentials, &server->port_);
  builder.RegisterService(server->ingest_.get());
  builder.RegisterService(server->query_.get());
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             options.keepalive_min_time_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  // A connection that never completes its handshake, or holds no stream, is
  // closed on the same clocks as a silent stream.
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(options.streams.hello_timeout.count()));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(options.streams.idle_timeout.count()));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError("cannot listen on " + options.listen);
  }

  if (!options.admin_listen.empty()) {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    grpc::ServerBuilder admin;
    admin.AddListeningPort(options.admin_listen, grpc::InsecureServerCredentials(),
                           &server->admin_port_);
    admin.RegisterService(server->admin_query_.get());
    server->admin_server_ = admin.BuildAndStart();
    if (server->admin_server_ == nullptr || server->admin_port_ == 0) {
      return absl::UnavailableError("cannot listen on the admin address " + options.admin_listen);
    }
  }
  server->flusher_ = std::thread([raw = server.get(), interval = options.liveness_flush_interval] {
    raw->FlushLiveness(interval);
  });
  spdlog::info("collector listening on {} (port {})", options.listen, server->port_);
  return server;
}

CollectorServer::~CollectorServer() {
  Shutdown();
  {
    std::lock_guard lock(flush_mutex_);
    flush_stopping_ = true;
  }
  flush_wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

void CollectorServer::FlushLiveness(std::chrono::milliseconds interval) {
  std::unique_lock lock(flush_mutex_);
  while (true) {
    const bool stopping = flush_wake_.wait_for(lock, interval, [this] { return flush_stopping_; });
    lock.unlock();
    if (absl::Status touched = store_->TouchHosts(sessions_.TakeHeard()); !touched.ok()) {
      spdlog::error("writing heartbeats: {}", touched.ToString());
    }
    lock.lock();
    if (stopping) return;
  }
}

void CollectorServer::Shutdown() {
  // Streams get a moment to finish their commits and acknowledgements.
  const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(5);
  if (server_ != nullptr) server_->Shutdown(deadline);
  if (admin_server_ != nullptr) admin_server_->Shutdown(deadline);
}

void CollectorServer::Wait() {
  if (server_ != nullptr) server_->Wait();
}

}  // namespace fscanary::collector
