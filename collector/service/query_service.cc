#include "collector/service/query_service.h"

#include <algorithm>

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

uint32_t QueryService::PageSize(uint32_t requested) const {
  if (requested == 0) return limits_.default_page_size;
  return std::min(requested, limits_.max_page_size);
}

grpc::Status QueryService::ListHosts(grpc::ServerContext*, const v1::ListHostsRequest* request,
                                     v1::ListHostsResponse* response) {
  v1::ListHostsRequest page = *request;
  page.set_page_size(PageSize(request->page_size()));
  return Answer(store_.ListHosts(page), response);
}

grpc::Status QueryService::ListFindings(grpc::ServerContext*,
                                        const v1::ListFindingsRequest* request,
                                        v1::ListFindingsResponse* response) {
  if (request->limit() > 100000) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "limit above 100000");
  }
  v1::ListFindingsRequest page = *request;
  // Clients from before pagination sent only `limit`.
  page.set_page_size(PageSize(request->page_size() != 0 ? request->page_size() : request->limit()));
  return Answer(store_.ListFindings(page), response);
}

grpc::Status QueryService::GetHost(grpc::ServerContext*, const v1::GetHostRequest* request,
                                   v1::GetHostResponse* response) {
  if (request->agent_id().empty() || request->agent_id().size() > 128) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "agent_id must be 1-128 bytes");
  }
  return Answer(store_.GetHost(request->agent_id()), response);
}

grpc::Status QueryService::Analyze(grpc::ServerContext*, const v1::AnalyzeRequest* request,
                                   v1::AnalyzeResponse* response) {
  return Answer(analyses_->Analyze(*request), response);
}

grpc::Status QueryService::KnownBugs(grpc::ServerContext*, const v1::KnownBugsRequest*,
                                     v1::KnownBugsResponse* response) {
  return Answer(analyses_->KnownBugs(), response);
}

}  // namespace fscanary::collector
