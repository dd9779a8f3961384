#pragma once
// Who a caller on the collector's main listener is, by the credential it
// presents: a bearer token from the agents' or the operators' table, or,
// under mutual TLS, the names its verified certificate holds. The one place
// that reads tokens and certificates; the admin listener checks nothing.

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class ServerContextBase;
}

namespace fscanary::collector {

struct CredentialOptions {
  // agent id -> token. Empty: agents present no token.
  std::map<std::string, std::string> agent_tokens;
  // operator name -> token (operator_tokens_file).
  std::map<std::string, std::string> operator_tokens;
  // Certificate names (common name or DNS subject alternative name) of
  // operators, under mutual TLS.
  std::set<std::string> operator_identities;
  // Agents must present a certificate the client CA signed; it names the agent.
  bool mutual_tls = false;
  // Refuse agents when no credential is configured at all (config checks
  // that one is).
  bool require_auth = false;
};

// Thread-safe (immutable after construction).
class Credentials {
 public:
  explicit Credentials(CredentialOptions options) : options_(std::move(options)) {}

  // The agent ids a stream may carry records for: one for a token (the agent
  // it belongs to); the certificate's names under mutual TLS (with a token as
  // well, the token's agent must be among them); nullopt when no credential
  // is configured (any id). UNAUTHENTICATED for a missing or unknown token,
  // or a certificate that does not name the token's agent.
  absl::StatusOr<std::optional<std::set<std::string>>> AgentIds(
      const grpc::ServerContextBase& context) const;

  // The operator's name when the caller holds an operator token or an
  // operator certificate; UNAUTHENTICATED when it presents no credential at
  // all, PERMISSION_DENIED when what it presents is not an operator's (an
  // agent's token or certificate, an unknown token).
  absl::StatusOr<std::string> Operator(const grpc::ServerContextBase& context) const;

 private:
  const CredentialOptions options_;
};

}  // namespace fscanary::collector
