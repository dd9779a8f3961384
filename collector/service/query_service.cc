#include "collector/service/query_service.h"

namespace fscanary::collector {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

namespace {

template <typename Response>
grpc::Status Answer(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status QueryService::ListHosts(grpc::ServerContext*, const v1::ListHostsRequest*,
                                     v1::ListHostsResponse* response) {
  return Answer(store_.ListHosts(), response);
}

grpc::Status QueryService::ListFindings(grpc::ServerContext*,
                                        const v1::ListFindingsRequest* request,
                                        v1::ListFindingsResponse* response) {
  if (request->limit() > 100000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "limit above 100000");
  }
  return Answer(store_.ListFindings(*request), response);
}

grpc::Status QueryService::GetHost(grpc::ServerContext*, const v1::GetHostRequest* request,
                                   v1::GetHostResponse* response) {
  if (request->agent_id().empty() || request->agent_id().size() > 128) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "agent_id must be 1-128 bytes");
  }
  return Answer(store_.GetHost(request->agent_id()), response);
}

}  // namespace fscanary::collector
