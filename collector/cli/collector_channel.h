#pragma once
// The CLI's connection to a collector as its options say: plaintext or TLS
// (with a client certificate under mutual TLS), and the operator's token on
// every call.

#include <memory>

#include "absl/status/statusor.h"
#include "collector/cli/live_commands.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace fscanary::cli {

// A channel to connection.address; an error names a PEM file that cannot be
// read, or a certificate without its key.
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const CollectorConnection& connection);

// Adds "authorization: Bearer <token>" when connection.token_file is set; an
// error names a token file that cannot be read or is empty (never its
// contents).
absl::Status AddToken(const CollectorConnection& connection, grpc::ClientContext& context);

}  // namespace fscanary::cli
