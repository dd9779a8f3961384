#pragma once
// The Query service as the main listener serves it: each call is answered
// only for a caller holding an operator credential (Credentials::Operator),
// then by the QueryService it wraps. A method this wrapper does not know
// answers UNIMPLEMENTED here: a new query is closed until it is listed.

#include <memory>

#include "collector/service/credentials.h"
#include "collector/service/query_service.h"
#include "fscanary/v1/query.grpc.pb.h"

namespace fscanary::collector {

class OperatorQueryService final : public v1::Query::Service {
 public:
  // `credentials` must outlive the service.
  OperatorQueryService(store::Store& store, std::shared_ptr<AnalysisCache> analyses,
                       const Credentials& credentials)
      : inner_(store, std::move(analyses)), credentials_(credentials) {}

  grpc::Status ListHosts(grpc::ServerContext* context, const v1::ListHostsRequest* request,
                         v1::ListHostsResponse* response) override;
  grpc::Status ListFindings(grpc::ServerContext* context, const v1::ListFindingsRequest* request,
                            v1::ListFindingsResponse* response) override;
  grpc::Status GetHost(grpc::ServerContext* context, const v1::GetHostRequest* request,
                       v1::GetHostResponse* response) override;
  grpc::Status Analyze(grpc::ServerContext* context, const v1::AnalyzeRequest* request,
                       v1::AnalyzeResponse* response) override;
  grpc::Status KnownBugs(grpc::ServerContext* context, const v1::KnownBugsRequest* request,
                         v1::KnownBugsResponse* response) override;

 private:
  // OK for an operator; otherwise the refusal, logged with the peer.
  grpc::Status Authorize(const grpc::ServerContext& context, const char* method) const;

  QueryService inner_;
  const Credentials& credentials_;
};

}  // namespace fscanary::collector
