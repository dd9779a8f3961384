#include "collector/service/operator_query.h"

#include "spdlog/spdlog.h"

namespace fscanary::collector {

grpc::Status OperatorQueryService::Authorize(const grpc::ServerContext& context,
                                             const char* method) const {
  const absl::StatusOr<std::string> name = credentials_.Operator(context);
  if (name.ok()) return grpc::Status::OK;
  spdlog::warn("refused query {} from {}: {}", method, context.peer(),
               std::string(name.status().message()));
  return ToGrpcStatus(name.status());
}

grpc::Status OperatorQueryService::ListHosts(grpc::ServerContext* context,
                                             const v1::ListHostsRequest* request,
                                             v1::ListHostsResponse* response) {
  if (grpc::Status refused = Authorize(*context, "ListHosts"); !refused.ok()) return refused;
  return inner_.ListHosts(context, request, response);
}

grpc::Status OperatorQueryService::ListFindings(grpc::ServerContext* context,
                                                const v1::ListFindingsRequest* request,
                                                v1::ListFindingsResponse* response) {
  if (grpc::Status refused = Authorize(*context, "ListFindings"); !refused.ok()) return refused;
  return inner_.ListFindings(context, request, response);
}

grpc::Status OperatorQueryService::GetHost(grpc::ServerContext* context,
                                           const v1::GetHostRequest* request,
                                           v1::GetHostResponse* response) {
  if (grpc::Status refused = Authorize(*context, "GetHost"); !refused.ok()) return refused;
  return inner_.GetHost(context, request, response);
}

grpc::Status OperatorQueryService::Analyze(grpc::ServerContext* context,
                                           const v1::AnalyzeRequest* request,
                                           v1::AnalyzeResponse* response) {
  if (grpc::Status refused = Authorize(*context, "Analyze"); !refused.ok()) return refused;
  return inner_.Analyze(context, request, response);
}

grpc::Status OperatorQueryService::KnownBugs(grpc::ServerContext* context,
                                             const v1::KnownBugsRequest* request,
                                             v1::KnownBugsResponse* response) {
  if (grpc::Status refused = Authorize(*context, "KnownBugs"); !refused.ok()) return refused;
  return inner_.KnownBugs(context, request, response);
}

}  // namespace fscanary::collector
