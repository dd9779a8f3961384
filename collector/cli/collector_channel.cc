#include "collector/cli/collector_channel.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"

namespace fscanary::cli {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(std::string(what) + " " + path + " cannot be read");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const CollectorConnection& connection) {
  if (connection.ca_file.empty()) {
    if (!connection.cert_file.empty()) {
      return absl::InvalidArgumentError("--cert needs --ca: a client certificate is for TLS");
    }
    return grpc::CreateChannel(connection.address, grpc::InsecureChannelCredentials());
  }
  if (connection.cert_file.empty() != connection.key_file.empty()) {
    return absl::InvalidArgumentError("--cert and --key go together");
  }
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca = ReadFile(connection.ca_file, "CA file");
  if (!ca.ok()) return ca.status();
  options.pem_root_certs = *ca;
  if (!connection.cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadFile(connection.cert_file, "certificate file");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadFile(connection.key_file, "key file");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  return grpc::CreateChannel(connection.address, grpc::SslCredentials(options));
}

absl::Status AddToken(const CollectorConnection& connection, grpc::ClientContext& context) {
  if (connection.token_file.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> text = ReadFile(connection.token_file, "token file");
  if (!text.ok()) return text.status();
  const std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) {
    return absl::InvalidArgumentError("token file " + connection.token_file + " is empty");
  }
  context.AddMetadata("authorization", "Bearer " + token);
  return absl::OkStatus();
}

}  // namespace fscanary::cli
