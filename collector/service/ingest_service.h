#pragma once
// The collector's side of the agent stream: authenticates the agent, checks
// every message, hands records to the group committer, and acknowledges each
// one only once it is durably stored.

#include <map>
#include <memory>
#include <string>

#include "collector/service/group_commit.h"
#include "collector/service/sessions.h"
#include "collector/service/validate.h"
#include "collector/store/store.h"
#include "fscanary/v1/ingest.grpc.pb.h"
#include "metrics/registry.h"

namespace fscanary::collector {

struct AuthOptions {
  // agent id -> token. Empty: no token is checked.
  std::map<std::string, std::string> tokens;
  // Refuse agents without a valid token (or, under mutual TLS, a certificate).
  bool require_auth = false;
  // Under mutual TLS, the agent id must equal the certificate's common name
  // (or a DNS subject alternative name).
  bool agent_id_from_certificate = false;
};

class IngestService final : public v1::Ingest::Service {
 public:
  IngestService(store::Store& store, GroupCommitter& committer, Sessions& sessions,
                AuthOptions auth, ValidationLimits limits, metrics::Registry& registry);

  grpc::Status Stream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::CollectorMessage, v1::AgentMessage>* stream) override;

 private:
  grpc::Status Reject(std::string_view reason, grpc::StatusCode code, const std::string& detail);
  grpc::Status Authenticate(grpc::ServerContext& context, const std::string& agent_id);

  store::Store& store_;
  GroupCommitter& committer_;
  Sessions& sessions_;
  const AuthOptions auth_;
  const ValidationLimits limits_;
  metrics::Family<metrics::Counter>* rejected_ = nullptr;
};

}  // namespace fscanary::collector
