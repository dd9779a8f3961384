#pragma once
// The collector's query API (hosts, findings, one host's facts and epochs,
// the correlation analysis), served from the store for the operator CLI.

#include "collector/store/store.h"
#include "fscanary/v1/query.grpc.pb.h"

namespace fscanary::collector {

class QueryService final : public v1::Query::Service {
 public:
  explicit QueryService(store::Store& store) : store_(store) {}

  grpc::Status ListHosts(grpc::ServerContext* context, const v1::ListHostsRequest* request,
                         v1::ListHostsResponse* response) override;
  grpc::Status ListFindings(grpc::ServerContext* context, const v1::ListFindingsRequest* request,
                            v1::ListFindingsResponse* response) override;
  grpc::Status GetHost(grpc::ServerContext* context, const v1::GetHostRequest* request,
                       v1::GetHostResponse* response) override;
  grpc::Status Analyze(grpc::ServerContext* context, const v1::AnalyzeRequest* request,
                       v1::AnalyzeResponse* response) override;

 private:
  store::Store& store_;
};

// absl::Status -> grpc::Status, keeping the code (the numbering is the same).
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace fscanary::collector
