#include "collector/service/credentials.h"

#include <grpcpp/security/auth_context.h>
#include <grpcpp/server_context.h>

#include <string_view>

namespace fscanary::collector {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

std::string BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  if (it == metadata.end()) return "";
  const std::string value(it->second.data(), it->second.size());
  constexpr std::string_view kBearer = "Bearer ";
  return value.starts_with(kBearer) ? value.substr(kBearer.size()) : "";
}

// Whose token `token` is: every entry is compared, so the time taken does
// not tell how far a guess got or which holder it is.
std::optional<std::string> HolderOf(const std::map<std::string, std::string>& tokens,
                                    std::string_view token) {
  std::optional<std::string> holder;
  for (const auto& [name, expected] : tokens) {
    if (ConstantTimeEquals(token, expected) && !holder) holder = name;
  }
  return holder;
}

// The names a verified client certificate holds; empty without one.
std::set<std::string> CertificateNames(const grpc::ServerContextBase& context) {
  std::set<std::string> names;
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return names;
  for (const char* property : {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& name : auth->FindPropertyValues(property)) {
      names.emplace(name.data(), name.size());
    }
  }
  return names;
}

}  // namespace

absl::StatusOr<std::optional<std::set<std::string>>> Credentials::AgentIds(
    const grpc::ServerContextBase& context) const {
  std::optional<std::set<std::string>> ids;
  if (options_.mutual_tls) ids = CertificateNames(context);
  if (!options_.agent_tokens.empty()) {
    const std::optional<std::string> agent = HolderOf(options_.agent_tokens, BearerToken(context));
    if (!agent) return absl::UnauthenticatedError("no valid agent token");
    if (ids && !ids->contains(*agent)) {
      return absl::UnauthenticatedError("the token's agent " + *agent +
                                        " is not named by the client certificate");
    }
    ids = std::set<std::string>{*agent};
  }
  if (ids && ids->empty()) {
    return absl::UnauthenticatedError("the client certificate names no agent");
  }
  if (!ids && options_.require_auth) {
    return absl::UnauthenticatedError("neither a token nor a client certificate");
  }
  return ids;
}

absl::StatusOr<std::string> Credentials::Operator(const grpc::ServerContextBase& context) const {
  const std::string token = BearerToken(context);
  if (!token.empty()) {
    if (std::optional<std::string> name = HolderOf(options_.operator_tokens, token)) return *name;
  }
  const std::set<std::string> names = CertificateNames(context);
  for (const std::string& name : names) {
    if (options_.operator_identities.contains(name)) return name;
  }
  if (token.empty() && names.empty()) {
    return absl::UnauthenticatedError(
        "queries on this listener need an operator token or certificate (or use the "
        "collector's admin_listen)");
  }
  return absl::PermissionDeniedError("the credential presented is not an operator's");
}

}  // namespace fscanary::collector
